import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvRowsPerElement, parseCsv } from './csv-parser';
import { ParseError } from './types';

describe('parseCsv', () => {
  it('renders each row as `column: value` under a header line', async () => {
    const doc = await parseCsv(Buffer.from('name,age,city\nAnn,31,Oslo\n"Lee, Jr",,"New\nYork"\n'), 'people.csv');
    assert.equal(doc.elements.length, 1);
    assert.equal(doc.elements[0]?.kind, 'table');
    assert.equal(doc.elements[0]?.text, 'name | age | city\nname: Ann; age: 31; city: Oslo\nname: Lee, Jr; city: New York');
  });

  it('groups rows into tables of at most 50 rows, each repeating the header', async () => {
    const rows = Array.from({ length: 120 }, (_, index) => `${index},item ${index}`);
    const doc = await parseCsv(Buffer.from(['id,label', ...rows].join('\n')), 'items.csv');
    assert.equal(csvRowsPerElement, 50);
    assert.deepEqual(doc.elements.map((element) => element.text.split('\n').length), [51, 51, 21]);
    assert.ok(doc.elements.every((element) => element.text.startsWith('id | label\n')));
    assert.equal(doc.elements[2]?.text.split('\n').at(-1), 'id: 119; label: item 119');
  });

  it('sniffs semicolon and tab delimiters and names blank or extra columns', async () => {
    const semicolon = await parseCsv(Buffer.from('a;b\n1;2\n'), 'x.csv');
    assert.equal(semicolon.elements[0]?.text, 'a | b\na: 1; b: 2');
    const tabs = await parseCsv(Buffer.from('a\t\tc\n1\t2\t3\t4\n'), 'x.tsv');
    assert.equal(tabs.elements[0]?.text, 'a | column 2 | c\na: 1; column 2: 2; c: 3; column 4: 4');
  });

  it('gives no elements for a header without rows, and fails on broken quoting', async () => {
    assert.equal((await parseCsv(Buffer.from('a,b\n'), 'x.csv')).elements.length, 0);
    await assert.rejects(
      parseCsv(Buffer.from('a,b\n"open,1\n2,3'), 'x.csv'),
      (error: unknown) => error instanceof ParseError && error.reason === 'corrupt',
    );
  });
});
