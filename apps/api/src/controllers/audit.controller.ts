import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AuditReader } from '@quarry/audit';
import type { Principal } from '@quarry/core';
import { Authorize, CurrentPrincipal, Permission } from '@quarry/identity';
import { AuditEventPageDto, AuditQueryDto } from '../dto/identity.dto';

@ApiTags('audit')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/audit-events')
export class AuditController {
  constructor(private readonly audit: AuditReader) {}

  /** Newest first. Filters: action, actorId, outcome, from/to (ISO 8601). */
  @Authorize(Permission.AuditRead)
  @Get()
  @ApiOkResponse({ type: AuditEventPageDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: AuditQueryDto) {
    return this.audit.list(principal, {
      limit: query.limit,
      cursor: query.cursor,
      action: query.action,
      actorId: query.actorId,
      outcome: query.outcome,
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
    });
  }
}
