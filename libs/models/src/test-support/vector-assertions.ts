import assert from 'node:assert/strict';

/** Float results differ in the last bits between batch shapes; compare within a tolerance. */
export function assertVectorClose(actual: readonly number[], expected: readonly number[], tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length, 'vector lengths differ');
  actual.forEach((value, i) =>
    assert.ok(Math.abs(value - expected[i]!) <= tolerance, `component ${i}: ${value} vs ${expected[i]}`),
  );
}

export function assertVectorsClose(actual: readonly number[][], expected: readonly number[][], tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length, 'vector counts differ');
  actual.forEach((vector, i) => assertVectorClose(vector, expected[i]!, tolerance));
}
