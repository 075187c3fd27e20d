import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptableRequestId } from './request-context';
import { tenantScope, type TenantScope } from './tenant-scope';

describe('tenantScope', () => {
  it('accepts a UUID and normalises its case', () => {
    assert.equal(tenantScope('0190B8E2-0000-7000-8000-00000000000A').tenantId, '0190b8e2-0000-7000-8000-00000000000a');
  });

  it('refuses anything that is not a UUID', () => {
    for (const bad of ['', 'acme', "1' OR '1'='1", '0190b8e2-0000-7000-8000']) {
      assert.throws(() => tenantScope(bad), /Not a tenant id/);
    }
  });

  it('cannot be forged from a plain string (the compiler checks this file)', () => {
    const forged = { tenantId: 'not-checked' };
    // @ts-expect-error a plain string is not a TenantId: scopes come from tenantScope() or authentication
    const scope: TenantScope = forged;
    // If the line above ever compiles, tsc fails on the unused @ts-expect-error and so does npm test.
    assert.equal(scope.tenantId, 'not-checked');
  });
});

describe('acceptableRequestId', () => {
  it('keeps short plain ids and drops anything else', () => {
    assert.equal(acceptableRequestId('req-123.abc:9_Z'), true);
    assert.equal(acceptableRequestId('has space'), false);
    assert.equal(acceptableRequestId('x'.repeat(129)), false);
    assert.equal(acceptableRequestId(['a', 'b']), false);
    assert.equal(acceptableRequestId('line\nbreak'), false);
  });
});
