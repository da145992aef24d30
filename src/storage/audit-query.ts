import { StoreError } from './errors.js';
import type { AuditQuery } from './audit-types.js';

/** The query with its limit bounded and defaults filled, shared by both backends. */
export interface CheckedAuditQuery {
  after: number;
  limit: number;
  since: number | null;
  until: number | null;
  actor: string | null;
  route: string | null;
  outcome: string | null;
  kind: string | null;
}

export function checkAuditQuery(query: AuditQuery = {}): CheckedAuditQuery {
  const limit = query.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new StoreError('STORE_INVALID', 'audit query limit must be an integer from 1 to 10000');
  return {
    after: query.afterPosition ?? 0,
    limit,
    since: query.since ?? null,
    until: query.until ?? null,
    actor: query.actor ?? null,
    route: query.route ?? null,
    outcome: query.outcome ?? null,
    kind: query.kind ?? null,
  };
}
