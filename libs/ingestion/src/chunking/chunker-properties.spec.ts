import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeadingTrail } from '../parsing/heading-trail';
import type { ParsedDocument, ParsedElement } from '../parsing/types';
import { canonicalText, chunkDocument, type Chunk, type ChunkOptions } from './chunker';
import { elementSpans } from './canonical-text';
import { countTokens } from './tokens';

/** mulberry32: a tiny seeded PRNG, so every run checks the same documents. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const vocabulary = [
  'the', 'index', 'tenant', 'quarry', 'vector', 'retrieval', 'chunk', 'Überprüfung', 'naïve', 'café',
  '東京', 'データ', '😀', '🎉🎉', '42', '3.14159', 'e.g.', 'Dr.', 'x86_64', 'https://example.com/a?b=c',
  '"quoted"', '(aside)', '—', '<|endoftext|>', 'supercalifragilistic', 'a\tb',
];

function generate(next: () => number): ParsedDocument {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const int = (low: number, high: number): number => low + Math.floor(next() * (high - low + 1));
  const words = (count: number): string => Array.from({ length: count }, () => pick(vocabulary)).join(' ');
  const sentence = (): string => {
    const roll = next();
    if (roll < 0.05) return words(int(80, 300)); // a run-on "sentence" with no punctuation
    if (roll < 0.08) return pick(['x', 'ab', '9', 'é']).repeat(int(200, 1200)); // one giant "word"
    return `${words(int(2, 25))}${pick(['.', '!', '?', '。', '…', '."', '.)'])}`;
  };
  const trail = new HeadingTrail();
  const elements: ParsedElement[] = [];
  let page = 1;
  const count = int(1, 40);
  for (let index = 0; index < count; index++) {
    if (next() < 0.15) page += 1;
    const roll = next();
    const base = { page, headingPath: trail.path() };
    if (roll < 0.15) {
      const level = int(1, 4);
      const text = `${words(int(1, 4))} ${index}`;
      elements.push({ kind: 'heading', text, headingPath: trail.enter(level, text), level, page });
    } else if (roll < 0.55) {
      elements.push({ ...base, kind: 'paragraph', text: Array.from({ length: int(1, 12) }, sentence).join(pick([' ', '  ', '\n'])) });
    } else if (roll < 0.65) {
      elements.push({ ...base, kind: 'list_item', text: sentence() });
    } else if (roll < 0.8) {
      const columns = int(1, 5);
      const rows = Array.from({ length: int(1, 90) }, () => Array.from({ length: columns }, () => words(int(1, 3))).join(' | '));
      elements.push({ ...base, kind: 'table', text: [Array.from({ length: columns }, (_, c) => `col ${c}`).join(' | '), ...rows].join('\n') });
    } else if (roll < 0.93) {
      const lines = Array.from({ length: int(1, 60) }, () => `${' '.repeat(int(0, 8))}${words(int(0, 12))}`);
      elements.push({ ...base, kind: 'code', text: lines.join('\n') });
    } else {
      elements.push({ ...base, kind: 'paragraph', text: pick(['', ' ', '\n\n', '\t']) });
    }
  }
  return { elements, pageCount: page };
}

function checkInvariants(doc: ParsedDocument, options: ChunkOptions, chunks: readonly Chunk[], label: string): void {
  const text = canonicalText(doc);
  const spans = elementSpans(doc).filter((span) => span.element.text.trim().length > 0);
  const covered = new Int32Array(text.length + 1);
  chunks.forEach((chunk, index) => {
    const where = `${label} chunk ${index}`;
    assert.equal(chunk.ordinal, index, where);
    assert.ok(chunk.tokenCount <= options.maxTokens, `${where}: ${chunk.tokenCount} > ${options.maxTokens}`);
    assert.equal(chunk.tokenCount, countTokens(chunk.text), where);
    assert.ok(chunk.charStart < chunk.charEnd, where);
    const slice = text.slice(chunk.charStart, chunk.charEnd);
    if (chunk.text !== slice) {
      // Only a continuation part of a table split by rows differs: its header line, a newline, the slice.
      const table = spans.find((span) => span.element.kind === 'table' && span.start < chunk.charStart && chunk.charEnd <= span.end);
      assert.ok(table, `${where}: text differs from its slice outside a table`);
      assert.equal(chunk.text, `${table.element.text.split('\n')[0]}\n${slice}`, where);
    }
    const previous = chunks[index - 1];
    if (previous) {
      assert.ok(chunk.charStart > previous.charStart && chunk.charEnd > previous.charEnd, `${where}: moves forward`);
      if (chunk.charStart < previous.charEnd) {
        assert.ok(countTokens(text.slice(chunk.charStart, previous.charEnd)) <= options.overlapTokens, `${where}: overlap within budget`);
      }
    }
    const touched = spans.filter((span) => span.start < chunk.charEnd && span.end > chunk.charStart);
    for (const span of touched) {
      assert.deepEqual(span.element.headingPath.slice(0, chunk.headingPath.length), chunk.headingPath, `${where}: heading path is a prefix`);
      const whole = span.element.kind === 'table' || span.element.kind === 'code';
      if (whole && countTokens(span.element.text) <= options.maxTokens) {
        assert.ok(chunk.charStart <= span.start && span.end <= chunk.charEnd, `${where}: a ${span.element.kind} that fits is never split`);
      }
    }
    const pages = touched.flatMap((span) => (span.element.page ? [span.element.page] : []));
    assert.equal(chunk.pageStart, pages.length ? Math.min(...pages) : undefined, where);
    assert.equal(chunk.pageEnd, pages.length ? Math.max(...pages) : undefined, where);
    covered[chunk.charStart] = (covered[chunk.charStart] ?? 0) + 1;
    covered[chunk.charEnd] = (covered[chunk.charEnd] ?? 0) - 1;
  });
  let depth = 0;
  for (let offset = 0; offset < text.length; offset++) {
    depth += covered[offset] ?? 0;
    if (depth === 0 && !/\s/.test(text[offset] ?? '')) assert.fail(`${label}: character ${offset} (${JSON.stringify(text[offset])}) is in no chunk`);
  }
}

describe('chunkDocument properties (randomized, fixed seed)', () => {
  it('respects limits, offsets, coverage, structure and determinism on 150 random documents', () => {
    const next = random(20240611);
    for (let run = 0; run < 150; run++) {
      const doc = generate(next);
      const maxTokens = 8 + Math.floor(next() * 400);
      const overlapTokens = Math.floor(next() * (maxTokens / 2 + 1));
      const options = { maxTokens, overlapTokens };
      const chunks = chunkDocument(doc, options);
      checkInvariants(doc, options, chunks, `run ${run} (max ${maxTokens}, overlap ${overlapTokens})`);
      assert.deepEqual(chunkDocument(structuredClone(doc), options), chunks, `run ${run}: deterministic`);
    }
  });
});
