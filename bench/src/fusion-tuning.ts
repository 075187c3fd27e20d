/**
 * Chooses the hybrid-fusion defaults by evaluation (`npm run bench:fusion-tuning`), never by guessing:
 *
 * 1. reads each SciFact query's BM25 and dense (USE-Lite) candidates, up to 200 per list, from the collection
 *    that `npm run bench:retrieval -- --keep-db` left in its database (retrieved once in-process as
 *    quarry_app with the API's own retrievers, then cached in bench/.cache);
 * 2. fuses them offline with every setting of a grid: RRF (k, dense weight) and weighted score fusion
 *    (min-max or z-score normalisation, dense weight), each with several candidate counts per retriever;
 * 3. picks the setting with the best mean nDCG@10 on the TRAIN split (809 claims, qrels/train.tsv) and only
 *    then reports it, and each method's best, on the 300 TEST claims, which played no part in the choice.
 *
 * Writes bench/results/fusion-tuning.{json,md}. The chosen setting becomes `fusionDefaults` in libs/retrieval.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ndcgAtK, type Judgments } from '@quarry/evals';
import { fuse, type FusionMethod, type ScoreNormalisation } from '@quarry/retrieval';
import { runBenchmark, writeResultFiles } from './entry';
import { log } from './measure';
import { gitFacts, machineFacts } from './platform';
import { round } from './processes';
import { candidateCache, loadSplit, type CandidateCache, type QueryCandidates } from './tuning/scifact-candidates';

const repoRoot = path.resolve(__dirname, '../..');

export interface FusionSetting {
  method: FusionMethod;
  normalisation: ScoreNormalisation;
  rrfK: number;
  weights: { lexical: number; dense: number };
  candidates: { lexical: number; dense: number };
}

const candidateCounts = { lexical: [50, 100, 200], dense: [20, 50, 100, 200] };
const rrfKs = [5, 10, 20, 40, 60, 100];
const rrfDenseWeights = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1];
const scoreDenseWeights = Array.from({ length: 21 }, (_, index) => round(index * 0.05, 2));

function grid(): FusionSetting[] {
  const settings: FusionSetting[] = [];
  for (const lexical of candidateCounts.lexical) {
    for (const dense of candidateCounts.dense) {
      const candidates = { lexical, dense };
      for (const rrfK of rrfKs) {
        for (const weight of rrfDenseWeights) settings.push({ method: 'rrf', normalisation: 'minmax', rrfK, weights: { lexical: 1, dense: weight }, candidates });
      }
      for (const normalisation of ['minmax', 'zscore'] as const) {
        for (const weight of scoreDenseWeights) {
          settings.push({ method: 'weighted', normalisation, rrfK: 60, weights: { lexical: round(1 - weight, 2), dense: weight }, candidates });
        }
      }
    }
  }
  return settings;
}

/** Mean nDCG@10 of one setting over queries (documents de-duplicated, as the benchmark scores them). */
export function meanNdcg(cache: CandidateCache, queries: readonly QueryCandidates[], qrels: ReadonlyMap<string, Judgments>, setting: FusionSetting): number {
  let sum = 0;
  for (const query of queries) {
    const fused = fuse(
      { lexical: query.lexical.slice(0, setting.candidates.lexical), dense: query.dense.slice(0, setting.candidates.dense) },
      { method: setting.method, normalisation: setting.normalisation, weights: setting.weights, rrfK: setting.rrfK },
    );
    sum += ndcgAtK(fused.slice(0, 20).map((candidate) => cache.corpusIdOf[candidate.chunkId]!), qrels.get(query.id)!, 10);
  }
  return queries.length === 0 ? 0 : sum / queries.length;
}

function label(setting: FusionSetting): string {
  const head = setting.method === 'rrf' ? `RRF k=${setting.rrfK}` : `weighted ${setting.normalisation}`;
  return `${head}, weights lexical ${setting.weights.lexical} / dense ${setting.weights.dense}, candidates ${setting.candidates.lexical} + ${setting.candidates.dense}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { db: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, cache: { type: 'string' } },
  });
  const db = values.db ?? 'quarry_bench_retrieval';
  const dataDir = path.resolve(values.data ?? path.join(repoRoot, '../shared/data/scifact'));
  const train = await loadSplit(dataDir, 'train');
  const test = await loadSplit(dataDir, 'test');
  const cache = await candidateCache({
    repoRoot,
    db,
    cacheFile: path.resolve(values.cache ?? path.join(repoRoot, 'bench/.cache/scifact-candidates.json')),
    perList: 200,
    queries: [...train.queries, ...test.queries],
  });
  const byId = new Map(cache.queries.map((query) => [query.id, query]));
  const trainQueries = train.queries.map((query) => byId.get(query.id)!);
  const testQueries = test.queries.map((query) => byId.get(query.id)!);

  const settings = grid();
  log(`fusion: ${settings.length} settings on ${trainQueries.length} train queries`);
  const scored = settings.map((setting) => ({ setting, train: meanNdcg(cache, trainQueries, train.qrels, setting) }));
  scored.sort((a, b) => b.train - a.train);
  const chosen = scored[0]!;
  const bestOf = (predicate: (setting: FusionSetting) => boolean): (typeof scored)[number] => scored.find((entry) => predicate(entry.setting))!;
  const lexicalOnly: FusionSetting = { method: 'rrf', normalisation: 'minmax', rrfK: 60, weights: { lexical: 1, dense: 0 }, candidates: { lexical: 100, dense: 100 } };
  const previousDefault: FusionSetting = { method: 'rrf', normalisation: 'minmax', rrfK: 60, weights: { lexical: 1, dense: 1 }, candidates: { lexical: 100, dense: 100 } };
  const rows = [
    { name: 'chosen (best on train)', setting: chosen.setting },
    { name: 'best RRF', setting: bestOf((s) => s.method === 'rrf').setting },
    { name: 'best weighted min-max', setting: bestOf((s) => s.method === 'weighted' && s.normalisation === 'minmax').setting },
    { name: 'best weighted z-score', setting: bestOf((s) => s.method === 'weighted' && s.normalisation === 'zscore').setting },
    { name: 'previous default (RRF k=60, 1:1)', setting: previousDefault },
    { name: 'BM25 alone (dense weight 0)', setting: lexicalOnly },
  ].map((row) => ({
    ...row,
    label: label(row.setting),
    trainNdcgAt10: round(meanNdcg(cache, trainQueries, train.qrels, row.setting), 4),
    testNdcgAt10: round(meanNdcg(cache, testQueries, test.qrels, row.setting), 4),
  }));
  const git = await gitFacts(repoRoot);
  const result = {
    benchmark: 'fusion-tuning',
    date: new Date().toISOString(),
    chosen: chosen.setting,
    selection: 'highest mean nDCG@10 on the SciFact TRAIN split; TEST is reported, never used to choose',
    dataset: { trainQueries: trainQueries.length, testQueries: testQueries.length, candidatesPerList: cache.perList, collectionId: cache.collectionId },
    rows,
    top10OnTrain: scored.slice(0, 10).map((entry) => ({ label: label(entry.setting), trainNdcgAt10: round(entry.train, 4) })),
    gridSize: settings.length,
    grid: { candidateCounts, rrfKs, rrfDenseWeights, scoreDenseWeights },
    settings: { ...machineFacts(), gitCommit: git.commit, uncommittedChanges: git.uncommittedChanges },
  };
  const markdown = [
    '# Fusion tuning on SciFact (train → test)',
    '',
    `${result.date}; ${settings.length} settings scored on ${trainQueries.length} TRAIN claims; the best on train is the default. TEST (${testQueries.length} claims) is reported only. Candidates: BM25 and USE-Lite dense, up to ${cache.perList} per list, from the API's retrievers.`,
    '',
    '| setting | fusion | nDCG@10 train | nDCG@10 test |',
    '| --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.name} | ${row.label} | ${row.trainNdcgAt10.toFixed(3)} | ${row.testNdcgAt10.toFixed(3)} |`),
    '',
  ].join('\n');
  await writeResultFiles(path.resolve(values.out ?? path.join(repoRoot, 'bench/results')), 'fusion-tuning', result, markdown);
}

if (require.main === module) runBenchmark('fusion-tuning', main, () => undefined);
