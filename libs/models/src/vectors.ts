/**
 * Scales a vector to unit length, so cosine similarity equals the dot product and pgvector's inner-product
 * operator ranks exactly as cosine distance would. A zero vector stays zero (it has no direction).
 */
export function l2Normalize(vector: readonly number[]): number[] {
  let squares = 0;
  for (const value of vector) squares += value * value;
  const norm = Math.sqrt(squares);
  return norm === 0 ? [...vector] : vector.map((value) => value / norm);
}

export function dot(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`vectors differ in length: ${a.length} and ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

export function isFiniteVector(value: readonly number[], dimensions: number): boolean {
  return value.length === dimensions && value.every((x) => Number.isFinite(x));
}

/** Checks what a model or server handed back before anyone stores it. */
export function isVectorList(value: unknown, count: number, dimensions: number): value is number[][] {
  return (
    Array.isArray(value) &&
    value.length === count &&
    value.every((vector: unknown) => Array.isArray(vector) && isFiniteVector(vector as number[], dimensions))
  );
}
