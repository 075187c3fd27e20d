import { Module } from '@nestjs/common';
import { AuditModule } from '@quarry/audit';
import { AccessService } from './access.service';
import { CollectionsService } from './collections.service';
import { DocumentsService } from './documents.service';
import { ReaderAccess } from './reader-access';

@Module({
  imports: [AuditModule],
  providers: [AccessService, CollectionsService, DocumentsService, ReaderAccess],
  exports: [AccessService, CollectionsService, DocumentsService, ReaderAccess],
})
export class DocumentsModule {}
