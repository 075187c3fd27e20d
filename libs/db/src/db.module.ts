import { Global, Module } from '@nestjs/common';
import { Database } from './database';

/** Needs a CONFIG provider (see @quarry/core) in the importing application. */
@Global()
@Module({ providers: [Database], exports: [Database] })
export class DbModule {}
