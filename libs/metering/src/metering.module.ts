import { Module } from '@nestjs/common';
import { UsageWriter } from './usage-writer';

@Module({ providers: [UsageWriter], exports: [UsageWriter] })
export class MeteringModule {}
