import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ConversationsService, ReplayService } from '@quarry/chat';
import { actingUserId, AppError, type Principal } from '@quarry/core';
import { Authorize, CurrentPrincipal, Permission } from '@quarry/identity';
import type { Request } from 'express';
import { CallerAccess } from '../chat/caller-access';
import { ConversationPageDto, ConversationWithMessagesDto, FeedbackBody, ReplayDto, TraceDto } from '../dto/chat.dto';
import { IdParam, PageQueryDto } from '../dto/common.dto';

function ownerOf(principal: Principal): string {
  const userId = actingUserId(principal.actor);
  if (!userId) throw AppError.forbidden('Only users and their API keys have conversations');
  return userId;
}

/** The caller's own conversations; anyone else's answer 404 exactly like missing ones. */
@ApiTags('chat')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Authorize(Permission.Chat)
  @Get()
  @ApiOkResponse({ type: ConversationPageDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto) {
    return this.conversations.list(principal, ownerOf(principal), query);
  }

  @Authorize(Permission.Chat)
  @Get(':id')
  @ApiOkResponse({ type: ConversationWithMessagesDto })
  get(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.conversations.get(principal, ownerOf(principal), params.id);
  }

  @Authorize(Permission.Chat)
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param() params: IdParam): Promise<void> {
    await this.conversations.remove(principal, ownerOf(principal), params.id);
  }
}

/** An answer's trace, feedback on it, and replay against today's configuration. */
@ApiTags('chat')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/messages')
export class MessagesController {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly replays: ReplayService,
    private readonly reader: CallerAccess,
  ) {}

  @Authorize(Permission.Chat)
  @Get(':id/trace')
  @ApiOkResponse({ type: TraceDto })
  trace(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.conversations.trace(principal, ownerOf(principal), params.id);
  }

  @Authorize(Permission.Chat)
  @Post(':id/feedback')
  @HttpCode(200)
  @ApiOkResponse({ type: TraceDto })
  feedback(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Body() body: FeedbackBody) {
    return this.conversations.feedback(principal, ownerOf(principal), params.id, { rating: body.rating, ...(body.comment ? { comment: body.comment } : {}) });
  }

  /** Re-runs the answer's standalone query with today's template, model, settings, documents and permissions. */
  @Authorize(Permission.Chat)
  @Post(':id/replay')
  @HttpCode(200)
  @ApiOkResponse({ type: ReplayDto })
  async replay(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Req() req: Request) {
    const userId = ownerOf(principal);
    const trace = await this.conversations.trace(principal, userId, params.id);
    const collectionIds = (trace.retrievalConfig as { collectionIds?: string[] } | null)?.collectionIds;
    const access = {
      userId,
      apiKeyId: principal.actor.type === 'api_key' ? principal.actor.id : null,
      readerTokens: await this.reader.tokens(principal),
      collections: await this.reader.collectionsFor(principal, collectionIds && collectionIds.length > 0 ? collectionIds : undefined),
    };
    const abort = new AbortController();
    req.socket.once('close', () => abort.abort());
    return this.replays.replay(principal, access, params.id, abort.signal);
  }
}
