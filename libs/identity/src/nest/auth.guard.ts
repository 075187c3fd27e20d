import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError, CONFIG, ErrorCode, type ApiConfig, type Principal, type RequestContextStore } from '@quarry/core';
import { ClsService } from 'nestjs-cls';
import { ApiKeysService } from '../api-keys.service';
import { safeEqual, sha256Hex } from '../secrets';
import { SessionsService } from '../sessions.service';
import { PLATFORM_ROUTE, PUBLIC_ROUTE, REQUIRED_PERMISSIONS, type AuthenticatedRequest } from './decorators';

export const SESSION_COOKIE = 'quarry_session';
export const CSRF_HEADER = 'x-csrf-token';

interface HttpRequest extends AuthenticatedRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  cookies?: Record<string, unknown>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The single global guard. Order: public routes pass; platform routes need the platform token; every
 * other route needs a principal (API key in `Authorization: Bearer`, else the session cookie, which on
 * unsafe methods must come with its CSRF token) holding every permission the route declares.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger(AuthGuard.name);
  private readonly platformTokenHash?: string;

  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
    private readonly sessions: SessionsService,
    private readonly context: ClsService<RequestContextStore>,
    @Inject(CONFIG) config: ApiConfig,
  ) {
    this.platformTokenHash = config.PLATFORM_ADMIN_TOKEN_SHA256;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<HttpRequest>();

    if (this.reflector.getAllAndOverride<boolean>(PLATFORM_ROUTE, targets)) {
      this.requirePlatformToken(request);
      return true;
    }

    const required = this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_PERMISSIONS, targets);
    if (!required) {
      this.logger.error(`Route ${request.method} ${context.getClass().name}.${context.getHandler().name} declares no permission`);
      throw AppError.forbidden();
    }

    const principal = await this.authenticate(request);
    request.principal = principal;
    if (this.context.isActive()) {
      this.context.set('tenantId', principal.tenantId);
      this.context.set('actor', principal.actor);
    }
    const missing = required.filter((permission) => !principal.permissions.has(permission));
    if (missing.length > 0) {
      throw new AppError(403, ErrorCode.Forbidden, 'You do not have permission to do this', { missing });
    }
    return true;
  }

  private async authenticate(request: HttpRequest): Promise<Principal> {
    const bearer = bearerToken(request);
    if (bearer !== undefined) return this.apiKeys.authenticate(bearer);

    // cookie-parser turns `j:{…}` values into objects; a session token is only ever a plain string.
    const cookie: unknown = request.cookies?.[SESSION_COOKIE];
    if (typeof cookie !== 'string' || cookie === '') throw AppError.unauthenticated();
    const session = await this.sessions.authenticate(cookie);
    if (!SAFE_METHODS.has(request.method.toUpperCase())) {
      const sent = header(request, CSRF_HEADER);
      if (!sent) throw new AppError(403, ErrorCode.CsrfTokenMissing, 'This request needs the X-CSRF-Token header');
      if (!safeEqual(sent, session.csrfToken)) {
        throw new AppError(403, ErrorCode.CsrfTokenInvalid, 'The X-CSRF-Token header does not match this session');
      }
    }
    return session.principal;
  }

  private requirePlatformToken(request: HttpRequest): void {
    const token = bearerToken(request);
    if (!this.platformTokenHash || !token || !safeEqual(sha256Hex(token), this.platformTokenHash)) {
      throw AppError.unauthenticated('Platform administration needs the platform token');
    }
    if (this.context.isActive()) this.context.set('actor', undefined);
  }
}

function header(request: HttpRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function bearerToken(request: HttpRequest): string | undefined {
  const value = header(request, 'authorization');
  if (value === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  if (!match) throw new AppError(401, ErrorCode.Unauthenticated, 'Authorization must be "Bearer <token>"');
  return match[1];
}
