import { Module } from '@nestjs/common';
import { AuditModule } from '@quarry/audit';
import { CollectionsService } from './collections.service';
import { DocumentsService } from './documents.service';

@Module({ imports: [AuditModule], providers: [CollectionsService, DocumentsService], exports: [CollectionsService, DocumentsService] })
export class DocumentsModule {}
