import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { layoutElements, pageLines } from './pdf-layout';
import { parsePdf } from './pdf-parser';
import { parseWithBuiltIns } from './registry';
import { buildPdf } from './test-fixtures/pdf-fixture';
import { ParseError } from './types';

const isReason = (reason: ParseError['reason']) => (error: unknown) => error instanceof ParseError && error.reason === reason;

describe('parsePdf', () => {
  it('reads the text layer page by page, with page numbers and headings from font sizes', async () => {
    const pdf = buildPdf(
      [
        [
          { lines: ['Annual Report'], size: 24 },
          { lines: ['Revenue grew in every region and the', 'outlook remains strong.'] },
          { lines: ['Revenue'], size: 16 },
          { lines: ['Sales rose by ten percent (in constant currency).'] },
          { lines: ['- Europe led growth', '- Asia followed'] },
        ],
        [{ lines: ['Costs'], size: 16 }, { lines: ['Costs fell on page two.'] }],
      ],
      { title: 'FY Report' },
    );
    const doc = await parsePdf(pdf, 'report.pdf');
    assert.equal(doc.pageCount, 2);
    assert.equal(doc.title, 'FY Report');
    assert.deepEqual(
      doc.elements.map((element) => [element.page, element.kind, element.level, element.text, element.headingPath.join(' > ')]),
      [
        [1, 'heading', 1, 'Annual Report', 'Annual Report'],
        [1, 'paragraph', undefined, 'Revenue grew in every region and the outlook remains strong.', 'Annual Report'],
        [1, 'heading', 2, 'Revenue', 'Annual Report > Revenue'],
        [1, 'paragraph', undefined, 'Sales rose by ten percent (in constant currency).', 'Annual Report > Revenue'],
        [1, 'list_item', undefined, '- Europe led growth', 'Annual Report > Revenue'],
        [1, 'list_item', undefined, '- Asia followed', 'Annual Report > Revenue'],
        [2, 'heading', 2, 'Costs', 'Annual Report > Costs'],
        [2, 'paragraph', undefined, 'Costs fell on page two.', 'Annual Report > Costs'],
      ],
    );
  });

  it('reports a password-protected PDF as encrypted', async () => {
    const pdf = buildPdf([[{ lines: ['Board minutes'] }]], { userPassword: 'hunter2' });
    // The fixture is a real encrypted file: pdf.js opens it with the password and reads the text.
    const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
    const opened = await getDocument({ data: new Uint8Array(pdf), password: 'hunter2', verbosity: 0 }).promise;
    const content = await (await opened.getPage(1)).getTextContent();
    assert.deepEqual(content.items.flatMap((item) => ('str' in item && item.str ? [item.str] : [])), ['Board minutes']);
    await opened.destroy();

    await assert.rejects(parsePdf(pdf, 'minutes.pdf'), isReason('encrypted'));
  });

  it('reports garbage as corrupt', async () => {
    await assert.rejects(parsePdf(randomBytes(4096), 'noise.pdf'), isReason('corrupt'));
    await assert.rejects(parsePdf(Buffer.from('%PDF-1.7\nthis is not a pdf body'), 'fake.pdf'), isReason('corrupt'));
  });

  it('reports a PDF without a text layer as empty', async () => {
    const pdf = buildPdf([[], []]);
    assert.equal((await parsePdf(pdf, 'scan.pdf')).elements.length, 0);
    await assert.rejects(parseWithBuiltIns({ bytes: pdf, filename: 'scan.pdf' }), isReason('empty'));
  });
});

describe('pdf layout', () => {
  it('joins runs on one baseline, adding the space pdf.js leaves out between positioned words', () => {
    const lines = pageLines(
      [
        { text: 'Hello', x: 72, y: 700, width: 30, size: 12, endsLine: false },
        { text: 'world', x: 106, y: 700, width: 30, size: 12, endsLine: false },
        { text: 'Next', x: 72, y: 685, width: 25, size: 12, endsLine: true },
      ],
      3,
    );
    assert.deepEqual(lines, [
      { text: 'Hello world', y: 700, size: 12, page: 3 },
      { text: 'Next', y: 685, size: 12, page: 3 },
    ]);
  });

  it('breaks paragraphs at wide gaps and joins hyphenated line ends', () => {
    const elements = layoutElements([
      { text: 'A well-', y: 700, size: 10, page: 1 },
      { text: 'known fact.', y: 688, size: 10, page: 1 },
      { text: 'New paragraph.', y: 650, size: 10, page: 1 },
    ]);
    assert.deepEqual(elements.map((element) => element.text), ['A well-known fact.', 'New paragraph.']);
  });
});
