import { Body, Controller, Get, Patch, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@quarry/core';
import { Authorize, CurrentPrincipal, Permission } from '@quarry/identity';
import { BudgetAlerts, BudgetSettingsStore, ModelBudgetService, UsageReports } from '@quarry/metering';
import { PageQueryDto } from '../dto/common.dto';
import { BudgetOverviewDto, BudgetSettingsPatchBody, UsageAlertPageDto, UsageQueryDto, UsageReportDto } from '../dto/usage.dto';

@ApiTags('usage')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/usage')
export class UsageController {
  constructor(
    private readonly reports: UsageReports,
    private readonly alerts: BudgetAlerts,
  ) {}

  /** Model calls (tokens, cost) and ingestion (pages, embedded tokens, bytes), grouped by day, model, user, API key. */
  @Authorize(Permission.UsageRead)
  @Get()
  @ApiOkResponse({ type: UsageReportDto })
  report(@CurrentPrincipal() principal: Principal, @Query() query: UsageQueryDto) {
    return this.reports.report(principal, query);
  }

  /** Budget alerts (50, 80, 100% of a tenant or user budget), newest first. */
  @Authorize(Permission.UsageRead)
  @Get('alerts')
  @ApiOkResponse({ type: UsageAlertPageDto })
  listAlerts(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto) {
    return this.alerts.list(principal, query);
  }
}

@ApiTags('usage')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/settings/budgets')
export class BudgetSettingsController {
  constructor(
    private readonly budgets: ModelBudgetService,
    private readonly settings: BudgetSettingsStore,
  ) {}

  /** Budgets, rate limits, the action at 100%, the kill switch, and this period's use of the tenant budget. */
  @Authorize(Permission.UsageRead)
  @Get()
  @ApiOkResponse({ type: BudgetOverviewDto })
  get(@CurrentPrincipal() principal: Principal) {
    return this.budgets.overview(principal);
  }

  /** Changes only the fields given; `generationEnabled: false` is the kill switch. */
  @Authorize(Permission.BudgetsManage)
  @Patch()
  @ApiOkResponse({ type: BudgetOverviewDto })
  async update(@CurrentPrincipal() principal: Principal, @Body() body: BudgetSettingsPatchBody) {
    await this.settings.update(principal, body);
    return this.budgets.overview(principal);
  }
}
