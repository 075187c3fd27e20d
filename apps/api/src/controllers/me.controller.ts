import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { actingUserId, type Principal } from '@quarry/core';
import { Authorize, CurrentPrincipal, Permission, TenantsService, UsersService } from '@quarry/identity';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { tenantSchema, userSchema } from '../dto/identity.dto';

class MeDto extends createZodDto(
  z.object({
    user: userSchema.nullable(),
    tenant: tenantSchema,
    actor: z.object({ type: z.string(), id: z.string() }),
    permissions: z.array(z.string()),
  }),
) {}

@ApiTags('tenant')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1')
export class MeController {
  constructor(
    private readonly users: UsersService,
    private readonly tenants: TenantsService,
  ) {}

  /** Who is calling: user, tenant, actor (session or API key) and effective permissions. */
  @Authorize()
  @Get('me')
  @ApiOkResponse({ type: MeDto })
  async me(@CurrentPrincipal() principal: Principal): Promise<MeDto> {
    const userId = actingUserId(principal.actor);
    return {
      user: userId ? await this.users.get(principal, userId) : null,
      tenant: await this.tenants.current(principal),
      actor: { type: principal.actor.type, id: principal.actor.id },
      permissions: [...principal.permissions].sort(),
    };
  }

  @Authorize(Permission.TenantRead)
  @Get('tenant')
  @ApiOkResponse({ type: MeDto })
  tenant(@CurrentPrincipal() principal: Principal) {
    return this.tenants.current(principal);
  }
}
