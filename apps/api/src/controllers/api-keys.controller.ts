import { Body, Controller, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@quarry/core';
import { ApiKeysService, Authorize, CurrentPrincipal, Permission } from '@quarry/identity';
import { IdParam, PageQueryDto } from '../dto/common.dto';
import { ApiKeyDto, ApiKeyPageDto, CreateApiKeyBody, CreatedApiKeyDto } from '../dto/identity.dto';

/** Users manage their own keys; holders of api_keys:all see and revoke every key in the tenant. */
@ApiTags('api-keys')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Authorize(Permission.ApiKeysOwn)
  @Get()
  @ApiOkResponse({ type: ApiKeyPageDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto) {
    return this.keys.list(principal, query);
  }

  /** The response is the only time the full key is shown. */
  @Authorize(Permission.ApiKeysOwn)
  @Post()
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateApiKeyBody) {
    return this.keys.create(principal, {
      name: body.name,
      scopes: body.scopes,
      ...(body.expiresAt ? { expiresAt: new Date(body.expiresAt) } : {}),
    });
  }

  @Authorize(Permission.ApiKeysOwn)
  @Get(':id')
  @ApiOkResponse({ type: ApiKeyDto })
  get(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.keys.get(principal, params.id);
  }

  @Authorize(Permission.ApiKeysOwn)
  @Delete(':id')
  @ApiOkResponse({ type: ApiKeyDto, description: 'The revoked key' })
  revoke(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.keys.revoke(principal, params.id);
  }
}
