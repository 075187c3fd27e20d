import { Injectable, Logger } from '@nestjs/common';
import { tenantScope } from '@quarry/core';
import { Database } from '@quarry/db';
import { IngestionQueue } from '@quarry/ingestion';

/** Queues a refresh (fetch with ETag/Last-Modified) for every URL source whose interval has passed. */
@Injectable()
export class SourceRefresher {
  private readonly logger = new Logger(SourceRefresher.name);

  constructor(
    private readonly db: Database,
    private readonly queue: IngestionQueue,
  ) {}

  async refreshDue(limit: number): Promise<{ queued: number }> {
    const due = await this.db.unscoped(
      (client) => client.$queryRaw<{ tenant_id: string; document_id: string }[]>`
        SELECT tenant_id, document_id FROM quarry_sources_due(${limit}::int)`,
    );
    for (const row of due) {
      await this.queue.enqueue(tenantScope(row.tenant_id), row.document_id, 'fetch', 'refresh');
    }
    if (due.length > 0) this.logger.log({ queued: due.length }, 'Queued URL source refreshes');
    return { queued: due.length };
  }
}
