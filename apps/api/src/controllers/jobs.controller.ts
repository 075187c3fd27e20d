import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { BatchJobsService } from '@quarry/chat';
import { actingUserId, AppError, type Principal } from '@quarry/core';
import { Authorize, CurrentPrincipal, Permission } from '@quarry/identity';
import { BatchQueue } from '../chat/batch-queue';
import { CallerAccess } from '../chat/caller-access';
import { BatchJobBody, BatchJobDto, BatchJobPageDto, CreatedBatchJobDto } from '../dto/chat.dto';
import { IdParam, PageQueryDto } from '../dto/common.dto';

function ownerOf(principal: Principal): string {
  const userId = actingUserId(principal.actor);
  if (!userId) throw AppError.forbidden('Only users and their API keys can run chat jobs');
  return userId;
}

/** Batch questions answered by the worker: poll the job, or receive a signed webhook when it ends. */
@ApiTags('chat')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/jobs')
export class JobsController {
  constructor(
    private readonly jobs: BatchJobsService,
    private readonly queue: BatchQueue,
    private readonly caller: CallerAccess,
  ) {}

  /**
   * Queues the questions (202). With `webhookUrl`, the response carries `webhookSecret` once: deliveries
   * are signed `Quarry-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
   */
  @Authorize(Permission.Chat)
  @Post()
  @HttpCode(202)
  @ApiAcceptedResponse({ type: CreatedBatchJobDto })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: BatchJobBody) {
    const userId = ownerOf(principal);
    // Unknown collections are refused now rather than failing the job later.
    if (body.collectionIds) await this.caller.collectionsFor(principal, body.collectionIds);
    return this.jobs.create(
      principal,
      { userId, apiKeyId: principal.actor.type === 'api_key' ? principal.actor.id : null },
      { questions: body.questions, mode: body.mode, ...(body.collectionIds ? { collectionIds: body.collectionIds } : {}), ...(body.webhookUrl ? { webhookUrl: body.webhookUrl } : {}) },
      (scope, id) => this.queue.enqueue(scope, id),
    );
  }

  @Authorize(Permission.Chat)
  @Get()
  @ApiOkResponse({ type: BatchJobPageDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto) {
    return this.jobs.list(principal, ownerOf(principal), query);
  }

  @Authorize(Permission.Chat)
  @Get(':id')
  @ApiOkResponse({ type: BatchJobDto })
  get(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.jobs.get(principal, ownerOf(principal), params.id);
  }
}
