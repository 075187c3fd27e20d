import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePlainText } from './text-parser';
import { ParseError } from './types';

describe('parsePlainText', () => {
  it('splits paragraphs on blank lines and keeps line breaks inside them', async () => {
    const doc = await parsePlainText(Buffer.from('First line\r\nsecond line\r\n\r\n  \r\nNext paragraph.  \n\n\n'), 'a.txt');
    assert.deepEqual(
      doc.elements.map((element) => [element.kind, element.text]),
      [
        ['paragraph', 'First line\nsecond line'],
        ['paragraph', 'Next paragraph.'],
      ],
    );
    assert.ok(doc.elements.every((element) => element.headingPath.length === 0));
  });

  it('drops a UTF-8 byte-order mark and decodes UTF-16', async () => {
    const bom = await parsePlainText(Buffer.from('\ufeffcafé'), 'a.txt');
    assert.equal(bom.elements[0]?.text, 'café');
    const utf16 = await parsePlainText(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('naïve', 'utf16le')]), 'a.txt');
    assert.equal(utf16.elements[0]?.text, 'naïve');
  });

  it('rejects binary content as unsupported', async () => {
    await assert.rejects(
      parsePlainText(Buffer.from([0x41, 0x00, 0x42, 0x00, 0xff]), 'a.txt'),
      (error: unknown) => error instanceof ParseError && error.reason === 'unsupported' && error.permanent,
    );
  });
});
