import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const postgresUrl = z
  .string()
  .url()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// or postgresql:// URL');

/** Settings shared by every Quarry process. Validated once at boot; a bad value stops the process. */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: postgresUrl,
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DB_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  REDIS_URL: z
    .string()
    .url()
    .refine((value) => /^rediss?:\/\//.test(value), 'must be a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
  /** Prefix of every BullMQ and rate-limit key, so several deployments (or test runs) can share one Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]{1,40}$/, 'lower-case letters, digits, - and _ only')
    .default('quarry'),
  HEALTH_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(2_000),
  /** JSON file of model prices (USD per 1M tokens) that extends and overrides the built-in table. */
  MODEL_PRICES_FILE: z.string().min(1).optional(),
});

export const apiConfigSchema = baseConfigSchema.extend({
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  PUBLIC_URL: z.string().url().default('http://localhost:3000'),
  TRUST_PROXY: bool.default(false),
  COOKIE_SECURE: bool.default(true),
  SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(43_200).default(720),
  SESSION_MAX_HOURS: z.coerce.number().int().min(1).max(8_760).default(168),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  LOGIN_LOCKOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  LOGIN_ATTEMPTS_PER_IP_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(30),
  /** sha256 (hex) of the platform administrator's bearer token. Unset: platform routes refuse everyone. */
  PLATFORM_ADMIN_TOKEN_SHA256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (sha256 of the token)')
    .optional(),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(kb|mb)$/, 'must look like 1mb or 512kb')
    .default('1mb'),
  /** Built console to serve at the API's origin; unset serves none. */
  CONSOLE_DIR: z.string().min(1).optional(),
});

export const workerConfigSchema = baseConfigSchema.extend({
  WORKER_HOST: z.string().min(1).default('0.0.0.0'),
  WORKER_PORT: z.coerce.number().int().min(1).max(65_535).default(3001),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;
export type ApiConfig = z.infer<typeof apiConfigSchema>;
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once; throws a ConfigError naming every bad variable, never only the first. */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const message = issue.code === 'invalid_type' && env[name] === undefined ? 'is required' : issue.message;
    return `${name}: ${message}`;
  });
  throw new ConfigError(problems);
}

/** Injection token for the validated configuration object. */
export const CONFIG = Symbol('QUARRY_CONFIG');
