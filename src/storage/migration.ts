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

/**
 * Catches editing mistakes at start: versions must be positive and strictly increasing. Gaps are
 * allowed because areas are numbered when they are planned (the audit area is 004 while 002 and 003
 * are written in parallel); a store applies every listed version it has not recorded, in order.
 */
export function checkMigrationList<Db>(migrations: readonly Migration<Db>[]): void {
  migrations.forEach((m, i) => {
    const previous = i === 0 ? 0 : migrations[i - 1]!.version;
    if (!Number.isInteger(m.version) || m.version <= previous) {
      throw new Error(`migration list out of order: ${m.name} has version ${m.version}, expected more than ${previous}`);
    }
  });
}

/** The versions recorded in the database that this build does not list: a newer build wrote them. */
export function unknownVersions<Db>(migrations: readonly Migration<Db>[], applied: readonly number[]): number[] {
  const known = new Set(migrations.map((m) => m.version));
  return applied.filter((v) => !known.has(v));
}
