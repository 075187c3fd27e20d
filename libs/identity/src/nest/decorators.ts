import { applyDecorators, createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '@quarry/core';

export { Public, PUBLIC_ROUTE } from '@quarry/core';
import type { Permission } from '../permissions';

export const PLATFORM_ROUTE = 'quarry:platform';
export const REQUIRED_PERMISSIONS = 'quarry:permissions';

/** Platform administration: the bearer token configured by PLATFORM_ADMIN_TOKEN_SHA256, nothing else. */
export const PlatformAdmin = (): MethodDecorator & ClassDecorator => SetMetadata(PLATFORM_ROUTE, true);

/**
 * The permissions a tenant route needs. A route that is neither public, platform, nor declares
 * permissions is refused: forgetting this decorator closes the route instead of opening it.
 */
export const Authorize = (...permissions: Permission[]): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(REQUIRED_PERMISSIONS, permissions));

export interface AuthenticatedRequest {
  principal?: Principal;
}

/** The authenticated principal of the current request (tenant scope, actor, effective permissions). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.principal) throw new Error('CurrentPrincipal used on a route without an authenticated principal');
  return request.principal;
});
