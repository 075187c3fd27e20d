import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectFormat, parseWithBuiltIns } from './registry';
import { ParseError } from './types';

const text = (value: string): Uint8Array => Buffer.from(value);
const rejectsWith = (reason: ParseError['reason']) => (error: unknown) => error instanceof ParseError && error.reason === reason;

describe('detectFormat', () => {
  it('goes by extension, then declared MIME type', () => {
    assert.equal(detectFormat('notes.md', undefined, text('# Hi')), 'markdown');
    assert.equal(detectFormat('page.HTM', undefined, text('<p>x</p>')), 'html');
    assert.equal(detectFormat('data.tsv', undefined, text('a\tb')), 'csv');
    assert.equal(detectFormat('upload', 'text/markdown; charset=utf-8', text('# Hi')), 'markdown');
    assert.equal(detectFormat('upload', 'text/csv', text('a,b')), 'csv');
    assert.equal(detectFormat('report.docx', undefined, Buffer.from('PK\x03\x04rest')), 'docx');
  });

  it('believes a PDF signature over the name and the declared type', () => {
    assert.equal(detectFormat('scan.txt', 'text/plain', text('%PDF-1.7\n...')), 'pdf');
    assert.equal(detectFormat('blob', 'application/octet-stream', text('junk\n%PDF-1.4\n')), 'pdf');
  });

  it('sniffs HTML and plain text when nothing is declared', () => {
    assert.equal(detectFormat('download', 'application/octet-stream', text('<!DOCTYPE html><html></html>')), 'html');
    assert.equal(detectFormat('README', undefined, text('just words')), 'text');
    assert.equal(detectFormat('script.py', 'text/x-python', text('print(1)')), 'text');
  });

  it('refuses binary data and formats it has no parser for', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.throws(() => detectFormat('photo.txt', 'text/plain', png), rejectsWith('unsupported'));
    assert.throws(() => detectFormat('sheet.xlsx', undefined, Buffer.from('PK\x03\x04rest')), rejectsWith('unsupported'));
    assert.throws(() => detectFormat('notes.txt', undefined, Buffer.from('ab\0cd')), rejectsWith('unsupported'));
    assert.throws(() => detectFormat('image.xyz', 'image/webp', text('RIFF')), rejectsWith('unsupported'));
  });

  it('reads UTF-16 text (which contains NUL bytes) rather than calling it binary', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hello', 'utf16le')]);
    assert.equal(detectFormat('notes.txt', undefined, utf16), 'text');
  });
});

describe('parseWithBuiltIns', () => {
  it('reports an empty upload or one without text as empty', async () => {
    await assert.rejects(parseWithBuiltIns({ bytes: new Uint8Array(0), filename: 'a.txt' }), rejectsWith('empty'));
    await assert.rejects(parseWithBuiltIns({ bytes: text('\n \n\t\n'), filename: 'a.txt' }), rejectsWith('empty'));
    await assert.rejects(parseWithBuiltIns({ bytes: text('<html><body><nav>menu</nav></body></html>'), filename: 'a.html' }), rejectsWith('empty'));
  });

  it('dispatches to the detected parser', async () => {
    const doc = await parseWithBuiltIns({ bytes: text('# Title\n\nBody'), filename: 'x', mimeType: 'text/markdown' });
    assert.deepEqual(doc.elements.map((element) => element.kind), ['heading', 'paragraph']);
  });
});
