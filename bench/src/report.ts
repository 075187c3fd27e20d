/** The short markdown summary of a run (bench/results/ingestion.md). */
import type { BenchResult } from './ingestion';
import type { CpuUse } from './measure';

function mark(met: boolean): string {
  return met ? 'met' : '**not met**';
}

function cpuLine(cpu: CpuUse): string {
  return (
    `worker ${cpu.workerSeconds} s, API ${cpu.apiSeconds} s, benchmark ${cpu.benchSeconds} s, Postgres/Redis/other ${cpu.otherSeconds} s ` +
    `of ${cpu.wallSeconds} s wall (${(cpu.machineSeconds / Math.max(cpu.wallSeconds, 0.001)).toFixed(2)} cores busy on average)`
  );
}

export function renderMarkdown(result: BenchResult): string {
  const { raw, ingest, refresh, fairness } = result;
  const goal = (metric: string): string => {
    const found = result.goals.find((entry) => entry.metric === metric);
    return found ? `${found.goal} (${mark(found.met)})` : '';
  };
  const machine = result.settings.machine as Record<string, string | number>;
  const postgres = result.settings.postgres as Record<string, string>;
  const stack = result.settings.stack as Record<string, string>;
  const lines = [
    `# Ingestion benchmark${result.quick ? ' (QUICK RUN: reduced sizes, not the benchmark)' : ''}`,
    '',
    `${result.date}; ${ingest.documents} SciFact abstracts (${ingest.chunks} chunks), ${String(machine.cpuCount)} CPUs (${String(machine.cpuModel)}), ` +
      `Node ${String(machine.node)}, PostgreSQL ${postgres.server_version ?? '?'} (shared_buffers ${postgres.shared_buffers ?? '?'}), ` +
      `pgvector ${postgres.pgvector ?? '?'}; worker INGEST_CONCURRENCY ${stack.INGEST_CONCURRENCY ?? '?'}, ` +
      `INGEST_TENANT_CONCURRENCY ${stack.INGEST_TENANT_CONCURRENCY ?? '?'}, EMBED_BATCH_SIZE ${stack.EMBED_BATCH_SIZE ?? '?'}; ` +
      `load average at start ${String(machine.loadAverageAtStart)}.`,
    '',
    '| metric | value | goal | baseline / context |',
    '| --- | --- | --- | --- |',
    `| embedRawPerSec | ${raw.embedRawPerSec} passages/s | | USE-Lite, batch ${raw.batchSize}, ${raw.passages} chunk texts in ${raw.seconds} s |`,
    `| ingestPerSec (documents) | ${ingest.documentsPerSec} docs/s | | ${ingest.documents} documents in ${ingest.seconds} s (uploads took ${ingest.uploadSeconds} s) |`,
    `| ingestPerSec (chunks) | ${ingest.chunksPerSec} chunks/s | | raw ${raw.embedRawPerSec} chunks/s |`,
    `| overheadPct | ${result.overheadPct} % | ${goal('overheadPct')} | ingest ${ingest.seconds} s vs raw ${raw.seconds} s for the same chunks |`,
    `| peakWorkerRssMb | ${result.peakWorkerRssMb} MB | | VmHWM after the full ingest |`,
    `| fairness.fairnessRatio | ${fairness.fairnessRatio} | ${goal('fairness.fairnessRatio')} | B (${fairness.bDocuments} docs) alone ${fairness.aloneSeconds} s, with ${fairness.aWaitingWhenBUploaded} of A's ${fairness.backlog} waiting ${fairness.withBacklogSeconds} s |`,
    `| refresh.embeddingsRecomputedPct | ${refresh.embeddingsRecomputedPct} % | ${goal('refresh.embeddingsRecomputedPct')} | ${refresh.embeddingsRecomputed} of ${refresh.corpusChunks} chunks; ${refresh.changedDocuments} of ${refresh.documents} documents changed |`,
    `| refresh time | ${refresh.seconds} s | | ${refresh.timeVsFullIngestPct} % of the full ingest (${ingest.seconds} s); uploads ${refresh.uploadSeconds} s |`,
    '',
    '## Where the full ingest spends its time',
    '',
    '| stage | runs | mean ms | p50 ms | p95 ms | total s |',
    '| --- | --- | --- | --- | --- | --- |',
    ...ingest.timings.stages.map((stage) => `| ${stage.stage} | ${stage.runs} | ${stage.meanMs} | ${stage.p50Ms} | ${stage.p95Ms} | ${stage.totalSeconds} |`),
    '',
    `Per document: queue wait p50 ${ingest.timings.queueWaitMs.p50} ms / p95 ${ingest.timings.queueWaitMs.p95} ms; ` +
      `processing (first stage start to indexed) p50 ${ingest.timings.processingMs.p50} ms / p95 ${ingest.timings.processingMs.p95} ms, ` +
      `of which between stages p50 ${ingest.timings.betweenStagesMs.p50} ms.`,
    '',
    `CPU during the full ingest: ${cpuLine(ingest.cpu)}. Raw baseline for comparison: ${raw.seconds} s on one process.`,
    '',
    `CPU during the refresh: ${cpuLine(refresh.cpu)}.`,
    '',
    `Checks: stored chunks ${ingest.chunksMatchRawBaseline ? 'equal' : '**differ from**'} the raw baseline's texts; ` +
      `${ingest.embedded} chunks embedded during the ingest; refresh: ${refresh.unchangedReturnedAsDuplicates} unchanged uploads answered as duplicates, ` +
      `${refresh.newVersions} new versions (${refresh.supersededVersions} superseded), stage runs report ${refresh.embeddedPerStageRuns} embedded / ${refresh.cachedPerStageRuns} cached; ` +
      `fairness: queue ${fairness.queueEmptyBeforeAlone ? 'empty' : '**not empty**'} before B alone, ${fairness.aIndexedWhileBWaited} of A's documents indexed while B waited.`,
    '',
  ];
  return lines.join('\n');
}
