/**
 * The SciFact corpus as documents, and the chunks the pipeline would make of them. Parsing and chunking use
 * the very functions the worker runs (`parseWithBuiltIns` in its parser threads, then `chunkDocument` with
 * the collection's settings), so the raw-embedding baseline embeds exactly the texts ingestion embeds.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { chunkDocument, parseWithBuiltIns, type ChunkOptions } from '@quarry/ingestion';

export interface CorpusRecord {
  id: string;
  title: string;
  text: string;
}

export type DocumentFormat = 'md' | 'txt';

/** One file as uploaded: a name that stays the same across uploads, and its bytes. */
export interface BenchFile {
  name: string;
  type: string;
  content: Buffer;
}

export async function loadCorpus(file: string): Promise<CorpusRecord[]> {
  const raw = await readFile(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const records: CorpusRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const parsed = JSON.parse(line) as { _id?: unknown; title?: unknown; text?: unknown };
    if (typeof parsed._id !== 'string' || typeof parsed.title !== 'string' || typeof parsed.text !== 'string') {
      throw new Error(`${file}: a line is not {"_id", "title", "text"}: ${line.slice(0, 120)}`);
    }
    records.push({ id: parsed._id, title: parsed.title, text: parsed.text });
  }
  return records;
}

/** A small file: the title as heading (Markdown) or first paragraph (text), then the abstract. */
export function toFile(record: CorpusRecord, format: DocumentFormat, text = record.text): BenchFile {
  if (format === 'md') {
    return { name: `scifact-${record.id}.md`, type: 'text/markdown', content: Buffer.from(`# ${record.title}\n\n${text}\n`, 'utf8') };
  }
  return { name: `scifact-${record.id}.txt`, type: 'text/plain', content: Buffer.from(`${record.title}\n\n${text}\n`, 'utf8') };
}

/** Which documents the refresh changes: `count` of them, spread evenly over the corpus. */
export function changedIndices(total: number, count: number): number[] {
  const picked = new Set<number>();
  for (let k = 0; k < count; k++) picked.add(Math.floor((k * total) / count));
  return [...picked].sort((a, b) => a - b);
}

/** The abstract with one sentence altered (the middle one): a realistic small edit. */
export function alterOneSentence(text: string): string {
  const sentences = text.split(/(?<=[.!?])\s+/);
  const index = Math.floor(sentences.length / 2);
  const sentence = sentences[index] ?? '';
  sentences[index] = /[.!?]$/.test(sentence)
    ? `${sentence.slice(0, -1)}, as revised in this update${sentence.slice(-1)}`
    : `${sentence} (revised in this update)`;
  const altered = sentences.join(' ');
  if (altered === text) throw new Error('the altered abstract equals the original');
  return altered;
}

export interface PlannedChunks {
  /** Every chunk text, in document order, as the pipeline would embed them (before its cache dedupes). */
  texts: string[];
  /** sha256 of each text, the pipeline's cache key. */
  hashes: string[];
  /** Chunks per document, in the same order as the files. */
  perDocument: number[];
  /** cl100k tokens (the chunker's unit). */
  tokens: number;
  /** Wall time to parse and chunk in this process, for reference. */
  seconds: number;
}

export async function planChunks(files: readonly BenchFile[], options: ChunkOptions): Promise<PlannedChunks> {
  const started = performance.now();
  const texts: string[] = [];
  const perDocument: number[] = [];
  let tokens = 0;
  for (const file of files) {
    const parsed = await parseWithBuiltIns({ bytes: new Uint8Array(file.content), filename: file.name, mimeType: file.type });
    // The worker stores the parsed document as JSON between stages; chunk what that round trip gives.
    const chunks = chunkDocument(JSON.parse(JSON.stringify(parsed)) as typeof parsed, options);
    perDocument.push(chunks.length);
    for (const chunk of chunks) {
      texts.push(chunk.text);
      tokens += chunk.tokenCount;
    }
  }
  const hashes = texts.map((text) => createHash('sha256').update(text, 'utf8').digest('hex'));
  return { texts, hashes, perDocument, tokens, seconds: (performance.now() - started) / 1000 };
}
