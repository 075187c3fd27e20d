import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tenantScope } from '@quarry/core';
import { InvalidKeyError } from './errors';
import { normalizePrefix, tenantObjectKey, tenantPrefix, validateKey } from './object-key';

const scope = tenantScope('0190B8E2-0000-7000-8000-000000000001');

describe('object keys', () => {
  it('accepts relative paths, unicode and keys of exactly 1024 bytes', () => {
    const longest = Array.from({ length: 5 }, () => 'k'.repeat(204)).join('/');
    assert.equal(Buffer.byteLength(longest), 1024);
    for (const key of ['a', 'tenants/0190b8e2-0000-7000-8000-000000000001/documents/x.pdf', 'tenants/t/Ünïcødé name (1).txt', longest]) {
      assert.doesNotThrow(() => validateKey(key), key);
    }
    assert.throws(() => validateKey(`${longest}k`), /longer than 1024 bytes/);
  });

  it('names the problem with a malformed key', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /is empty/],
      ['/etc/passwd', /starts with a slash/],
      ['a/../b', /starts with a dot/],
      ['..', /starts with a dot/],
      ['a//b', /empty segment/],
      ['a/b/', /empty segment/],
      ['a\u0000b', /control character/],
      ['a\\b', /backslash/],
      ['.staging/x', /starts with a dot/],
      ['k'.repeat(1025), /longer than 1024 bytes/],
      ['€'.repeat(342), /longer than 1024 bytes/],
      [`a/${'s'.repeat(256)}`, /segment longer than 255 bytes/],
    ];
    for (const [key, problem] of cases) {
      assert.throws(() => validateKey(key), (error: unknown) => error instanceof InvalidKeyError && error.key === key && problem.test(error.message), JSON.stringify(key));
    }
  });

  it('normalizes a prefix to whole segments without a trailing slash', () => {
    assert.equal(normalizePrefix('tenants/a/'), 'tenants/a');
    assert.equal(normalizePrefix('tenants/a'), 'tenants/a');
    assert.throws(() => normalizePrefix('/'), InvalidKeyError);
    assert.throws(() => normalizePrefix('tenants/a//'), InvalidKeyError);
  });

  it('builds tenant keys under the tenant prefix and refuses segments that would restructure them', () => {
    assert.equal(tenantPrefix(scope), 'tenants/0190b8e2-0000-7000-8000-000000000001');
    assert.equal(tenantObjectKey(scope, 'documents', 'd1', 'original'), 'tenants/0190b8e2-0000-7000-8000-000000000001/documents/d1/original');
    assert.throws(() => tenantObjectKey(scope, 'documents/../../other'), /contains a slash/);
    assert.throws(() => tenantObjectKey(scope, '..'), /starts with a dot/);
    assert.throws(() => tenantObjectKey(scope), /at least one segment/);
  });
});
