import type { FormatParser } from './types';

/**
 * Test-only parsers that break the pool's budgets on purpose (spin forever, allocate without end), so the
 * timeout and out-of-memory paths can be tested for real. They exist only inside a worker whose
 * environment sets QUARRY_PARSER_TEST_HOOKS=1 outside production; no upload can select them otherwise,
 * because detectFormat never returns them and the MIME types below mean nothing anywhere else.
 */
export const testHooksEnvVar = 'QUARRY_PARSER_TEST_HOOKS';
export const spinMimeType = 'application/x-quarry-test-spin';
export const allocateMimeType = 'application/x-quarry-test-allocate';

export function testHookParser(mimeType: string | undefined): FormatParser | undefined {
  if (process.env[testHooksEnvVar] !== '1' || process.env.NODE_ENV === 'production') return undefined;
  if (mimeType === spinMimeType) return spin;
  if (mimeType === allocateMimeType) return allocate;
  return undefined;
}

/** Blocks the worker's event loop for good: only terminating the thread ends it. */
const spin: FormatParser = () => {
  let spins = 0;
  while (spins >= 0) spins = (spins + 1) % Number.MAX_SAFE_INTEGER;
  return Promise.reject(new Error('unreachable'));
};

/** Keeps every allocation reachable until the heap limit kills the worker. */
const allocate: FormatParser = () => {
  const retained: number[][] = [];
  while (retained.length >= 0) retained.push(new Array<number>(1_000_000).fill(retained.length));
  return Promise.reject(new Error('unreachable'));
};
