import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ParsedDocument, ParsedElement } from '../parsing/types';
import { canonicalText, chunkDocument, type Chunk } from './chunker';
import { countTokens } from './tokens';

const heading = (path: string[], page?: number): ParsedElement => ({
  kind: 'heading',
  text: path.at(-1) ?? '',
  headingPath: path,
  level: path.length,
  ...(page ? { page } : {}),
});
const paragraph = (text: string, path: string[], page?: number): ParsedElement => ({ kind: 'paragraph', text, headingPath: path, ...(page ? { page } : {}) });

/** Distinct, deterministic sentences, so any slice of text is recognisable. */
function sentences(count: number, tag: string): string {
  return Array.from({ length: count }, (_, index) => `Sentence ${index} of ${tag} talks about item ${index * 7} in some detail.`).join(' ');
}

function assertSlices(doc: ParsedDocument, chunks: readonly Chunk[]): void {
  const text = canonicalText(doc);
  for (const chunk of chunks) assert.equal(chunk.text, text.slice(chunk.charStart, chunk.charEnd), `chunk ${chunk.ordinal}`);
}

describe('chunkDocument', () => {
  it('keeps a small document in one chunk equal to its canonical text', () => {
    const doc: ParsedDocument = { elements: [heading(['Intro']), paragraph('Short text.', ['Intro'])] };
    const chunks = chunkDocument(doc, { maxTokens: 100, overlapTokens: 10 });
    assert.deepEqual(chunks, [
      { ordinal: 0, text: 'Intro\n\nShort text.', tokenCount: countTokens('Intro\n\nShort text.'), headingPath: ['Intro'], charStart: 0, charEnd: 18 },
    ]);
    assert.equal(canonicalText(doc), 'Intro\n\nShort text.');
  });

  it('merges small sections with the same parent, but not sections under different parents', () => {
    const guide = [
      heading(['Guide']),
      heading(['Guide', 'Install']),
      paragraph('Run the installer.', ['Guide', 'Install']),
      heading(['Guide', 'Upgrade']),
      paragraph('Run the upgrader.', ['Guide', 'Upgrade']),
      heading(['Guide', 'Upgrade', 'Rollback']),
      paragraph('Restore the backup.', ['Guide', 'Upgrade', 'Rollback']),
    ];
    const reference = [heading(['Reference']), paragraph('See the API.', ['Reference'])];
    const doc: ParsedDocument = { elements: [...guide, ...reference] };
    const guideTokens = countTokens(canonicalText({ elements: guide }));

    // Everything fits: Install, Upgrade and Rollback join Guide, and the top-level siblings join too.
    const roomy = chunkDocument(doc, { maxTokens: 200, overlapTokens: 0 });
    assert.deepEqual(roomy.map((chunk) => [chunk.headingPath, chunk.text]), [[[], canonicalText(doc)]]);

    // Room for the guide only: its sections merge under ['Guide'], Reference stays apart.
    const guideOnly = chunkDocument(doc, { maxTokens: guideTokens, overlapTokens: 0 });
    assert.deepEqual(guideOnly.map((chunk) => chunk.headingPath), [['Guide'], ['Reference']]);
    assert.equal(guideOnly[0]?.text, canonicalText({ elements: guide }));
    assertSlices(doc, guideOnly);

    // Upgrade + Rollback form a group under ['Guide', 'Upgrade']; Reference is not its sibling, so it is not
    // merged even though all of it would fit.
    const tail = { elements: [...guide.slice(3), ...reference] };
    const separate = chunkDocument(tail, { maxTokens: 200, overlapTokens: 0 });
    assert.deepEqual(
      separate.map((chunk) => chunk.headingPath),
      [['Guide', 'Upgrade'], ['Reference']],
    );
  });

  it('splits a long section within the limit, with overlap, at sentence boundaries', () => {
    const path = ['Long'];
    const doc: ParsedDocument = { elements: [heading(path), paragraph(sentences(40, 'the long section'), path)] };
    const chunks = chunkDocument(doc, { maxTokens: 120, overlapTokens: 30 });
    const text = canonicalText(doc);
    assert.ok(chunks.length >= 4);
    assertSlices(doc, chunks);
    for (const chunk of chunks) {
      assert.ok(chunk.tokenCount <= 120);
      assert.equal(chunk.tokenCount, countTokens(chunk.text));
      assert.deepEqual(chunk.headingPath, path);
      assert.match(chunk.text, /\.$/, 'ends at a sentence end');
    }
    for (let index = 1; index < chunks.length; index++) {
      const [previous, current] = [chunks[index - 1], chunks[index]];
      assert.ok(previous && current);
      assert.ok(current.charStart < previous.charEnd, `chunk ${index} overlaps the one before`);
      assert.ok(current.charStart > previous.charStart);
      const overlap = text.slice(current.charStart, previous.charEnd);
      assert.ok(countTokens(overlap) <= 30, `overlap of ${countTokens(overlap)} tokens`);
      assert.match(overlap, /^Sentence \d+/, 'overlap starts at a sentence');
    }
    assert.equal(chunks.at(-1)?.charEnd, text.length);
  });

  it('cuts at paragraph boundaries when that keeps chunks at least half full', () => {
    const path = ['Paragraphs'];
    const paragraphs = Array.from({ length: 6 }, (_, index) => paragraph(sentences(3, `paragraph ${index}`), path));
    const doc: ParsedDocument = { elements: paragraphs };
    const chunks = chunkDocument(doc, { maxTokens: 110, overlapTokens: 0 });
    const ends = new Set(canonicalTextEnds(doc));
    assert.ok(chunks.length > 1);
    for (const chunk of chunks) assert.ok(ends.has(chunk.charEnd), `chunk ${chunk.ordinal} ends at an element end`);
    assert.equal(chunks.map((chunk) => chunk.text).join('\n\n'), canonicalText(doc));
  });

  it('cuts a sentence without punctuation at word boundaries', () => {
    const words = Array.from({ length: 400 }, (_, index) => `word${index}`).join(' ');
    const doc: ParsedDocument = { elements: [paragraph(words, [])] };
    const chunks = chunkDocument(doc, { maxTokens: 50, overlapTokens: 10 });
    assertSlices(doc, chunks);
    assert.ok(chunks.every((chunk) => chunk.tokenCount <= 50));
    assert.ok(chunks.every((chunk) => /^word\d+$/.test(chunk.text.split(' ')[0] ?? '') && /word\d+$/.test(chunk.text)));
    assert.ok(chunks.slice(1).every((chunk, index) => chunk.charStart < (chunks[index]?.charEnd ?? 0)));
  });

  it('never splits a table that fits, even when that starts a new chunk', () => {
    const path = ['Data'];
    const table: ParsedElement = {
      kind: 'table',
      text: ['Name | Score', ...Array.from({ length: 12 }, (_, index) => `Player ${index} | ${index * 3}`)].join('\n'),
      headingPath: path,
    };
    const doc: ParsedDocument = { elements: [heading(path), paragraph(sentences(5, 'preface'), path), table, paragraph('After.', path)] };
    const chunks = chunkDocument(doc, { maxTokens: 120, overlapTokens: 20 });
    assert.ok(chunks.length > 1);
    assert.ok(chunks.some((chunk) => chunk.text.includes(table.text)));
    assert.ok(chunks.every((chunk) => !chunk.text.includes('Player 5 |') || chunk.text.includes(table.text)));
    assertSlices(doc, chunks);
  });

  it('splits an oversized table by rows, repeating the header line', () => {
    const header = 'Region | Quarter | Revenue';
    const rows = Array.from({ length: 80 }, (_, index) => `Region ${index % 7} | Q${(index % 4) + 1} | ${1000 + index * 13}`);
    const table: ParsedElement = { kind: 'table', text: [header, ...rows].join('\n'), headingPath: ['Sales'], page: 4 };
    const doc: ParsedDocument = { elements: [heading(['Sales'], 4), table] };
    const text = canonicalText(doc);
    const chunks = chunkDocument(doc, { maxTokens: 100, overlapTokens: 20 });
    const tableChunks = chunks.filter((chunk) => chunk.text.includes('Region 0'));
    assert.ok(tableChunks.length > 3);
    const seenRows: string[] = [];
    for (const chunk of tableChunks) {
      assert.ok(chunk.tokenCount <= 100);
      const lines = chunk.text.split('\n');
      assert.equal(lines[0], header);
      const slice = text.slice(chunk.charStart, chunk.charEnd);
      // The first part is a plain slice; continuation parts are the header, a newline, then the slice.
      assert.ok(chunk.text === slice || chunk.text === `${header}\n${slice}`);
      seenRows.push(...lines.slice(1));
      assert.equal(chunk.pageStart, 4);
    }
    assert.deepEqual(seenRows, rows, 'every row exactly once, in order');
  });

  it('keeps code whole when it fits and splits oversized code at line ends', () => {
    const small: ParsedElement = { kind: 'code', text: 'function add(a, b) {\n  return a + b;\n}', headingPath: [] };
    const lines = Array.from({ length: 60 }, (_, index) => `  const value${index} = compute(${index}, "label ${index}");`);
    const big: ParsedElement = { kind: 'code', text: ['function main() {', ...lines, '}'].join('\n'), headingPath: [] };
    const doc: ParsedDocument = { elements: [small, paragraph(sentences(2, 'between'), []), big] };
    const chunks = chunkDocument(doc, { maxTokens: 80, overlapTokens: 10 });
    assertSlices(doc, chunks);
    assert.ok(chunks.some((chunk) => chunk.text.includes(small.text)));
    const codeChunks = chunks.filter((chunk) => chunk.text.includes('compute('));
    assert.ok(codeChunks.length > 3);
    for (const chunk of codeChunks) {
      assert.ok(chunk.tokenCount <= 80);
      const codeLines = chunk.text.split('\n').filter((line) => line.includes('compute('));
      for (const line of codeLines) assert.ok(lines.includes(line), `whole line: ${line}`);
    }
  });

  it('reports the pages a chunk spans', () => {
    const path = ['Report'];
    const doc: ParsedDocument = {
      elements: [heading(path, 1), paragraph('Page one text.', path, 1), paragraph('Page two text.', path, 2), paragraph('Page three.', path, 3)],
      pageCount: 3,
    };
    const [only] = chunkDocument(doc, { maxTokens: 200, overlapTokens: 0 });
    assert.equal(only?.pageStart, 1);
    assert.equal(only?.pageEnd, 3);
    const noPages = chunkDocument({ elements: [paragraph('No pages.', [])] }, { maxTokens: 50, overlapTokens: 0 });
    assert.equal(noPages[0]?.pageStart, undefined);
  });

  it('is deterministic and ignores blank elements', () => {
    const doc: ParsedDocument = {
      elements: [paragraph(sentences(30, 'first'), ['A']), paragraph('   ', ['A']), paragraph(sentences(30, 'second'), ['B'])],
    };
    const first = chunkDocument(doc, { maxTokens: 64, overlapTokens: 16 });
    const second = chunkDocument(structuredClone(doc), { maxTokens: 64, overlapTokens: 16 });
    assert.deepEqual(second, first);
    assert.ok(first.every((chunk) => chunk.text.trim() === chunk.text && chunk.text.length > 0));
  });

  it('treats special-token strings in documents as text', () => {
    const doc: ParsedDocument = { elements: [paragraph('Prompt injection <|endoftext|> attempt.', [])] };
    const [chunk] = chunkDocument(doc, { maxTokens: 50, overlapTokens: 0 });
    assert.equal(chunk?.text, 'Prompt injection <|endoftext|> attempt.');
  });

  it('rejects limits it cannot honour', () => {
    const doc: ParsedDocument = { elements: [paragraph('x', [])] };
    assert.throws(() => chunkDocument(doc, { maxTokens: 4, overlapTokens: 0 }), RangeError);
    assert.throws(() => chunkDocument(doc, { maxTokens: 100, overlapTokens: 51 }), RangeError);
    assert.throws(() => chunkDocument(doc, { maxTokens: 100.5, overlapTokens: 0 }), RangeError);
    assert.deepEqual(chunkDocument({ elements: [] }, { maxTokens: 100, overlapTokens: 0 }), []);
  });
});

function canonicalTextEnds(doc: ParsedDocument): number[] {
  let offset = 0;
  return doc.elements.map((element) => {
    const end = offset + element.text.length;
    offset = end + 2;
    return end;
  });
}
