import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHtml } from './html-parser';

const page = `<!doctype html>
<html><head><title>Quarry docs</title><style>p { color: red }</style><script>track()</script></head>
<body>
  <header><a href="/">Logo</a><h1>Site name</h1></header>
  <nav><ul><li>Home</li><li>Docs</li></ul></nav>
  <main>
    <article>
      <header><h1>Backups</h1></header>
      <p>Backups run <em>nightly</em>.<br>They are encrypted.</p>
      <h2>Restore</h2>
      <ol><li>Stop the API.</li><li><p>Run the restore</p><ul><li>with <code>--verify</code></li></ul></li></ol>
      <pre><code>quarry restore \\
  --from s3://bucket/latest</code></pre>
      <table><thead><tr><th>Tier</th><th>Retention</th></tr></thead>
        <tbody><tr><td>Free</td><td>7 days</td></tr><tr><td>Pro</td><td>90 | 180 days</td></tr></tbody></table>
      <h3>Caveats</h3><p>Restores replace all data.</p>
      <form><label>Subscribe <input name="email"></label></form>
      <aside>Related: Snapshots</aside>
      <h2>Schedule</h2><p>Edit <code>backup.cron</code>.</p>
      <noscript>Enable JavaScript</noscript>
    </article>
  </main>
  <footer>© Quarry</footer>
</body></html>`;

describe('parseHtml', () => {
  it('keeps only the main content, with heading paths, lists, code and tables', async () => {
    const doc = await parseHtml(Buffer.from(page), 'backups.html');
    assert.equal(doc.title, 'Quarry docs');
    assert.deepEqual(
      doc.elements.map((element) => [element.kind, element.text, element.headingPath.join(' > ')]),
      [
        ['heading', 'Backups', 'Backups'],
        ['paragraph', 'Backups run nightly.\nThey are encrypted.', 'Backups'],
        ['heading', 'Restore', 'Backups > Restore'],
        ['list_item', 'Stop the API.', 'Backups > Restore'],
        ['list_item', 'Run the restore', 'Backups > Restore'],
        ['list_item', 'with --verify', 'Backups > Restore'],
        ['code', 'quarry restore \\\n  --from s3://bucket/latest', 'Backups > Restore'],
        ['table', 'Tier | Retention\nFree | 7 days\nPro | 90 \\| 180 days', 'Backups > Restore'],
        ['heading', 'Caveats', 'Backups > Restore > Caveats'],
        ['paragraph', 'Restores replace all data.', 'Backups > Restore > Caveats'],
        ['heading', 'Schedule', 'Backups > Schedule'],
        ['paragraph', 'Edit backup.cron.', 'Backups > Schedule'],
      ],
    );
  });

  it('falls back to the body without page-level chrome when there is no main or article', async () => {
    const html = '<body><header>Top bar</header><div>Intro <span>text</span></div><h2>Part</h2><div><div>Nested</div> tail</div><footer>Bottom</footer></body>';
    const doc = await parseHtml(Buffer.from(html), 'plain.html');
    assert.deepEqual(
      doc.elements.map((element) => [element.kind, element.text, element.headingPath]),
      [
        ['paragraph', 'Intro text', []],
        ['heading', 'Part', ['Part']],
        ['paragraph', 'Nested', ['Part']],
        ['paragraph', 'tail', ['Part']],
      ],
    );
  });

  it('decodes the charset the page declares', async () => {
    const latin1 = Buffer.from('<html><head><meta charset="iso-8859-1"></head><body><p>Gr\xfc\xdfe</p></body></html>', 'latin1');
    const doc = await parseHtml(latin1, 'latin1.html');
    assert.equal(doc.elements[0]?.text, 'Grüße');
  });
});
