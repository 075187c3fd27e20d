import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** US dollars per million tokens. (A type, not an interface, so a table of them is storable as JSON.) */
export type ModelPrice = {
  inputPerMTokUsd: number;
  outputPerMTokUsd: number;
};

/** Model name → price. A key ending in `*` matches every model name starting with what precedes it. */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

const usd = z.number().finite().min(0).max(10_000);
export const modelPriceSchema = z.object({ inputPerMTokUsd: usd, outputPerMTokUsd: usd }).strict();
export const priceTableSchema = z.record(z.string().min(1).max(200), modelPriceSchema);

/**
 * List prices (USD per 1M tokens) of common managed models, late 2025. Operators replace or extend them with
 * MODEL_PRICES_FILE; tenants may override single models. Models that run on the operator's own hardware
 * (the embedded llama.cpp model, local servers) cost nothing per token.
 */
export const defaultModelPrices: PriceTable = {
  'gpt-4o': { inputPerMTokUsd: 2.5, outputPerMTokUsd: 10 },
  'gpt-4o-mini*': { inputPerMTokUsd: 0.15, outputPerMTokUsd: 0.6 },
  'gpt-4.1*': { inputPerMTokUsd: 2, outputPerMTokUsd: 8 },
  'gpt-4.1-mini*': { inputPerMTokUsd: 0.4, outputPerMTokUsd: 1.6 },
  'gpt-4.1-nano*': { inputPerMTokUsd: 0.1, outputPerMTokUsd: 0.4 },
  'gpt-5*': { inputPerMTokUsd: 1.25, outputPerMTokUsd: 10 },
  'gpt-5-mini*': { inputPerMTokUsd: 0.25, outputPerMTokUsd: 2 },
  'gpt-5-nano*': { inputPerMTokUsd: 0.05, outputPerMTokUsd: 0.4 },
  'claude-opus-4*': { inputPerMTokUsd: 15, outputPerMTokUsd: 75 },
  'claude-sonnet-4*': { inputPerMTokUsd: 3, outputPerMTokUsd: 15 },
  'claude-haiku-4*': { inputPerMTokUsd: 1, outputPerMTokUsd: 5 },
  'claude-3-5-haiku*': { inputPerMTokUsd: 0.8, outputPerMTokUsd: 4 },
  'llama-3.1-8b-instant': { inputPerMTokUsd: 0.05, outputPerMTokUsd: 0.08 },
  'llama-3.3-70b-versatile': { inputPerMTokUsd: 0.59, outputPerMTokUsd: 0.79 },
  'meta-llama/llama-3.3-70b-instruct-turbo': { inputPerMTokUsd: 0.88, outputPerMTokUsd: 0.88 },
  'local/*': { inputPerMTokUsd: 0, outputPerMTokUsd: 0 },
  'llama-cpp/*': { inputPerMTokUsd: 0, outputPerMTokUsd: 0 },
  'tinyllama*': { inputPerMTokUsd: 0, outputPerMTokUsd: 0 },
};

/** The operator's table: the defaults, extended and overridden by a JSON file. Throws on a bad file (at boot). */
export function loadPriceTable(file: string | undefined): PriceTable {
  if (!file) return defaultModelPrices;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`MODEL_PRICES_FILE ${file}: ${(error as Error).message}`);
  }
  const result = priceTableSchema.safeParse(parsed);
  if (!result.success) {
    throw new Error(`MODEL_PRICES_FILE ${file}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return { ...defaultModelPrices, ...normalizeKeys(result.data) };
}

export function normalizeKeys(table: Record<string, ModelPrice>): Record<string, ModelPrice> {
  return Object.fromEntries(Object.entries(table).map(([key, price]) => [key.trim().toLowerCase(), price]));
}

/**
 * The price of a model: an exact name first, then the longest matching prefix pattern. Tenant overrides win
 * over the operator's table at the same specificity. Undefined when nothing matches (the call is then
 * recorded at zero cost and marked unpriced).
 */
export function priceOf(model: string, tables: readonly PriceTable[]): ModelPrice | undefined {
  const name = model.trim().toLowerCase();
  for (const table of tables) {
    const exact = table[name];
    if (exact) return exact;
  }
  let best: { length: number; price: ModelPrice } | undefined;
  for (const table of tables) {
    for (const [key, price] of Object.entries(table)) {
      if (!key.endsWith('*')) continue;
      const prefix = key.slice(0, -1);
      if (name.startsWith(prefix) && (!best || prefix.length > best.length)) best = { length: prefix.length, price };
    }
  }
  return best?.price;
}

/** Cost in USD, rounded to the 8 decimals usage events store. */
export function costUsd(price: ModelPrice | undefined, inputTokens: number, outputTokens: number): number {
  if (!price) return 0;
  const micro = inputTokens * price.inputPerMTokUsd + outputTokens * price.outputPerMTokUsd;
  return Math.round(micro * 100) / 1e8;
}
