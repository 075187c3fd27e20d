export interface Metrics {
  queries: number;
  ndcgAt10: number;
  recallAt5: number;
  recallAt20: number;
  recallAt100: number;
  mrrAt10: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
}

const rows: [keyof Metrics, string, 'score' | 'ms'][] = [
  ['ndcgAt10', 'nDCG@10', 'score'],
  ['recallAt5', 'recall@5', 'score'],
  ['recallAt20', 'recall@20', 'score'],
  ['recallAt100', 'recall@100', 'score'],
  ['mrrAt10', 'MRR@10', 'score'],
  ['latencyP50Ms', 'latency p50 (ms)', 'ms'],
  ['latencyP95Ms', 'latency p95 (ms)', 'ms'],
];

/** A plain-text table of a run's metrics, with the baseline's and the difference when there is one. */
export function metricsTable(run: Metrics, baseline: Metrics | null): string {
  const format = (value: number, kind: 'score' | 'ms') => (kind === 'score' ? value.toFixed(4) : value.toFixed(1));
  const signed = (value: number, kind: 'score' | 'ms') => `${value >= 0 ? '+' : ''}${format(value, kind)}`;
  const header = baseline ? ['metric', 'run', 'baseline', 'delta'] : ['metric', 'run'];
  const body = rows.map(([key, label, kind]) =>
    baseline ? [label, format(run[key], kind), format(baseline[key], kind), signed(run[key] - baseline[key], kind)] : [label, format(run[key], kind)],
  );
  const table = [header, ...body];
  const widths = header.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map(line), `(${run.queries} queries)`].join('\n');
}
