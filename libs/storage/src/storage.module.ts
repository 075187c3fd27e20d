import { Module } from '@nestjs/common';
import { createObjectStorage, loadStorageConfig } from './config';
import type { ObjectStorage } from './object-storage';

/** Injection token for the configured ObjectStorage: `@Inject(OBJECT_STORAGE) storage: ObjectStorage`. */
export const OBJECT_STORAGE = Symbol('QUARRY_OBJECT_STORAGE');

/**
 * Provides the ObjectStorage chosen by the STORAGE_* variables. They are read and validated when the
 * application starts, so a bad setting stops the process instead of failing the first upload.
 */
@Module({
  providers: [{ provide: OBJECT_STORAGE, useFactory: (): ObjectStorage => createObjectStorage(loadStorageConfig(process.env)) }],
  exports: [OBJECT_STORAGE],
})
export class StorageModule {}
