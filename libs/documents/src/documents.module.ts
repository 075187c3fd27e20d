import { Module } from '@nestjs/common';
import { AuditModule } from '@quarry/audit';
import { AccessService } from './access.service';
import { CollectionsService } from './collections.service';
import { DocumentsService } from './documents.service';

@Module({ imports: [AuditModule], providers: [AccessService, CollectionsService, DocumentsService], exports: [AccessService, CollectionsService, DocumentsService] })
export class DocumentsModule {}
