import type { FusionMethod, ScoreNormalisation } from './fusion';

/** Everything hybrid fusion needs, fully resolved. */
export interface FusionSettings {
  method: FusionMethod;
  normalisation: ScoreNormalisation;
  rrfK: number;
  weights: { lexical: number; dense: number };
  /** Candidates each retriever contributes before fusion. */
  candidates: { lexical: number; dense: number };
}

/** A partial FusionSettings, as a collection or a request overrides it. */
export interface FusionOverrides {
  method?: FusionMethod | undefined;
  normalisation?: ScoreNormalisation | undefined;
  rrfK?: number | undefined;
  weights?: { lexical?: number | undefined; dense?: number | undefined } | undefined;
  candidates?: { lexical?: number | undefined; dense?: number | undefined } | undefined;
}

/**
 * The deployment's defaults, chosen by `npm run bench:fusion-tuning` (bench/results/fusion-tuning.md): the
 * setting with the best nDCG@10 on SciFact's TRAIN claims, with BM25 and the embedded USE-Lite model.
 * TEST claims played no part in the choice. Train nDCG@10 0.708 (BM25 alone 0.693); on TEST 0.689 (BM25
 * alone 0.691): the embedded USE-Lite model is too weak on scientific claims for fusion to add much there.
 */
export const fusionDefaults: FusionSettings = {
  method: 'weighted',
  normalisation: 'zscore',
  // Only used when a request or collection switches the method to RRF (best RRF on train: k=5).
  rrfK: 60,
  weights: { lexical: 0.65, dense: 0.35 },
  candidates: { lexical: 200, dense: 20 },
};

/** Applies overrides in order (later wins), field by field. */
export function resolveFusion(base: FusionSettings, ...overrides: (FusionOverrides | undefined)[]): FusionSettings {
  let settings: FusionSettings = { ...base, weights: { ...base.weights }, candidates: { ...base.candidates } };
  for (const override of overrides) {
    if (!override) continue;
    settings = {
      method: override.method ?? settings.method,
      normalisation: override.normalisation ?? settings.normalisation,
      rrfK: override.rrfK ?? settings.rrfK,
      weights: { lexical: override.weights?.lexical ?? settings.weights.lexical, dense: override.weights?.dense ?? settings.weights.dense },
      candidates: {
        lexical: override.candidates?.lexical ?? settings.candidates.lexical,
        dense: override.candidates?.dense ?? settings.candidates.dense,
      },
    };
  }
  return settings;
}
