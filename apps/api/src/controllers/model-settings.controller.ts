import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@quarry/core';
import { GenerationModels, TenantModelSettingsService, type TenantModelView } from '@quarry/generation';
import { Authorize, CurrentPrincipal, Permission } from '@quarry/identity';
import { ModelSettingsDto, PutModelsBody } from '../dto/models.dto';

interface ModelSettings {
  models: TenantModelView[];
  usingDefault: boolean;
  defaultModel: TenantModelView;
}

@ApiTags('settings')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/settings/models')
export class ModelSettingsController {
  constructor(
    private readonly settings: TenantModelSettingsService,
    private readonly models: GenerationModels,
  ) {}

  @Authorize(Permission.ModelsManage)
  @Get()
  @ApiOkResponse({ type: ModelSettingsDto })
  async get(@CurrentPrincipal() principal: Principal): Promise<ModelSettings> {
    return this.view(await this.settings.list(principal));
  }

  @Authorize(Permission.ModelsManage)
  @Put()
  @ApiOkResponse({ type: ModelSettingsDto })
  async put(@CurrentPrincipal() principal: Principal, @Body() body: PutModelsBody): Promise<ModelSettings> {
    return this.view(await this.settings.replace(principal, body.models));
  }

  private view(models: TenantModelView[]): ModelSettings {
    return { models, usingDefault: models.length === 0, defaultModel: this.models.embeddedView() };
  }
}
