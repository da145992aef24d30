import type { LoadedConfig } from '../config/load.js';

/** Placeholder replaced by the cluster implementation. */
export async function runCluster(_loaded: LoadedConfig): Promise<void> {
  throw new Error('workers > 1 is not implemented yet');
}
