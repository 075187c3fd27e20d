import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from './errors';
import { decodeCursor, encodeCursor, pageQuerySchema, toPage } from './pagination';

const ids = ['0190b8e2-0000-7000-8000-000000000001', '0190b8e2-0000-7000-8000-000000000002', '0190b8e2-0000-7000-8000-000000000003'];

describe('cursor pagination', () => {
  it('round-trips a cursor', () => {
    assert.equal(decodeCursor(encodeCursor(ids[0]!)), ids[0]);
    assert.equal(decodeCursor(undefined), undefined);
  });

  it('rejects a cursor it did not issue with INVALID_CURSOR', () => {
    assert.throws(
      () => decodeCursor('not-a-cursor'),
      (error: unknown) => error instanceof AppError && error.code === 'INVALID_CURSOR' && error.status === 400,
    );
  });

  it('uses the extra row only to tell that another page exists', () => {
    const rows = ids.map((id) => ({ id }));
    const first = toPage(rows, 2, (row) => row.id);
    assert.deepEqual(first.items, ids.slice(0, 2));
    assert.equal(first.nextCursor, encodeCursor(ids[1]!));
    const last = toPage(rows.slice(2), 2, (row) => row.id);
    assert.equal(last.nextCursor, null);
  });

  it('bounds the page size', () => {
    assert.equal(pageQuerySchema.parse({}).limit, 50);
    assert.equal(pageQuerySchema.parse({ limit: '7' }).limit, 7);
    assert.equal(pageQuerySchema.safeParse({ limit: '0' }).success, false);
    assert.equal(pageQuerySchema.safeParse({ limit: '100000' }).success, false);
    assert.equal(pageQuerySchema.safeParse({ limit: '5', extra: 'x' }).success, false);
  });
});
