import { apiConfigSchema, loadConfig, type ApiConfig } from '@quarry/core';

/**
 * Test configuration: the database and Redis that `npm test` prepared (scripts/env.sh), with overrides.
 * Integration tests run as quarry_app, under row-level security, exactly as the API does.
 */
export function testConfig(overrides: Record<string, string> = {}): ApiConfig {
  return loadConfig(apiConfigSchema, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    COOKIE_SECURE: 'false',
    ...process.env,
    ...overrides,
  });
}

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set (run the tests through npm test)`);
  return value;
}

/** A short random suffix for names that must be unique per test (tenant slugs, emails, Redis prefixes). */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
