import type { PoolClient } from 'pg';
import type { Migration } from '../../migration.js';
import { initial } from './001-initial.js';
import { oauthState } from './002-oauth-state.js';
import { quotaUsage } from './003-quota-usage.js';
import { audit } from './004-audit.js';

/** In version order; append only. A released migration is never edited: add the next one. */
export const POSTGRES_MIGRATIONS: readonly Migration<PoolClient>[] = [initial, oauthState, quotaUsage, audit];
