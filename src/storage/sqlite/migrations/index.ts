import type { Database } from 'better-sqlite3';
import type { Migration } from '../../migration.js';
import { initial } from './001-initial.js';
import { oauthState } from './002-oauth-state.js';

/** In version order; append only. A released migration is never edited: add the next one. */
export const SQLITE_MIGRATIONS: readonly Migration<Database>[] = [initial, oauthState];
