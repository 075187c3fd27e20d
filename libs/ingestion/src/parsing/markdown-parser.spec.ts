import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMarkdown } from './markdown-parser';

const source = `---
title: "Operations Guide"
owner: ops
---
# Install &amp; run

Download the **binary** from [the site](https://example.com).

## Linux

- apt install quarry
- configure:
  - edit \`/etc/quarry.yml\`

\`\`\`bash
quarry serve --port 8080
\`\`\`

| flag | meaning |
|------|---------|
| -p   | port    |

### Troubleshooting

> Check the logs first.

## macOS

Use brew.
`;

describe('parseMarkdown', () => {
  it('builds heading paths and keeps code fences, tables and list items as such', async () => {
    const doc = await parseMarkdown(Buffer.from(source), 'guide.md');
    assert.equal(doc.title, 'Operations Guide');
    assert.deepEqual(
      doc.elements.map((element) => [element.kind, element.text, element.headingPath.join(' > ')]),
      [
        ['heading', 'Install & run', 'Install & run'],
        ['paragraph', 'Download the binary from the site.', 'Install & run'],
        ['heading', 'Linux', 'Install & run > Linux'],
        ['list_item', 'apt install quarry', 'Install & run > Linux'],
        ['list_item', 'configure:', 'Install & run > Linux'],
        ['list_item', 'edit /etc/quarry.yml', 'Install & run > Linux'],
        ['code', 'quarry serve --port 8080', 'Install & run > Linux'],
        ['table', 'flag | meaning\n-p | port', 'Install & run > Linux'],
        ['heading', 'Troubleshooting', 'Install & run > Linux > Troubleshooting'],
        ['paragraph', 'Check the logs first.', 'Install & run > Linux > Troubleshooting'],
        ['heading', 'macOS', 'Install & run > macOS'],
        ['paragraph', 'Use brew.', 'Install & run > macOS'],
      ],
    );
    assert.deepEqual(
      doc.elements.filter((element) => element.kind === 'heading').map((element) => element.level),
      [1, 2, 3, 2],
    );
  });

  it('keeps the text of raw HTML blocks but not their scripts', async () => {
    const doc = await parseMarkdown(Buffer.from('<div class="note">Read <b>this</b>.<script>alert(1)</script></div>\n'), 'a.md');
    assert.deepEqual(doc.elements.map((element) => element.text), ['Read this.']);
  });

  it('does not mistake front matter for a heading', async () => {
    const doc = await parseMarkdown(Buffer.from('---\ntitle: x\n---\nBody only.\n'), 'a.md');
    assert.deepEqual(doc.elements.map((element) => element.kind), ['paragraph']);
  });
});
