import { Inject, Injectable } from '@nestjs/common';
import { AuditWriter } from '@quarry/audit';
import { AppError, CONFIG, ErrorCode, tenantScope, type ApiConfig, type TenantScope } from '@quarry/core';
import { Database, RedisClient } from '@quarry/db';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { PasswordHasher } from './passwords';
import { SessionsService, type IssuedSession } from './sessions.service';
import { TenantsService, type TenantView } from './tenants.service';
import { normalizeEmail, toUserView, type UserView } from './users.service';

export interface LoginInput {
  tenant: string;
  email: string;
  password: string;
}

export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

export interface LoginResult {
  session: IssuedSession;
  user: UserView;
  tenant: TenantView;
}

/**
 * Local sign-in. Two limits, both kept in Redis so they hold across API instances:
 * attempts per client IP per minute (429 RATE_LIMITED), and consecutive failures per account, which lock
 * it for a while (429 ACCOUNT_LOCKED). Unknown tenants, unknown users and wrong passwords all answer the
 * same 401 after the same argon2 work, so none of them can be told apart.
 */
@Injectable()
export class LoginService {
  private readonly perIp: RateLimiterRedis;
  private readonly failures: RateLimiterRedis;
  private readonly maxFailures: number;

  constructor(
    private readonly db: Database,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly tenants: TenantsService,
    private readonly audit: AuditWriter,
    redis: RedisClient,
    @Inject(CONFIG) config: ApiConfig,
  ) {
    this.maxFailures = config.LOGIN_MAX_FAILURES;
    this.perIp = new RateLimiterRedis({
      storeClient: redis.client,
      keyPrefix: redis.key('login', 'ip'),
      points: config.LOGIN_ATTEMPTS_PER_IP_PER_MINUTE,
      duration: 60,
    });
    this.failures = new RateLimiterRedis({
      storeClient: redis.client,
      keyPrefix: redis.key('login', 'failures'),
      points: config.LOGIN_MAX_FAILURES,
      duration: config.LOGIN_LOCKOUT_SECONDS,
      blockDuration: config.LOGIN_LOCKOUT_SECONDS,
    });
  }

  async login(input: LoginInput, client: ClientInfo): Promise<LoginResult> {
    await this.limit(() => this.perIp.consume(client.ip ?? 'unknown'), ErrorCode.RateLimited, 'Too many sign-in attempts');

    const email = normalizeEmail(input.email);
    const tenant = await this.tenants.findBySlug(input.tenant.trim().toLowerCase());
    if (!tenant) {
      await this.hasher.verifyNothing(input.password);
      throw invalidCredentials();
    }
    const scope = tenantScope(tenant.id);
    const accountKey = `${tenant.id}:${email}`;

    // Count the attempt before checking the password, atomically in Redis: parallel guesses cannot
    // all slip in before the first failure is recorded.
    let attempt: RateLimiterRes;
    try {
      attempt = await this.failures.consume(accountKey);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) {
        throw new AppError(503, ErrorCode.DependencyUnavailable, 'Sign-in is temporarily unavailable');
      }
      await this.recordFailure(scope, email, null, 'locked');
      throw AppError.tooManyRequests(
        ErrorCode.AccountLocked,
        'Too many failed sign-ins: this account is locked for a while',
        error.msBeforeNext / 1000,
      );
    }

    const user = await this.db.tenant(scope, (tx) => tx.user.findFirst({ where: { tenantId: scope.tenantId, email } }));
    const valid =
      user?.passwordHash && user.status === 'active'
        ? await this.hasher.verify(user.passwordHash, input.password)
        : await this.hasher.verifyNothing(input.password);

    if (!valid || !user) {
      const reason = !user ? 'unknown_user' : user.status !== 'active' ? 'user_disabled' : 'wrong_password';
      await this.recordFailure(scope, email, user?.id ?? null, reason);
      if (attempt.consumedPoints === this.maxFailures) {
        await this.audit.record(scope, {
          action: 'auth.lockout',
          outcome: 'success',
          actor: { type: 'anonymous', id: null },
          target: { type: 'user', id: user?.id ?? email },
          metadata: { email, failures: this.maxFailures },
        });
      }
      throw invalidCredentials();
    }
    if (tenant.status !== 'active') throw new AppError(403, ErrorCode.TenantSuspended, 'This tenant is suspended');

    await this.failures.delete(accountKey).catch(() => undefined);
    const session = await this.sessions.issue(scope, user.id, client);
    const updated = await this.db.tenant(scope, async (tx) => {
      const row = await tx.user.update({ where: { id: user.id, tenantId: scope.tenantId }, data: { lastLoginAt: new Date() } });
      await this.audit.record(scope, {
        action: 'auth.login',
        outcome: 'success',
        actor: { type: 'user', id: user.id },
        target: { type: 'user', id: user.id },
        metadata: { method: 'password' },
      });
      return row;
    });
    return { session, user: toUserView(updated), tenant };
  }

  private recordFailure(scope: TenantScope, email: string, userId: string | null, reason: string): Promise<void> {
    return this.audit.record(scope, {
      action: 'auth.login',
      outcome: 'failure',
      actor: { type: 'anonymous', id: null },
      target: { type: 'user', id: userId ?? email },
      metadata: { method: 'password', email, reason },
    });
  }

  private async limit<T>(work: () => Promise<T>, code: ErrorCode, message: string): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        throw AppError.tooManyRequests(code, `${message}; try again later`, error.msBeforeNext / 1000);
      }
      // Redis unreachable: fail closed rather than allow unlimited guessing.
      throw new AppError(503, ErrorCode.DependencyUnavailable, 'Sign-in is temporarily unavailable');
    }
  }
}

function invalidCredentials(): AppError {
  return new AppError(401, ErrorCode.InvalidCredentials, 'The workspace, email or password is wrong');
}
