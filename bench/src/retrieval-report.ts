/** The short markdown summary of a retrieval run (bench/results/retrieval-scifact.md). */
import type { RetrievalBenchResult, RunResult } from './retrieval-scifact';

function row(label: string, run: RunResult): string {
  const { server, roundTrip } = run.latencyMs;
  return (
    `| ${label} | ${run.ndcgAt10.toFixed(3)} | ${run.recallAt5.toFixed(3)} | ${run.recallAt20.toFixed(3)} | ${run.recallAt100.toFixed(3)} | ` +
    `${run.mrrAt10.toFixed(3)} | ${server.p50} / ${server.p95} | ${roundTrip.p50} / ${roundTrip.p95} |`
  );
}

export function renderRetrievalMarkdown(result: RetrievalBenchResult): string {
  const machine = result.settings.machine as Record<string, string | number>;
  const postgres = result.settings.postgres as Record<string, string>;
  const chunking = result.settings.chunking as { maxTokens: number; overlapTokens: number };
  const bm25 = result.settings.bm25 as { k1: number; b: number };
  const hybridFusion = result.checks.hybridFusion as { scoresMatch: boolean };
  const { dataset, ingest } = result;
  const parts = (run: RunResult): string => {
    const p = run.latencyMs.parts;
    return p ? `embed ${p.embed}, lexical ${p.lexical}, dense ${p.dense}, fuse ${p.fuse}${p.rerank ? `, rerank ${p.rerank}` : ''}` : '';
  };
  const lines = [
    `# Retrieval benchmark: BEIR SciFact${result.quick ? ' (QUICK RUN: reduced sizes, not the benchmark; scores are not comparable with the anchors)' : ''}`,
    '',
    `${result.date}; ${dataset.queries} of ${dataset.fullQueries} test queries (${dataset.judgments} judgments), ${dataset.corpusDocuments} of ${dataset.fullCorpus} abstracts ` +
      `in ${ingest.chunks} chunks (chunking ${chunking.maxTokens}/${chunking.overlapTokens} tokens), topK ${String(result.settings.topK)}; ` +
      `${String(machine.cpuCount)} CPUs (${String(machine.cpuModel)}), Node ${String(machine.node)}, PostgreSQL ${postgres.server_version ?? '?'} ` +
      `(shared_buffers ${postgres.shared_buffers ?? '?'}, work_mem ${postgres.work_mem ?? '?'}), pgvector ${postgres.pgvector ?? '?'}; load average at start ${String(machine.loadAverageAtStart)}.`,
    '',
    '| system | nDCG@10 | R@5 | R@20 | R@100 | MRR@10 | server ms p50 / p95 | round trip ms p50 / p95 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    row('tsrank: ts_rank_cd (direct, no IDF)', result.tsrank),
    row(`bm25: lexical mode (k1 ${bm25.k1}, b ${bm25.b})`, result.bm25),
    row('dense: USE-Lite', result.dense),
    row(`hybrid: ${result.hybrid.system.replace(/^hybrid, /, '')}`, result.hybrid),
    row(`hybridRerank: ${result.hybridRerank.system.replace(/^hybrid /, 'hybrid ')}`, result.hybridRerank),
    '',
    `Best measured: **${result.best.name}** (${result.best.system}), nDCG@10 ${result.best.ndcgAt10.toFixed(3)}.`,
    '',
    `Server time p50 by part (ms): bm25 ${parts(result.bm25)}; hybrid ${parts(result.hybrid)}; hybridRerank ${parts(result.hybridRerank)}; dense ${parts(result.dense)}` +
      `${result.dense.queryEmbeddingCached ? ' (dense ran after hybrid: its query vectors came from the API cache, so embed is ~0)' : ''}. ` +
      'tsrank timings are the in-process retriever call, not through the API.',
    '',
    '## Published anchors (full corpus, 300 test queries)',
    '',
    '| system | nDCG@10 |',
    '| --- | --- |',
    ...result.anchors.systems.map((anchor) => `| ${anchor.system} | ${anchor.ndcgAt10.toFixed(3)} |`),
    '',
    `Ingest: ${ingest.reusedFromEarlierRun ? 'reused an earlier run\'s indexed collection (--keep-db)' : `${ingest.documents} documents in ${String(ingest.seconds)} s (${String(ingest.documentsPerSec)} docs/s)`}; ` +
      `${ingest.documentsWithMoreThanOneChunk} documents with more than one chunk; ${dataset.judgedDocumentsMissing} judged documents missing from the corpus. ` +
      `Checks: the API's fused scores ${hybridFusion.scoresMatch ? 'match' : '**do not match**'} fuse() with the fusion it reports; ` +
      `lexical mode vs Bm25Retriever directly: ${(result.checks.lexicalEqualsDirectBm25 as { mismatches: number; queries: number }).mismatches} of ` +
      `${(result.checks.lexicalEqualsDirectBm25 as { queries: number }).queries} rankings differ.`,
    '',
  ];
  return lines.join('\n');
}
