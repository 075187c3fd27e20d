import { Global, Module } from '@nestjs/common';
import { Database } from './database';
import { RedisClient } from './redis';

/** PostgreSQL and Redis connections. Needs a CONFIG provider (see @quarry/core) in the importing application. */
@Global()
@Module({ providers: [Database, RedisClient], exports: [Database, RedisClient] })
export class DbModule {}
