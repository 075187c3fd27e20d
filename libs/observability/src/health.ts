import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type BaseConfig } from '@quarry/core';
import { Database, RedisClient } from '@quarry/db';

export interface HealthCheck {
  readonly name: string;
  run(): Promise<void>;
}

export interface DependencyStatus {
  status: 'ok' | 'error';
  latencyMs: number;
  error?: string;
}

export interface ReadinessReport {
  status: 'ok' | 'error';
  checks: Record<string, DependencyStatus>;
}

/**
 * Readiness = every registered dependency answered within the time limit. Postgres and Redis are
 * registered here; later modules (model providers, object storage) register theirs at start-up.
 * Small enough that a health-check library would add more surface than it saves.
 */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();
  private readonly timeoutMs: number;

  constructor(@Inject(CONFIG) config: BaseConfig, database: Database, redis: RedisClient) {
    this.timeoutMs = config.HEALTH_TIMEOUT_MS;
    this.register({ name: 'postgres', run: () => database.ping() });
    this.register({ name: 'redis', run: () => redis.ping() });
  }

  register(check: HealthCheck): void {
    this.checks.set(check.name, check);
  }

  async readiness(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks.values()].map(async (check) => [check.name, await this.runOne(check)] as const),
    );
    const checks = Object.fromEntries(entries);
    const status = entries.every(([, result]) => result.status === 'ok') ? 'ok' : 'error';
    return { status, checks };
  }

  private async runOne(check: HealthCheck): Promise<DependencyStatus> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check.run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
      return { status: 'ok', latencyMs: elapsed(started) };
    } catch (error) {
      // The message names the failure (refused, timeout) without connection strings or credentials.
      const message = error instanceof Error ? error.message.split('\n')[0]!.slice(0, 200) : 'failed';
      return { status: 'error', latencyMs: elapsed(started), error: message };
    } finally {
      clearTimeout(timer);
    }
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
