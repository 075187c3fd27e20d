import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDocx } from './docx-parser';
import { buildDocx } from './test-fixtures/docx-fixture';
import { zip } from './test-fixtures/zip-writer';
import { ParseError } from './types';
import { assertZipWithinBudget, maxUnzippedBytes } from './zip-budget';

describe('parseDocx', () => {
  it('turns Title and Heading styles into title and heading elements, tables into one element', async () => {
    const docx = buildDocx([
      { style: 'Title', text: 'Travel Policy' },
      { text: 'Applies to all staff.' },
      { style: 'Heading 1', text: 'Booking' },
      { text: 'Book through the portal.' },
      { style: 'Heading 2', text: 'Flights' },
      { text: 'Economy under 6 hours.' },
      { table: [['Class', 'Max hours'], ['Economy', '6'], ['Business', 'any']] },
      { style: 'Heading 3', text: 'Exceptions' },
      { text: 'Ask your manager.' },
      { style: 'Heading 1', text: 'Expenses' },
      { text: 'Submit within 30 days.' },
    ]);
    const doc = await parseDocx(docx, 'policy.docx');
    assert.equal(doc.title, 'Travel Policy');
    assert.deepEqual(
      doc.elements.map((element) => [element.kind, element.text, element.headingPath.join(' > '), element.level]),
      [
        ['title', 'Travel Policy', '', undefined],
        ['paragraph', 'Applies to all staff.', '', undefined],
        ['heading', 'Booking', 'Booking', 1],
        ['paragraph', 'Book through the portal.', 'Booking', undefined],
        ['heading', 'Flights', 'Booking > Flights', 2],
        ['paragraph', 'Economy under 6 hours.', 'Booking > Flights', undefined],
        ['table', 'Class | Max hours\nEconomy | 6\nBusiness | any', 'Booking > Flights', undefined],
        ['heading', 'Exceptions', 'Booking > Flights > Exceptions', 3],
        ['paragraph', 'Ask your manager.', 'Booking > Flights > Exceptions', undefined],
        ['heading', 'Expenses', 'Expenses', 1],
        ['paragraph', 'Submit within 30 days.', 'Expenses', undefined],
      ],
    );
  });

  it('reports a damaged zip as corrupt', async () => {
    const docx = buildDocx([{ text: 'hello' }]);
    await assert.rejects(
      parseDocx(docx.subarray(0, docx.length - 40), 'cut.docx'),
      (error: unknown) => error instanceof ParseError && error.reason === 'corrupt',
    );
    await assert.rejects(
      parseDocx(Buffer.from('PK\x03\x04 not really a zip'), 'fake.docx'),
      (error: unknown) => error instanceof ParseError && error.reason === 'corrupt',
    );
  });

  it('tells a password-protected DOCX from a legacy .doc', async () => {
    // Minimal stand-ins carrying the two markers the check reads: the OLE signature and, for an
    // encrypted package, the UTF-16 stream name "EncryptedPackage" in the compound file directory.
    const ole = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
    const encrypted = Buffer.concat([ole, Buffer.alloc(504), Buffer.from('EncryptedPackage', 'utf16le'), Buffer.alloc(64)]);
    const legacy = Buffer.concat([ole, Buffer.alloc(504), Buffer.from('WordDocument', 'utf16le'), Buffer.alloc(64)]);
    await assert.rejects(parseDocx(encrypted, 'secret.docx'), (error: unknown) => error instanceof ParseError && error.reason === 'encrypted');
    await assert.rejects(parseDocx(legacy, 'old.docx'), (error: unknown) => error instanceof ParseError && error.reason === 'unsupported');
  });

  it('refuses a decompression bomb before inflating it', () => {
    // A real zip: 4 MB of zeros deflate to a few KB, as in a zip bomb (at a test-friendly scale).
    const bomb = zip([{ name: 'word/document.xml', data: new Uint8Array(4 * 1024 * 1024) }]);
    assert.ok(bomb.length < 16 * 1024);
    assert.throws(
      () => assertZipWithinBudget(bomb, 'bomb.docx', 1024 * 1024),
      (error: unknown) => error instanceof ParseError && error.reason === 'too_large',
    );
    assert.doesNotThrow(() => assertZipWithinBudget(bomb, 'bomb.docx', 8 * 1024 * 1024));
    assert.ok(maxUnzippedBytes >= 64 * 1024 * 1024);
  });

  it('checks the unzipped size before handing a DOCX to mammoth', async () => {
    // Claim a zip64-sized entry in the central directory, as a bomb over 4 GB would.
    const docx = buildDocx([{ text: 'hello' }]);
    const entry = docx.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    docx.writeUInt32LE(0xffffffff, entry + 24);
    await assert.rejects(parseDocx(docx, 'huge.docx'), (error: unknown) => error instanceof ParseError && error.reason === 'too_large');
  });
});
