import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ParserPool } from './parser-pool';
import { buildPdf } from './test-fixtures/pdf-fixture';
import { allocateMimeType, spinMimeType, testHooksEnvVar } from './test-hooks';
import { ParseError } from './types';

const isReason = (reason: ParseError['reason']) => (error: unknown) => error instanceof ParseError && error.reason === reason;
const markdown = { bytes: Buffer.from('# Still alive\n\nThe next parse works.'), filename: 'after.md' };

/** A spreadsheet export of the kind users upload, big enough to blow a small budget for real. */
function bigCsv(rows: number): Buffer {
  const lines = ['id,customer,city,notes'];
  for (let index = 0; index < rows; index++) lines.push(`${index},Customer ${index},City ${index % 97},"order notes for row ${index}"`);
  return Buffer.from(lines.join('\n'));
}

describe('ParserPool', () => {
  describe('normal parsing in worker threads', () => {
    const pool = new ParserPool({ maxThreads: 2, timeoutMs: 10_000, maxMemoryMb: 256 });
    after(() => pool.close());

    it('parses each built-in format off the main thread', async () => {
      const pdf = buildPdf([[{ lines: ['Heading'], size: 20 }, { lines: ['Body text.'] }], [{ lines: ['Second page.'] }]]);
      const [fromPdf, fromMarkdown] = await Promise.all([
        pool.parse({ bytes: pdf, filename: 'a.pdf', mimeType: 'application/pdf' }),
        pool.parse(markdown),
      ]);
      assert.equal(fromPdf.pageCount, 2);
      assert.deepEqual(fromPdf.elements.map((element) => [element.page, element.text]), [[1, 'Heading'], [1, 'Body text.'], [2, 'Second page.']]);
      assert.deepEqual(fromMarkdown.elements.map((element) => element.kind), ['heading', 'paragraph']);
    });

    it('reads only the bytes a view covers, not the rest of its buffer', async () => {
      const shared = Buffer.from('%PDF-1.7 junk that is not part of the upload|# From a view\n\nOnly these bytes.');
      const view = shared.subarray(shared.indexOf('|') + 1);
      const doc = await pool.parse({ bytes: view, filename: 'view.md' });
      assert.deepEqual(doc.elements.map((element) => element.text), ['From a view', 'Only these bytes.']);
    });

    it('keeps the reason of a parser failure across the thread boundary', async () => {
      await assert.rejects(pool.parse({ bytes: Buffer.from('garbage'), filename: 'x.pdf' }), isReason('corrupt'));
      await assert.rejects(pool.parse({ bytes: Buffer.from('a\0b'), filename: 'x.txt' }), isReason('unsupported'));
    });

    it('refuses inputs over the size cap without parsing them', async () => {
      const small = new ParserPool({ maxThreads: 1, maxInputBytes: 1024 });
      try {
        await assert.rejects(small.parse({ bytes: Buffer.alloc(2048, 0x61), filename: 'big.txt' }), isReason('too_large'));
      } finally {
        await small.close();
      }
    });

    it('cannot reach the test hooks unless the worker environment enables them', async () => {
      assert.equal(process.env[testHooksEnvVar], undefined);
      await assert.rejects(pool.parse({ bytes: Buffer.from('x'), filename: 'x.bin', mimeType: spinMimeType }), isReason('unsupported'));
    });
  });

  describe('budgets', () => {
    // Workers copy the environment when they start, so set it before the pools below start any.
    before(() => {
      process.env[testHooksEnvVar] = '1';
    });
    after(() => {
      delete process.env[testHooksEnvVar];
    });

    it('stops a parse that exceeds its time budget, and the pool keeps working', async () => {
      // The budget also covers starting a fresh worker for the next parse, which takes over a second on a
      // loaded machine; the spinning parse never ends, so any budget shows the cut-off.
      const pool = new ParserPool({ maxThreads: 1, timeoutMs: 3_000, maxMemoryMb: 128 });
      try {
        const started = Date.now();
        await assert.rejects(pool.parse({ bytes: Buffer.from('x'), filename: 'spin.bin', mimeType: spinMimeType }), isReason('timeout'));
        assert.ok(Date.now() - started < 15_000);
        assert.equal((await pool.parse(markdown)).elements[0]?.text, 'Still alive');
      } finally {
        await pool.close();
      }
    });

    it('counts the budget from when a worker starts, not while the file waits in line', async () => {
      const pool = new ParserPool({ maxThreads: 1, timeoutMs: 3_000, maxMemoryMb: 128 });
      try {
        const spinning = pool.parse({ bytes: Buffer.from('x'), filename: 'spin.bin', mimeType: spinMimeType });
        const waiting = pool.parse(markdown);
        await assert.rejects(spinning, isReason('timeout'));
        assert.equal((await waiting).elements.length, 2);
      } finally {
        await pool.close();
      }
    });

    it('survives a worker that runs out of memory', async () => {
      const pool = new ParserPool({ maxThreads: 1, timeoutMs: 20_000, maxMemoryMb: 64 });
      try {
        await assert.rejects(pool.parse({ bytes: Buffer.from('x'), filename: 'hog.bin', mimeType: allocateMimeType }), isReason('out_of_memory'));
        assert.equal((await pool.parse(markdown)).elements[0]?.text, 'Still alive');
      } finally {
        await pool.close();
      }
    });

    it('contains a real oversized CSV by memory and by time', async () => {
      const csv = bigCsv(500_000); // about 28 MB
      const tight = new ParserPool({ maxThreads: 1, timeoutMs: 30_000, maxMemoryMb: 48 });
      const slow = new ParserPool({ maxThreads: 1, timeoutMs: 250, maxMemoryMb: 1024 });
      try {
        await assert.rejects(tight.parse({ bytes: csv, filename: 'export.csv' }), isReason('out_of_memory'));
        await assert.rejects(slow.parse({ bytes: csv, filename: 'export.csv' }), isReason('timeout'));
        // A pool keeps working after a time-out (shown above with a budget that fits a fresh worker's start);
        // 250 ms does not fit it on a loaded machine, so only the memory-killed pool parses again here.
        assert.equal((await tight.parse(markdown)).elements.length, 2);
      } finally {
        await Promise.all([tight.close(), slow.close()]);
      }
    });
  });

  it('validates its options', () => {
    assert.throws(() => new ParserPool({ maxThreads: 0 }), RangeError);
    assert.throws(() => new ParserPool({ timeoutMs: 1.5 }), RangeError);
  });
});
