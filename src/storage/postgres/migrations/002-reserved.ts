import type { PoolClient } from 'pg';
import type { Migration } from '../../migration.js';

/**
 * Placeholder: version 2 belongs to another branch (issue 5 work is split; this branch owns 003).
 * Replace this file with that branch's migration 002 when merging; it must do nothing here.
 */
export const reserved002: Migration<PoolClient> = { version: 2, name: 'reserved-002', async up() {} };
