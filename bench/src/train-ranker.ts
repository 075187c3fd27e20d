/**
 * Trains the embedded learned reranker (`npm run bench:train-ranker`) on SciFact's TRAIN judgments only:
 *
 * 1. the candidates of every claim (as bench:fusion-tuning caches them), fused with the deployment's
 *    fusion defaults; the top `--candidates` (default 100) are what the reranker sees in search;
 * 2. their features through the provider's own `rankingFeatures` (one SQL statement per claim, as
 *    quarry_app in the bench tenant), standardised per claim;
 * 3. coordinate ascent on mean nDCG@10 over the 809 TRAIN claims, starting from the fused order;
 * 4. reports nDCG@10 on TRAIN and on the 300 TEST claims (never used for training or choices), and writes the
 *    weights to libs/retrieval/models/learned-ranker.json, the file LearnedReranker loads.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { tenantScope } from '@quarry/core';
import type { Judgments } from '@quarry/evals';
import { coordinateAscent, fuse, fusionDefaults, learnedFeatureNames, meanNdcg, rankingFeatures, standardise, type TrainingQuery } from '@quarry/retrieval';
import { runBenchmark, writeResultFiles } from './entry';
import { log } from './measure';
import { gitFacts, machineFacts } from './platform';
import { round } from './processes';
import { candidateCache, loadSplit, openAppDb, type CandidateCache, type QueryCandidates } from './tuning/scifact-candidates';

const repoRoot = path.resolve(__dirname, '../..');

async function trainingQueries(
  cache: CandidateCache,
  queries: readonly QueryCandidates[],
  qrels: ReadonlyMap<string, Judgments>,
  features: (query: QueryCandidates, chunkIds: string[]) => Promise<number[][]>,
  candidates: number,
): Promise<TrainingQuery[]> {
  const out: TrainingQuery[] = [];
  for (const [index, query] of queries.entries()) {
    const fused = fuse(
      { lexical: query.lexical.slice(0, fusionDefaults.candidates.lexical), dense: query.dense.slice(0, fusionDefaults.candidates.dense) },
      { method: fusionDefaults.method, normalisation: fusionDefaults.normalisation, weights: fusionDefaults.weights, rrfK: fusionDefaults.rrfK },
    ).slice(0, candidates);
    const judged = qrels.get(query.id)!;
    const chunkIds = fused.map((candidate) => candidate.chunkId);
    const sqlFeatures = await features(query, chunkIds);
    // The same rows LearnedReranker builds: SQL features, then the fused score.
    const rows = standardise(sqlFeatures.map((row, position) => [...row, fused[position]!.score]));
    out.push({ rows, gains: chunkIds.map((id) => judged.get(cache.corpusIdOf[id]!) ?? 0), idealGains: [...judged.values()] });
    if ((index + 1) % 200 === 0) log(`features: ${index + 1} of ${queries.length} queries`);
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { db: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, cache: { type: 'string' }, candidates: { type: 'string' } },
  });
  const db = values.db ?? 'quarry_bench_retrieval';
  const candidates = Number(values.candidates ?? 100);
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
  const appDb = await openAppDb(repoRoot, db);
  const scope = tenantScope(cache.tenantId);
  const features = (query: QueryCandidates, chunkIds: string[]): Promise<number[][]> =>
    rankingFeatures(appDb, scope, { query: query.text, language: cache.language, chunkIds, queryVector: { model: 'use-lite-512', vector: query.vector } });
  try {
    log(`features: ${train.queries.length} train + ${test.queries.length} test queries, top ${candidates} fused candidates each`);
    const trainSet = await trainingQueries(cache, train.queries.map((query) => byId.get(query.id)!), train.qrels, features, candidates);
    const testSet = await trainingQueries(cache, test.queries.map((query) => byId.get(query.id)!), test.qrels, features, candidates);
    // From the fused order (what search returns without reranking): every change must earn its place on TRAIN.
    const fusedOnly = learnedFeatureNames.map((name) => (name === 'fused' ? 1 : 0));
    log('training: coordinate ascent on mean nDCG@10 (train), from the fused order');
    const trained = coordinateAscent(trainSet, { initial: fusedOnly });
    const weights = trained.weights.map((weight) => round(weight, 5));
    const singleFeature = learnedFeatureNames.map((name, index) => {
      const only = learnedFeatureNames.map((_, other) => (other === index ? 1 : 0));
      return { feature: name, trainNdcgAt10: round(meanNdcg(only, trainSet), 4), testNdcgAt10: round(meanNdcg(only, testSet), 4) };
    });
    const model = { features: [...learnedFeatureNames], weights, trainedOn: 'SciFact train (qrels/train.tsv)', candidates, fusion: fusionDefaults };
    await writeFile(path.join(repoRoot, 'libs/retrieval/models/learned-ranker.json'), `${JSON.stringify(model, null, 2)}\n`);
    const git = await gitFacts(repoRoot);
    const result = {
      benchmark: 'learned-ranker',
      date: new Date().toISOString(),
      model,
      trainNdcgAt10: round(meanNdcg(weights, trainSet), 4),
      testNdcgAt10: round(meanNdcg(weights, testSet), 4),
      rounds: trained.rounds,
      singleFeature,
      dataset: { trainQueries: trainSet.length, testQueries: testSet.length, candidatesPerQuery: candidates },
      settings: { ...machineFacts(), gitCommit: git.commit },
    };
    const markdown = [
      '# Learned reranker (linear, coordinate ascent on nDCG@10), SciFact train → test',
      '',
      `${result.date}; trained on ${trainSet.length} TRAIN claims, reported on ${testSet.length} TEST claims; the top ${candidates} fused candidates (fusion defaults) per claim, features standardised per claim.`,
      '',
      '| ranking | nDCG@10 train | nDCG@10 test |',
      '| --- | --- | --- |',
      `| learned (weights ${learnedFeatureNames.map((name, index) => `${name} ${weights[index]}`).join(', ')}) | ${result.trainNdcgAt10.toFixed(3)} | ${result.testNdcgAt10.toFixed(3)} |`,
      ...singleFeature.map((row) => `| ${row.feature} alone | ${row.trainNdcgAt10.toFixed(3)} | ${row.testNdcgAt10.toFixed(3)} |`),
      '',
    ].join('\n');
    await writeResultFiles(path.resolve(values.out ?? path.join(repoRoot, 'bench/results')), 'learned-ranker', result, markdown);
  } finally {
    await appDb.onModuleDestroy();
  }
}

if (require.main === module) runBenchmark('train-ranker', main, () => undefined);
