import { isAbsolute, resolve } from 'node:path';
import type { StorageConfig } from './config.js';
import { PostgresStore } from './postgres/store.js';
import { SqliteStore } from './sqlite/store.js';
import type { Store } from './types.js';

/** Defaults for a config whose `storage` section was left out entirely (the schema fills the rest). */
const DEFAULT: StorageConfig = {
  backend: 'sqlite',
  sqlite: { path: './data/portcullis.db' },
  postgres: { url: 'postgres://postgres@127.0.0.1:5432/portcullis', poolSize: 10, schema: 'public' },
};

/**
 * Opens the configured store and migrates it up. A relative SQLite path is taken from the config
 * file's folder, not the working directory, so `portcullis start --config /etc/x.yaml` finds the same
 * file wherever it is started from.
 */
export async function openStore(
  config: { storage?: StorageConfig | undefined },
  configDir: string,
  options: { onError?: (err: Error) => void } = {},
): Promise<Store> {
  const storage = config.storage ?? DEFAULT;
  if (storage.backend === 'postgres') {
    const { url, poolSize, schema } = storage.postgres;
    return PostgresStore.open({ url, poolSize, schema, ...(options.onError ? { onError: options.onError } : {}) });
  }
  const path = storage.sqlite.path;
  return SqliteStore.open({ path: path === ':memory:' || isAbsolute(path) ? path : resolve(configDir, path) });
}
