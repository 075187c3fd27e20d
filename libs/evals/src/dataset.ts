import { z } from 'zod';
import type { Judgments } from './metrics';

export interface EvalQuery {
  id: string;
  text: string;
}

export interface EvalDataset {
  queries: EvalQuery[];
  qrels: Map<string, Judgments>;
}

export class DatasetError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'DatasetError';
  }
}

const jsonlRecord = z
  .object({
    id: z.string().min(1).max(200),
    query: z.string().trim().min(1).max(4000),
    relevant: z.union([z.array(z.string().min(1).max(500)).min(1), z.record(z.string().min(1).max(500), z.number().int().min(0).max(10))]),
  })
  .strict();

/**
 * Quarry's own format: one JSON object per line, `{ "id", "query", "relevant": ["docname", …] | { "docname": gain } }`.
 * How a judged id names a document (id, name, stem or a metadata field) is the dataset's `matchBy`
 * (see judged-documents.ts).
 */
export function parseJsonlDataset(text: string, maxQueries = 10_000): EvalDataset {
  const queries: EvalQuery[] = [];
  const qrels = new Map<string, Judgments>();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new DatasetError('not valid JSON', index + 1);
    }
    const parsed = jsonlRecord.safeParse(value);
    if (!parsed.success) throw new DatasetError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'record'}: ${issue.message}`).join('; '), index + 1);
    if (qrels.has(parsed.data.id)) throw new DatasetError(`duplicate query id "${parsed.data.id}"`, index + 1);
    const relevant = Array.isArray(parsed.data.relevant)
      ? new Map(parsed.data.relevant.map((doc) => [doc, 1]))
      : new Map(Object.entries(parsed.data.relevant));
    queries.push({ id: parsed.data.id, text: parsed.data.query });
    qrels.set(parsed.data.id, relevant);
  });
  if (queries.length === 0) throw new DatasetError('the dataset has no queries');
  if (queries.length > maxQueries) throw new DatasetError(`at most ${maxQueries} queries per dataset`);
  return { queries, qrels };
}

/**
 * BEIR layout: `queries.jsonl` (`{"_id","text"}` per line) and a qrels TSV (`query-id corpus-id score`,
 * header line). Only queries with at least one judgment are kept, as BEIR's evaluation does.
 */
export function parseBeirDataset(queriesJsonl: string, qrelsTsv: string): EvalDataset {
  const qrels = new Map<string, Map<string, number>>();
  qrelsTsv.split(/\r?\n/).forEach((line, index) => {
    if (index === 0 || line.trim() === '') return;
    const [queryId, corpusId, score] = line.split('\t');
    const gain = Number(score);
    if (!queryId || !corpusId || !Number.isFinite(gain)) throw new DatasetError('expected "query-id<TAB>corpus-id<TAB>score"', index + 1);
    const judgments = qrels.get(queryId) ?? new Map<string, number>();
    judgments.set(corpusId, gain);
    qrels.set(queryId, judgments);
  });
  const queries: EvalQuery[] = [];
  queriesJsonl.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    let record: { _id?: unknown; text?: unknown };
    try {
      record = JSON.parse(line) as { _id?: unknown; text?: unknown };
    } catch {
      throw new DatasetError('not valid JSON', index + 1);
    }
    if (typeof record._id !== 'string' || typeof record.text !== 'string') throw new DatasetError('expected {"_id", "text"}', index + 1);
    if (qrels.has(record._id)) queries.push({ id: record._id, text: record.text });
  });
  if (queries.length === 0) throw new DatasetError('no query has a judgment');
  return { queries, qrels: new Map([...qrels].filter(([id]) => queries.some((query) => query.id === id))) };
}
