import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issueApiKey, parseApiKey, safeEqual, sha256Hex } from './secrets';

describe('API key format', () => {
  it('issues keys whose secret is stored only as a hash', () => {
    const key = issueApiKey();
    const parsed = parseApiKey(key.token);
    assert.ok(parsed);
    assert.equal(parsed.prefix, key.prefix);
    assert.equal(sha256Hex(parsed.secret), key.secretHash);
    assert.ok(!key.secretHash.includes(parsed.secret));
    assert.match(key.token, /^qk_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
  });

  it('issues a different key every time', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => issueApiKey().token));
    assert.equal(tokens.size, 200);
  });

  it('rejects anything not shaped like a key', () => {
    for (const bad of ['', 'qk_short_secret', `qk_${'a'.repeat(12)}_${'b'.repeat(42)}`, `xx_${'a'.repeat(12)}_${'b'.repeat(43)}`]) {
      assert.equal(parseApiKey(bad), null, bad);
    }
  });

  it('compares in constant time and only equal strings match', () => {
    assert.equal(safeEqual('abc', 'abc'), true);
    assert.equal(safeEqual('abc', 'abd'), false);
    assert.equal(safeEqual('abc', 'abcd'), false);
  });
});
