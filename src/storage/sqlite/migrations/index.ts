import type { Database } from 'better-sqlite3';
import type { Migration } from '../../migration.js';
import { initial } from './001-initial.js';
import { oauthState } from './002-oauth-state.js';
import { quotaUsage } from './003-quota-usage.js';
import { audit } from './004-audit.js';

/** In version order; append only. A released migration is never edited: add the next one. */
export const SQLITE_MIGRATIONS: readonly Migration<Database>[] = [initial, oauthState, quotaUsage, audit];
