/** Counts tokens as the model would (GenerationProvider.countTokens). */
export type TokenCounter = (text: string) => Promise<number>;

export interface PackResult<T> {
  packed: T[];
  /** Tokens of the packed passages as rendered. */
  tokens: number;
  /** Passages that did not fit the budget. */
  skipped: number;
}

/**
 * Fills the budget with passages in rank order. A passage that does not fit is skipped, and smaller ones
 * after it may still go in, so one long passage cannot starve the rest.
 */
export async function packToBudget<T>(
  candidates: readonly T[],
  render: (candidate: T, position: number) => string,
  countTokens: TokenCounter,
  budgetTokens: number,
): Promise<PackResult<T>> {
  const packed: T[] = [];
  let tokens = 0;
  let skipped = 0;
  for (const candidate of candidates) {
    const cost = await countTokens(render(candidate, packed.length + 1));
    if (tokens + cost > budgetTokens) {
      skipped += 1;
      continue;
    }
    packed.push(candidate);
    tokens += cost;
  }
  return { packed, tokens, skipped };
}
