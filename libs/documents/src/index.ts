export * from './collection-settings';
export * from './collections.service';
export * from './documents.module';
export * from './documents.service';
export * from './access.service';
export * from './search-settings';
export * from './tenant-search-settings.service';
export * from './reader-access';
