import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineJob, envelope, JobContractError, openEnvelope } from './job-contract';

const contract = defineJob({
  queue: 'test',
  name: 'thing.do',
  version: 2,
  payload: z.object({ tenantId: z.uuid(), count: z.number().int() }).strict(),
  jobId: (payload) => `thing:${payload.tenantId}`,
});
const payload = { tenantId: '0190b8e2-0000-7000-8000-000000000001', count: 3 };

describe('typed job contracts', () => {
  it('wraps a valid payload with its version and opens it again', () => {
    const data = envelope(contract, payload);
    assert.deepEqual(data, { v: 2, payload });
    assert.deepEqual(openEnvelope(contract, data), payload);
  });

  it('refuses to enqueue a payload that breaks the contract', () => {
    assert.throws(() => envelope(contract, { ...payload, count: 1.5 }));
  });

  it('refuses to run a job written for another version or shape', () => {
    assert.throws(() => openEnvelope(contract, { v: 1, payload }), JobContractError);
    assert.throws(() => openEnvelope(contract, { v: 2, payload: { ...payload, extra: true } }), JobContractError);
    assert.throws(() => openEnvelope(contract, null), JobContractError);
  });

  it('derives a stable dedupe id from the payload', () => {
    assert.equal(contract.jobId?.(payload), 'thing:0190b8e2-0000-7000-8000-000000000001');
  });
});
