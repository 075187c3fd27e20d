import { Module } from '@nestjs/common';
import { DocumentsModule } from '@quarry/documents';
import { JobProducer } from '@quarry/jobs';
import { MeteringModule } from '@quarry/metering';
import { StorageModule } from '@quarry/storage';
import { DocumentEventPublisher } from './events/document-events';
import { IntakeService } from './intake.service';
import { IngestionQueue } from './queue/ingestion-queue';

/**
 * Intake side of ingestion (the API): storage, registration, queueing. Needs DbModule, ClsModule and a
 * CONFIG that includes ingestionConfigSchema.
 */
@Module({
  imports: [DocumentsModule, StorageModule, MeteringModule],
  providers: [JobProducer, IngestionQueue, IntakeService, DocumentEventPublisher],
  exports: [IngestionQueue, IntakeService, DocumentEventPublisher, DocumentsModule, StorageModule],
})
export class IngestionModule {}
