import { parseWithBuiltIns } from './registry';
import { testHookParser } from './test-hooks';
import { ParseError, type ParseFailureReason, type ParseInput, type ParsedDocument } from './types';

/**
 * What a worker sends back. Errors are returned as data rather than thrown: a thrown error crosses the
 * thread boundary by structured clone, which keeps only the message and loses `reason`.
 */
export type ParseOutcome =
  | { ok: true; document: ParsedDocument }
  | { ok: false; reason: ParseFailureReason; message: string };

/** The piscina task handler: one file in, one outcome out. Runs inside a worker thread. */
export default async function parseInWorker(task: ParseInput): Promise<ParseOutcome> {
  try {
    const hook = testHookParser(task.mimeType);
    const document = hook ? await hook(task.bytes, task.filename) : await parseWithBuiltIns(task);
    return { ok: true, document };
  } catch (error) {
    if (error instanceof ParseError) return { ok: false, reason: error.reason, message: error.message };
    // Parsing is deterministic: a parser that throws on these bytes will throw again, so this is permanent.
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: 'corrupt', message: `${task.filename} could not be parsed: ${detail}` };
  }
}
