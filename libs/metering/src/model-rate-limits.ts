import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type TenantScope } from '@quarry/core';
import { RedisClient } from '@quarry/db';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { BudgetPolicy } from './budget-settings';

export interface RateLimitHit {
  limit: 'tenant_requests' | 'user_requests' | 'tenant_tokens' | 'user_tokens';
  retryAfterMs: number;
}

const windowSeconds = 60;

/**
 * Requests and tokens per minute, per tenant and per user, counted in Redis so that every API instance
 * shares them. Requests are taken when a call is authorized; tokens are counted when a call is recorded
 * (its real size), and a new call is refused while the minute's tokens plus its estimate exceed the limit.
 */
@Injectable()
export class ModelRateLimits {
  private readonly requestLimiters = new Map<number, RateLimiterRedis>();
  private readonly tokens: RateLimiterRedis;

  constructor(private readonly redis: RedisClient) {
    // Points are compared by hand for tokens (limits differ per tenant); the limiter only keeps the window.
    this.tokens = new RateLimiterRedis({
      storeClient: redis.client,
      keyPrefix: redis.key('model', 'tpm'),
      points: Number.MAX_SAFE_INTEGER,
      duration: windowSeconds,
    });
  }

  async check(scope: TenantScope, userId: string | undefined, policy: BudgetPolicy, estimatedTokens: number): Promise<RateLimitHit | undefined> {
    return guarded(async () => {
      const tokenHit =
        (await this.tokenRoom(`t:${scope.tenantId}`, policy.tenantTokensPerMinute, estimatedTokens, 'tenant_tokens')) ??
        (userId ? await this.tokenRoom(`u:${scope.tenantId}:${userId}`, policy.userTokensPerMinute, estimatedTokens, 'user_tokens') : undefined);
      if (tokenHit) return tokenHit;
      return (
        (userId ? await this.takeRequest(`u:${scope.tenantId}:${userId}`, policy.userRequestsPerMinute, 'user_requests') : undefined) ??
        (await this.takeRequest(`t:${scope.tenantId}`, policy.tenantRequestsPerMinute, 'tenant_requests'))
      );
    });
  }

  /** Counts a finished call's tokens against the minute's token limits. */
  async countTokens(scope: TenantScope, userId: string | undefined, tokens: number): Promise<void> {
    if (tokens <= 0) return;
    await guarded(async () => {
      await this.tokens.penalty(`t:${scope.tenantId}`, tokens);
      if (userId) await this.tokens.penalty(`u:${scope.tenantId}:${userId}`, tokens);
    });
  }

  private async tokenRoom(key: string, limit: number | null, estimate: number, name: RateLimitHit['limit']): Promise<RateLimitHit | undefined> {
    if (limit === null) return undefined;
    const state = await this.tokens.get(key);
    const used = state?.consumedPoints ?? 0;
    // A single call larger than the whole limit may run when the minute is otherwise empty.
    if (used === 0 || used + Math.min(estimate, limit) <= limit) return undefined;
    return { limit: name, retryAfterMs: Math.max(1, state?.msBeforeNext ?? windowSeconds * 1000) };
  }

  private async takeRequest(key: string, limit: number | null, name: RateLimitHit['limit']): Promise<RateLimitHit | undefined> {
    if (limit === null) return undefined;
    try {
      await this.requestLimiter(limit).consume(key, 1);
      return undefined;
    } catch (error) {
      if (error instanceof RateLimiterRes) return { limit: name, retryAfterMs: Math.max(1, error.msBeforeNext) };
      throw error;
    }
  }

  /** One limiter per limit value, all on the same keys, so changing a tenant's limit keeps its current count. */
  private requestLimiter(points: number): RateLimiterRedis {
    let limiter = this.requestLimiters.get(points);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis.client,
        keyPrefix: this.redis.key('model', 'rpm'),
        points,
        duration: windowSeconds,
      });
      this.requestLimiters.set(points, limiter);
    }
    return limiter;
  }
}

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError(503, ErrorCode.DependencyUnavailable, 'Rate limits are temporarily unavailable');
  }
}
