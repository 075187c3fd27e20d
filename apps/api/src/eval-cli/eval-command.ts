import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { metricsTable, type Metrics } from './metrics-table';

/** Exit codes: 0 passed (or no baseline yet), 1 the gate failed, 2 the run failed or the command was misused. */
export const EvalExit = { Passed: 0, GateFailed: 1, Error: 2 } as const;

export const evalUsage = `Usage: npm run quarry -- eval --url <base URL> (--dataset <file.jsonl> | --beir <dir>) [options]
Runs a dataset against a running Quarry, waits for the run, prints its metrics and exits 1 when the
regression gate fails (a metric more than --margin below the dataset's baseline), 2 on errors.
  --api-key <qk_…>        an admin's API key (default: $QUARRY_API_KEY)
  --dataset <file>        Quarry JSONL: {"id","query","relevant":[…]|{id: gain}} per line
  --beir <dir>            BEIR layout: <dir>/queries.jsonl and <dir>/qrels/<split>.tsv
  --split <name>          BEIR qrels split (default test)
  --name <name>           dataset name (default: the file or directory name); reused when its content is the same
  --match-by <mode>       id | name | stem | metadata (default: name for JSONL, stem for BEIR)
  --match-field <field>   metadata field with the judged id (--match-by metadata)
  --mode <mode>           hybrid | lexical | dense (default hybrid)
  --collections <ids>     comma-separated collection ids (default: all)
  --top-k <n>             results per query (default 100)
  --fusion <rrf|weighted> --rrf-k <n> --candidates <n> --lexical-weight <w> --dense-weight <w>
  --rerank                ask for reranking
  --margin <m>            gate margin (default 0.02)
  --set-baseline          make this run the dataset's baseline when it succeeds
  --timeout <seconds>     give up waiting after this long (default 3600)`;

interface Options {
  url: string;
  apiKey: string;
  files: { dataset: string } | { queries: string; qrels: string };
  name: string;
  form: Record<string, string>;
  run: { config: Record<string, unknown>; gateMargin: number };
  setBaseline: boolean;
  timeoutMs: number;
}

interface RunView {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  error: string | null;
  progress: { done: number; total: number };
  metrics: Metrics | null;
}

interface GateView {
  baselineRunId: string | null;
  margin: number;
  verdict: 'passed' | 'failed' | 'no_baseline';
  failures: { metric: string; baseline: number; candidate: number; drop: number }[];
}

export class UsageError extends Error {}

/** `quarry eval`: the CI entry point of the regression gate. Talks to the API over HTTP only. */
export async function runEvalCommand(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  let options: Options;
  try {
    options = await readOptions(argv);
  } catch (error) {
    err(error instanceof Error ? error.message : String(error));
    err(evalUsage);
    return EvalExit.Error;
  }
  const api = new ApiClient(options.url, options.apiKey);
  const datasetId = await findOrUploadDataset(api, options, err);
  const created = await api.request<RunView>('POST', '/v1/evals/runs', { datasetId, ...options.run });
  err(`[eval] run ${created.id} queued for dataset "${options.name}"`);
  const run = await waitForRun(api, created.id, options.timeoutMs, err);
  if (run.status === 'failed' || !run.metrics) {
    err(`[eval] run ${run.id} failed: ${run.error ?? 'unknown reason'}`);
    return EvalExit.Error;
  }
  const gate = await api.request<GateView>('GET', `/v1/evals/runs/${run.id}/gate?margin=${options.run.gateMargin}`);
  const baseline = gate.baselineRunId ? (await api.request<RunView>('GET', `/v1/evals/runs/${gate.baselineRunId}`)).metrics : null;
  out(metricsTable(run.metrics, baseline));
  if (gate.verdict === 'no_baseline') out('gate: no baseline for this dataset yet (use --set-baseline)');
  else out(`gate: ${gate.verdict.toUpperCase()} (margin ${gate.margin} against baseline run ${gate.baselineRunId ?? ''})`);
  for (const failure of gate.failures) {
    out(`  ${failure.metric} dropped ${failure.drop.toFixed(4)} (baseline ${failure.baseline.toFixed(4)}, run ${failure.candidate.toFixed(4)})`);
  }
  if (options.setBaseline && gate.verdict !== 'failed') {
    await api.request('PUT', `/v1/evals/datasets/${datasetId}/baseline`, { runId: run.id });
    out(`baseline: run ${run.id}`);
  }
  return gate.verdict === 'failed' ? EvalExit.GateFailed : EvalExit.Passed;
}

async function readOptions(argv: string[]): Promise<Options> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: 'string' },
      'api-key': { type: 'string' },
      dataset: { type: 'string' },
      beir: { type: 'string' },
      split: { type: 'string', default: 'test' },
      name: { type: 'string' },
      'match-by': { type: 'string' },
      'match-field': { type: 'string' },
      mode: { type: 'string', default: 'hybrid' },
      collections: { type: 'string' },
      'top-k': { type: 'string', default: '100' },
      fusion: { type: 'string' },
      'rrf-k': { type: 'string' },
      candidates: { type: 'string' },
      'lexical-weight': { type: 'string' },
      'dense-weight': { type: 'string' },
      rerank: { type: 'boolean', default: false },
      margin: { type: 'string', default: '0.02' },
      'set-baseline': { type: 'boolean', default: false },
      timeout: { type: 'string', default: '3600' },
    },
  });
  const url = values.url;
  const apiKey = values['api-key'] ?? process.env.QUARRY_API_KEY;
  if (!url) throw new UsageError('--url is required');
  if (!apiKey) throw new UsageError('--api-key (or QUARRY_API_KEY) is required');
  if (Boolean(values.dataset) === Boolean(values.beir)) throw new UsageError('give exactly one of --dataset and --beir');
  const files: Options['files'] = values.dataset
    ? { dataset: values.dataset }
    : { queries: path.join(values.beir!, 'queries.jsonl'), qrels: path.join(values.beir!, 'qrels', `${values.split}.tsv`) };
  for (const file of Object.values<string>(files)) {
    if (!(await stat(file).catch(() => null))?.isFile()) throw new UsageError(`${file} is not a file`);
  }
  const fusion: Record<string, unknown> = {};
  if (values.fusion) fusion.method = values.fusion;
  if (values['rrf-k']) fusion.rrfK = number(values['rrf-k'], '--rrf-k');
  if (values.candidates) fusion.candidates = number(values.candidates, '--candidates');
  if (values['lexical-weight'] || values['dense-weight']) {
    fusion.weights = { lexical: number(values['lexical-weight'] ?? '1', '--lexical-weight'), dense: number(values['dense-weight'] ?? '1', '--dense-weight') };
  }
  const config: Record<string, unknown> = { mode: values.mode, topK: number(values['top-k'], '--top-k'), rerank: values.rerank };
  if (values.collections) config.collectionIds = values.collections.split(',').map((id) => id.trim()).filter(Boolean);
  if (Object.keys(fusion).length > 0) config.fusion = fusion;
  const form: Record<string, string> = {};
  if (values['match-by']) form.matchBy = values['match-by'];
  if (values['match-field']) form.matchField = values['match-field'];
  return {
    url: url.replace(/\/+$/, ''),
    apiKey,
    files,
    name: values.name ?? path.basename(values.dataset ?? values.beir!.replace(/\/+$/, '')),
    form,
    run: { config, gateMargin: number(values.margin, '--margin') },
    setBaseline: values['set-baseline'],
    timeoutMs: number(values.timeout, '--timeout') * 1000,
  };
}

/** The dataset of this name when its content is the same as the files'; otherwise a new upload. */
async function findOrUploadDataset(api: ApiClient, options: Options, err: (line: string) => void): Promise<string> {
  const contents = Object.fromEntries(await Promise.all(Object.entries(options.files).map(async ([field, file]) => [field, await readFile(file, 'utf8')] as const)));
  // The same hash the API stores: the JSONL, or queries NUL qrels.
  const hash = createHash('sha256')
    .update('dataset' in options.files ? contents.dataset! : `${contents.queries!}\u0000${contents.qrels!}`)
    .digest('hex');
  const existing = await api.findDataset(options.name);
  if (existing) {
    if (existing.contentHash !== hash) throw new Error(`dataset "${options.name}" exists with other content; pass another --name`);
    err(`[eval] reusing dataset "${options.name}" (${existing.id})`);
    return existing.id;
  }
  const form = new FormData();
  form.set('name', options.name);
  for (const [field, value] of Object.entries(options.form)) form.set(field, value);
  for (const [field, text] of Object.entries(contents)) form.set(field, new Blob([text], { type: 'application/octet-stream' }), `${field}`);
  const created = await api.request<{ dataset: { id: string; queryCount: number }; unmatched: { count: number; sample: string[] } }>('POST', '/v1/evals/datasets', form);
  err(`[eval] uploaded dataset "${options.name}" (${created.dataset.queryCount} queries)`);
  if (created.unmatched.count > 0) {
    err(`[eval] warning: ${created.unmatched.count} judged ids name no document, e.g. ${created.unmatched.sample.slice(0, 5).join(', ')}`);
  }
  return created.dataset.id;
}

async function waitForRun(api: ApiClient, id: string, timeoutMs: number, err: (line: string) => void): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  let reported = -1;
  for (;;) {
    const run = await api.request<RunView>('GET', `/v1/evals/runs/${id}`);
    if (run.status === 'succeeded' || run.status === 'failed') return run;
    if (run.progress.done !== reported) {
      reported = run.progress.done;
      err(`[eval] ${run.status}: ${run.progress.done}/${run.progress.total} queries`);
    }
    if (Date.now() > deadline) throw new Error(`run ${id} did not finish within ${timeoutMs / 1000} s`);
    await sleep(1_000);
  }
}

function number(value: string, flag: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new UsageError(`${flag} must be a number`);
  return parsed;
}

class ApiClient {
  constructor(
    private readonly base: string,
    private readonly apiKey: string,
  ) {}

  async request<T>(method: string, route: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}` };
    let payload: string | FormData | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const response = await fetch(`${this.base}${route}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}), signal: AbortSignal.timeout(60_000) });
    const text = await response.text();
    if (!response.ok) {
      let detail = text;
      try {
        const error = JSON.parse(text) as { code?: string; message?: string; details?: unknown };
        detail = `${error.code ?? ''} ${error.message ?? ''}${error.details ? ` ${JSON.stringify(error.details)}` : ''}`;
      } catch {
        // not JSON: keep the text
      }
      throw new Error(`${method} ${route}: HTTP ${response.status} ${detail}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async findDataset(name: string): Promise<{ id: string; contentHash: string } | undefined> {
    let cursor: string | null = null;
    do {
      const page: { items: { id: string; name: string; contentHash: string }[]; nextCursor: string | null } = await this.request(
        'GET',
        `/v1/evals/datasets?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      const match = page.items.find((item) => item.name === name);
      if (match) return match;
      cursor = page.nextCursor;
    } while (cursor);
    return undefined;
  }
}
