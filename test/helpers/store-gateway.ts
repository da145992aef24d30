import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite/store.js';
import type { Store } from '../../src/storage/types.js';
import { basicConfig, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from './servers.js';

type EchoHandler = Parameters<typeof startUpstreamEcho>[0];

export interface StoreGateway {
  readonly dir: string;
  readonly upstream: EchoUpstream;
  readonly gw: TestGateway;
  close(): Promise<void>;
}

/**
 * A real gateway on a real SQLite file store, seeded (consumers, credentials) before it starts,
 * with a real echo upstream (answering as `handler` says, when given). `routes` are YAML list items
 * placed before the catch-all route; `top` is more top-level YAML (an admin or metrics section).
 */
export async function startStoreGateway(prefix: string, seed: (store: Store) => Promise<void>, routes: string, handler?: EchoHandler, top = ''): Promise<StoreGateway> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, 'gw.db');
  const store = SqliteStore.open({ path });
  try {
    await seed(store);
  } finally {
    await store.close();
  }
  const upstream = await startUpstreamEcho(handler);
  const gw = await startGateway(basicConfig('', `storage: { backend: sqlite, sqlite: { path: "${path}" } }\n${top}`).replace('routes:\n', `routes:\n${routes}`), {
    upstreamUrl: upstream.url,
  });
  return {
    dir,
    upstream,
    gw,
    async close() {
      await gw.close();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
