import { Body, Controller, HttpCode, Inject, Logger, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ChatService, type ChatEvent, type DoneEvent } from '@quarry/chat';
import { actingUserId, AppError, CONFIG, ErrorCode, type Principal } from '@quarry/core';
import { Authorize, CurrentPrincipal, Permission } from '@quarry/identity';
import type { Response } from 'express';
import { ChatMetrics } from '../chat/chat-metrics';
import { CallerAccess } from '../chat/caller-access';
import { SseWriter } from '../chat/sse';
import type { ApiEnv } from '../config';
import { ChatAnswerDto, ChatBody } from '../dto/chat.dto';

/** Status of a non-streamed answer whose generation failed, by the error event's code. */
const failureStatus: Record<string, number> = { MODEL_TIMEOUT: 504, MODEL_RATE_LIMITED: 503, MODEL_UNAVAILABLE: 503 };

@ApiTags('chat')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/chat')
export class ChatController {
  private readonly logger = new Logger('Chat');

  constructor(
    private readonly chat: ChatService,
    private readonly reader: CallerAccess,
    private readonly metrics: ChatMetrics,
    @Inject(CONFIG) private readonly config: ApiEnv,
  ) {}

  /**
   * Answers from the documents the caller may read, citing passages as [n]. Streams server-sent events
   * (`message_start`, `retrieval`, `delta`, `citation`, `heartbeat`, `error`, `done`), or with
   * `stream: false` answers with the `done` event as one JSON body. Everything that can be refused
   * (validation, unknown conversation, message too long for the model, budget) is a 4xx before the
   * stream opens; a client that disconnects stops generation and is billed for what was generated.
   */
  @Authorize(Permission.Chat)
  @Post()
  @HttpCode(200)
  @ApiProduces('text/event-stream', 'application/json')
  @ApiOkResponse({ type: ChatAnswerDto })
  async ask(@CurrentPrincipal() principal: Principal, @Body() body: ChatBody, @Res() res: Response): Promise<void> {
    const userId = actingUserId(principal.actor);
    if (!userId) throw AppError.forbidden('Only users and their API keys can chat');
    const access = {
      userId,
      apiKeyId: principal.actor.type === 'api_key' ? principal.actor.id : null,
      readerTokens: await this.reader.tokens(principal),
      collections: await this.reader.collectionsFor(principal, body.collectionIds),
    };
    const run = await this.chat.start(principal, access, {
      message: body.message,
      mode: body.mode,
      ...(body.conversationId ? { conversationId: body.conversationId } : {}),
    });
    const abort = new AbortController();
    // The response closing before we end it means the client went away: stop generating.
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const sse = body.stream ? new SseWriter(res, this.config.CHAT_HEARTBEAT_MS) : undefined;
    let done: DoneEvent | undefined;
    let failure: Extract<ChatEvent, { type: 'error' }> | undefined;
    try {
      // Drained to the end even after a disconnect, so the answer is stored and billed.
      for await (const event of run.events(abort.signal)) {
        if (event.type === 'done') done = event;
        if (event.type === 'error') failure ??= event;
        sse?.send(event);
      }
    } catch (error) {
      if (!sse) throw error;
      // The stream is open: the failure becomes its last event instead of an HTTP status.
      this.logger.error({ err: error, conversationId: run.conversationId, messageId: run.messageId }, 'Chat stream failed');
      sse.send({ type: 'error', code: ErrorCode.Internal, message: 'The answer failed; the error has been logged', retryable: true });
    } finally {
      sse?.end();
      if (done) this.metrics.record(principal.tenantId, done);
    }
    if (sse || res.writableEnded || res.destroyed) return;
    if (failure && done?.status === 'failed') {
      throw new AppError(failureStatus[failure.code] ?? 502, failure.code as ErrorCode, failure.message, { conversationId: run.conversationId, messageId: run.messageId });
    }
    res.status(200).json(done);
  }
}
