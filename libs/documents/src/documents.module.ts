import { Module } from '@nestjs/common';
import { AuditModule } from '@quarry/audit';
import { AccessService } from './access.service';
import { CollectionsService } from './collections.service';
import { DocumentsService } from './documents.service';
import { ReaderAccess } from './reader-access';
import { TenantSearchSettingsService } from './tenant-search-settings.service';

@Module({
  imports: [AuditModule],
  providers: [AccessService, CollectionsService, DocumentsService, ReaderAccess, TenantSearchSettingsService],
  exports: [AccessService, CollectionsService, DocumentsService, ReaderAccess, TenantSearchSettingsService],
})
export class DocumentsModule {}
