import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { BatchJobsService } from '@quarry/chat';
import { tenantScope } from '@quarry/core';
import { ReaderAccess } from '@quarry/documents';
import { chatBatchJob, JobContractError, openEnvelope, Queues } from '@quarry/jobs';
import { EmbeddingProviders } from '@quarry/models';
import { UnrecoverableError, type Job } from 'bullmq';

/** Batch chat questions (POST /v1/jobs), answered with the job owner's permissions as they are now. */
@Processor(Queues.chat, { concurrency: 1 })
export class ChatJobsProcessor extends WorkerHost {
  private readonly logger = new Logger(ChatJobsProcessor.name);

  constructor(
    private readonly jobs: BatchJobsService,
    private readonly reader: ReaderAccess,
    private readonly models: EmbeddingProviders,
  ) {
    super();
  }

  async process(job: Job): Promise<unknown> {
    let payload;
    try {
      payload = openEnvelope(chatBatchJob, job.data);
    } catch (error) {
      if (error instanceof JobContractError) throw new UnrecoverableError(error.message);
      throw error;
    }
    const scope = tenantScope(payload.tenantId);
    const result = await this.jobs.run(
      scope,
      payload.jobId,
      async (tenant, owner) => {
        const defaultModel = this.models.default().model;
        const collections = await this.reader.collectionsFor(tenant, owner.collectionIds.length > 0 ? owner.collectionIds : undefined);
        return {
          userId: owner.userId,
          apiKeyId: owner.apiKeyId,
          readerTokens: await this.reader.tokens(tenant, owner.userId),
          collections: collections.map((collection) => ({ ...collection, embeddingModel: collection.embeddingModel ?? defaultModel })),
        };
      },
      new AbortController().signal,
    );
    this.logger.log({ jobId: payload.jobId, tenantId: payload.tenantId, status: result.status, completed: result.progress.completed }, 'Chat batch job ran');
    return { status: result.status };
  }
}
