import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database } from '@quarry/db';
import { linearScores, standardise, type LinearRankerModel } from './linear-ranker';
import { learnedFeatureNames, rankingFeatures } from './ranking-features';
import type { Reranker, RerankInput } from './reranker';

/** The model trained by `npm run bench:train-ranker` on SciFact's TRAIN judgments (weights as JSON). */
export const defaultLearnedRankerFile = path.join(__dirname, '../../models/learned-ranker.json');

export function loadLinearRanker(file: string = defaultLearnedRankerFile): LinearRankerModel {
  const model = JSON.parse(readFileSync(file, 'utf8')) as Partial<LinearRankerModel>;
  const features = model.features ?? [];
  const weights = model.weights ?? [];
  if (features.join(',') !== learnedFeatureNames.join(',') || weights.length !== features.length || !weights.every(Number.isFinite)) {
    throw new Error(`${file} is not a linear ranker over the features ${learnedFeatureNames.join(', ')}`);
  }
  return { features, weights };
}

/**
 * The embedded reranker: a linear model over lexical, field and dense features (rankingFeatures) and the
 * fused score, learned offline from judged queries. No model server, no weights download: one SQL statement
 * per query.
 */
export class LearnedReranker implements Reranker {
  readonly name = 'learned';

  constructor(
    private readonly db: Database,
    private readonly model: LinearRankerModel = loadLinearRanker(),
  ) {}

  async rerank(input: RerankInput): Promise<number[]> {
    const features = await rankingFeatures(this.db, input.scope, {
      query: input.query,
      language: input.language,
      chunkIds: input.candidates.map((candidate) => candidate.chunkId),
      queryVector: input.queryVector,
    });
    input.signal.throwIfAborted();
    const rows = features.map((row, index) => [...row, input.candidates[index]!.fusedScore]);
    return linearScores(this.model.weights, standardise(rows));
  }
}
