import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiNotFoundResponse, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@quarry/core';
import { DocumentsService } from '@quarry/documents';
import { Authorize, CurrentPrincipal, Permission } from '@quarry/identity';
import type { DocumentEvent } from '@quarry/ingestion';
import type { Response } from 'express';
import { IdParam } from '../dto/common.dto';
import { DocumentEventHub } from './document-event-hub';

/** Long enough that proxies keep the connection; short enough that a dead client is noticed soon. */
export const heartbeatIntervalMs = 15_000;

const streamDescription = [
  'Server-Sent Events. First a `snapshot` event (document counts per status and the in-flight documents),',
  'then a `document` event whenever a document of this collection changes status or stage (phase, status, stage,',
  'error code/message, counts; never document text), and a `heartbeat` event every 15 s. A reconnect gets a fresh',
  'snapshot that covers anything missed, so Last-Event-ID is not needed.',
].join(' ');

@ApiTags('collections')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/collections')
export class EventStreamController {
  constructor(
    private readonly documents: DocumentsService,
    private readonly hub: DocumentEventHub,
  ) {}

  /** Live ingestion progress of a collection (text/event-stream). */
  @Authorize(Permission.DocumentsRead)
  @Get(':id/events')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: streamDescription, content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiNotFoundResponse({ description: 'No such collection in this tenant' })
  async stream(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Res() res: Response): Promise<void> {
    const collectionId = params.id;
    // Subscribe before the snapshot so nothing that happens in between is lost; queue events until it is sent.
    const pending: DocumentEvent[] = [];
    let snapshotSent = false;
    let sequence = 0;
    const send = (event: string, data: unknown) => {
      sequence += 1;
      res.write(`id: ${sequence}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const stop = await this.hub.listen(principal.tenantId, (event) => {
      if (event.tenantId !== principal.tenantId || event.collectionId !== collectionId) return;
      if (snapshotSent) send('document', event);
      else pending.push(event);
    });
    const timers: { heartbeat?: NodeJS.Timeout } = {};
    let closed = false;
    const close = () => {
      closed = true;
      stop();
      clearInterval(timers.heartbeat);
    };
    // The response's 'close' fires when the client goes away (the request's fires once its body is read).
    res.on('close', close);
    let snapshot: Awaited<ReturnType<DocumentsService['progress']>>;
    try {
      snapshot = await this.documents.progress(principal, collectionId);
    } catch (error) {
      close();
      throw error;
    }
    if (closed) return;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write('retry: 3000\n\n');
    send('snapshot', snapshot);
    snapshotSent = true;
    for (const event of pending.splice(0)) send('document', event);
    timers.heartbeat = setInterval(() => send('heartbeat', { at: new Date().toISOString() }), heartbeatIntervalMs);
  }
}
