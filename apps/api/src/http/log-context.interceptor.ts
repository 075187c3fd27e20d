import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { AuthenticatedRequest } from '@quarry/identity';
import { PinoLogger } from 'nestjs-pino';
import type { Observable } from 'rxjs';

/** After authentication: every later log line of the request (and its summary line) names tenant and actor. */
@Injectable()
export class LogContextInterceptor implements NestInterceptor {
  constructor(private readonly logger: PinoLogger) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (principal) {
      this.logger.assign({ tenantId: principal.tenantId, actor: { type: principal.actor.type, id: principal.actor.id } });
    }
    return next.handle();
  }
}
