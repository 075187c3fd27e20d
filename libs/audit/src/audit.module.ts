import { Module } from '@nestjs/common';
import { AuditReader } from './audit-reader';
import { AuditWriter } from './audit-writer';

@Module({ providers: [AuditWriter, AuditReader], exports: [AuditWriter, AuditReader] })
export class AuditModule {}
