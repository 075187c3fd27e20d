import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { PlatformAdmin, TenantsService } from '@quarry/identity';
import { PageQueryDto } from '../dto/common.dto';
import { CreatedTenantDto, CreateTenantBody, TenantPageDto } from '../dto/identity.dto';

/** Platform administration (the operator, not a tenant): create and list tenants. */
@ApiTags('platform')
@ApiBearerAuth()
@PlatformAdmin()
@Controller('v1/platform/tenants')
export class PlatformController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedTenantDto })
  create(@Body() body: CreateTenantBody) {
    return this.tenants.create(body);
  }

  @Get()
  @ApiOkResponse({ type: TenantPageDto })
  list(@Query() query: PageQueryDto) {
    return this.tenants.list(query.limit, query.cursor);
  }
}
