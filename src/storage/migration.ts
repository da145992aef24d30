/**
 * A migration is a numbered TypeScript module per backend (src/storage/<backend>/migrations/NNN-*.ts),
 * listed in order in that folder's index.ts: plain imports, so a bundle or `tsc` build carries them and
 * nothing is read from disk at run time. Applied versions are recorded in `schema_migrations`; opening
 * a store applies the missing ones in order, inside one transaction, so opening twice (or from two
 * processes at once) is safe.
 */
export interface Migration<Db> {
  readonly version: number;
  readonly name: string;
  up(db: Db): void | Promise<void>;
}

/** Catches editing mistakes at start: versions must be 1, 2, 3, ... with no gap or repeat. */
export function checkMigrationList<Db>(migrations: readonly Migration<Db>[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration list out of order: ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
}
