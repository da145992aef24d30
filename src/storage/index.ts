export type * from './types.js';
export { CREDENTIAL_TYPES } from './types.js';
export { StoreError, isStoreError, type StoreErrorCode } from './errors.js';
export { StorageConfigSchema, type StorageConfig } from './config.js';
export { openStore } from './open.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite/store.js';
export { PostgresStore, type PostgresStoreOptions } from './postgres/store.js';
