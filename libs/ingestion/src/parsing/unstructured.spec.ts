import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { UnstructuredStub, type StubReply, type StubUpload } from './test-fixtures/unstructured-stub';
import { ParseError, TransientParseError } from './types';
import { UnstructuredParser } from './unstructured';

/** Elements as the Unstructured API returns them for a two-page report (trimmed to the fields we read). */
const reportElements = [
  { type: 'Header', element_id: 'h', text: 'ACME Corp — Confidential', metadata: { page_number: 1 } },
  { type: 'Title', element_id: 't1', text: 'Quarterly  Report', metadata: { page_number: 1, category_depth: 0 } },
  { type: 'NarrativeText', element_id: 'n1', text: 'Revenue grew\nstrongly.', metadata: { page_number: 1 } },
  { type: 'Title', element_id: 't2', text: 'Regions', metadata: { page_number: 1, category_depth: 1 } },
  { type: 'ListItem', element_id: 'l1', text: 'Europe', metadata: { page_number: 1 } },
  { type: 'PageBreak', element_id: 'pb', text: '', metadata: {} },
  {
    type: 'Table',
    element_id: 'tb',
    text: 'Region Revenue Europe 10 Asia 7',
    metadata: {
      page_number: 2,
      text_as_html: '<table><thead><tr><th>Region</th><th>Revenue</th></tr></thead><tbody><tr><td>Europe</td><td>10</td></tr><tr><td>Asia</td><td>7</td></tr></tbody></table>',
    },
  },
  { type: 'UncategorizedText', element_id: 'u1', text: 'Figures in millions.', metadata: { page_number: 2 } },
  { type: 'Title', element_id: 't3', text: 'Outlook', metadata: { page_number: 2, category_depth: 0 } },
  { type: 'NarrativeText', element_id: 'n2', text: 'Stable.', metadata: { page_number: 2 } },
  { type: 'Footer', element_id: 'f', text: 'Page 2', metadata: { page_number: 2 } },
];

describe('UnstructuredParser', () => {
  let reply: (upload: StubUpload) => StubReply = () => ({ status: 200, body: reportElements });
  const stub = new UnstructuredStub((upload) => reply(upload));
  let serverURL = '';
  before(async () => {
    serverURL = await stub.start();
    // The SDK's built-in hooks print every failed request to the console; keep the test output readable.
    for (const method of ['error', 'warn', 'info'] as const) mock.method(console, method, () => undefined);
  });
  after(async () => {
    mock.restoreAll();
    await stub.stop();
  });

  const parser = (options: { strategy?: 'auto' | 'hi_res' | 'fast'; timeoutMs?: number } = {}): UnstructuredParser =>
    new UnstructuredParser({ serverURL, apiKey: 'test-key', ...options });
  const input = { bytes: Buffer.from('%PDF-1.4 pretend'), filename: 'report.pdf' };

  it('uploads the file with the strategy and key, and maps the elements', async () => {
    reply = () => ({ status: 200, body: reportElements });
    const doc = await parser({ strategy: 'hi_res' }).parse(input);

    const upload = stub.uploads.at(-1);
    assert.equal(upload?.filename, 'report.pdf');
    assert.equal(upload?.strategy, 'hi_res');
    assert.equal(upload?.apiKey, 'test-key');
    assert.equal(upload?.content.toString(), '%PDF-1.4 pretend');

    assert.equal(doc.pageCount, 2);
    assert.deepEqual(
      doc.elements.map((element) => [element.page, element.kind, element.level, element.text, element.headingPath.join(' > ')]),
      [
        [1, 'heading', 1, 'Quarterly Report', 'Quarterly Report'],
        [1, 'paragraph', undefined, 'Revenue grew strongly.', 'Quarterly Report'],
        [1, 'heading', 2, 'Regions', 'Quarterly Report > Regions'],
        [1, 'list_item', undefined, 'Europe', 'Quarterly Report > Regions'],
        [2, 'table', undefined, 'Region | Revenue\nEurope | 10\nAsia | 7', 'Quarterly Report > Regions'],
        [2, 'paragraph', undefined, 'Figures in millions.', 'Quarterly Report > Regions'],
        [2, 'heading', 1, 'Outlook', 'Outlook'],
        [2, 'paragraph', undefined, 'Stable.', 'Outlook'],
      ],
    );
  });

  it('treats rate limits and server errors as transient, without retrying on its own', async () => {
    reply = () => ({ status: 429, body: { detail: 'Too many requests' }, headers: { 'retry-after': '7' } });
    const before429 = stub.uploads.length;
    await assert.rejects(parser().parse(input), (error: unknown) => {
      assert.ok(error instanceof TransientParseError);
      assert.equal(error.permanent, false);
      assert.equal(error.status, 429);
      assert.equal(error.retryAfterMs, 7000);
      return true;
    });
    assert.equal(stub.uploads.length, before429 + 1);

    reply = () => ({ status: 503, body: { detail: 'Service unavailable' } });
    const before503 = stub.uploads.length;
    await assert.rejects(parser().parse(input), (error: unknown) => error instanceof TransientParseError && error.status === 503);
    assert.equal(stub.uploads.length, before503 + 1);
  });

  it('treats a dropped connection or no answer in time as transient', async () => {
    reply = () => 'reset';
    await assert.rejects(parser().parse(input), (error: unknown) => error instanceof TransientParseError && error.status === undefined);
    reply = () => 'hang';
    await assert.rejects(parser({ timeoutMs: 300 }).parse(input), TransientParseError);
  });

  it('fails permanently when the API rejects the file itself', async () => {
    const cases: [number, string, ParseError['reason']][] = [
      [400, 'File type application/x-foo is not supported.', 'unsupported'],
      [422, 'Error processing document: file is password protected', 'encrypted'],
      [400, 'Error processing document: EOF marker not found', 'corrupt'],
      [413, 'Request entity too large', 'too_large'],
    ];
    for (const [status, detail, reason] of cases) {
      reply = () => ({ status, body: { detail } });
      await assert.rejects(
        parser().parse(input),
        (error: unknown) => error instanceof ParseError && error.reason === reason && error.permanent,
        `${status} ${detail}`,
      );
    }
  });

  it('keeps the document retryable when the API key is rejected', async () => {
    reply = () => ({ status: 401, body: { detail: 'API key is invalid' } });
    await assert.rejects(parser().parse(input), (error: unknown) => error instanceof TransientParseError && error.status === 401);
  });

  it('reports a document without text as empty', async () => {
    reply = () => ({ status: 200, body: [{ type: 'Image', text: '', metadata: { page_number: 1 } }] });
    await assert.rejects(parser().parse(input), (error: unknown) => error instanceof ParseError && error.reason === 'empty');
  });

  it('is unreachable when the server is down: transient', async () => {
    const down = new UnstructuredStub(() => ({ status: 200, body: [] }));
    const url = await down.start();
    await down.stop();
    await assert.rejects(new UnstructuredParser({ serverURL: url }).parse(input), TransientParseError);
  });
});
