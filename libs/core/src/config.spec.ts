import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiConfigSchema, ConfigError, loadConfig } from './config';

const valid = { DATABASE_URL: 'postgresql://quarry_app:x@127.0.0.1:5432/quarry' };

describe('loadConfig', () => {
  it('applies defaults to a minimal valid environment', () => {
    const config = loadConfig(apiConfigSchema, valid);
    assert.equal(config.PORT, 3000);
    assert.equal(config.REDIS_URL, 'redis://127.0.0.1:6379');
    assert.equal(config.COOKIE_SECURE, true);
    assert.equal(config.PLATFORM_ADMIN_TOKEN_SHA256, undefined);
  });

  it('names every bad variable at once, not only the first', () => {
    let caught: unknown;
    try {
      loadConfig(apiConfigSchema, { PORT: 'abc', REDIS_URL: 'http://nope', COOKIE_SECURE: 'maybe' });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof ConfigError);
    const names = caught.problems.map((problem) => problem.split(':')[0]);
    assert.deepEqual(names.sort(), ['COOKIE_SECURE', 'DATABASE_URL', 'PORT', 'REDIS_URL']);
    assert.match(caught.message, /DATABASE_URL: is required/);
  });

  it('rejects a database URL that is not postgres', () => {
    assert.throws(() => loadConfig(apiConfigSchema, { DATABASE_URL: 'mysql://x@y/z' }), /DATABASE_URL: must be a postgres/);
  });

  it('accepts only a sha256 hex digest as the platform token setting', () => {
    assert.throws(
      () => loadConfig(apiConfigSchema, { ...valid, PLATFORM_ADMIN_TOKEN_SHA256: 'plain-token' }),
      /PLATFORM_ADMIN_TOKEN_SHA256/,
    );
    const digest = 'a'.repeat(64);
    assert.equal(loadConfig(apiConfigSchema, { ...valid, PLATFORM_ADMIN_TOKEN_SHA256: digest }).PLATFORM_ADMIN_TOKEN_SHA256, digest);
  });
});
