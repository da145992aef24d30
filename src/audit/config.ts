import { Type, type Static } from '@sinclair/typebox';
import { Duration, section } from '../config/types-common.js';

/** Longer than config durations usually go: retention is counted in days. */
const LongDuration = (description: string, defaultValue: string | number) =>
  Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+(ms|s|m|h|d)$' })], {
    description: `${description} (milliseconds, or a string such as "12h", "90d"; 0 keeps everything)`,
    default: defaultValue,
  });

/** The top-level `audit` section; src/config/schema.ts only places it. */
export const AuditConfigSchema = section(
  {
    enabled: Type.Boolean({ description: 'Write the tamper-evident audit log (docs/audit.md)', default: false }),
    sink: Type.Union([Type.Literal('file'), Type.Literal('store')], {
      description: '"file": an append-only JSON-lines file; "store": the `storage` backend (SQLite or PostgreSQL)',
      default: 'file',
    }),
    file: section(
      {
        path: Type.String({ description: "JSON-lines file, relative to the config file's folder", default: './data/audit.jsonl', minLength: 1 }),
        fsync: Type.Boolean({ description: 'fdatasync after every batch: survives a power loss too, at the cost of one disk flush per batch', default: false }),
      },
      'The file sink',
    ),
    flushInterval: Duration('Most time a record waits in memory before it is written: the records a crash can lose', '200ms'),
    maxBatch: Type.Integer({ description: 'Records written per batch; a full batch is written at once', minimum: 1, maximum: 10_000, default: 1000 }),
    maxQueue: Type.Integer({
      description: 'Records held while the sink is unavailable; beyond it the oldest are dropped, logged and counted',
      minimum: 100,
      maximum: 10_000_000,
      default: 100_000,
    }),
    signing: section(
      {
        privateKey: Type.String({ description: 'PEM file (PKCS#8) of the Ed25519 key that signs checkpoints; required when enabled', default: '', secret: true }),
        keyId: Type.String({ description: 'Names the key in checkpoints, so keys can be rotated', default: 'audit-1', pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
      },
      'Checkpoint signing',
    ),
    checkpoint: section(
      {
        everyRecords: Type.Integer({ description: 'A signed checkpoint after at most this many records', minimum: 1, maximum: 1_000_000, default: 1000 }),
        interval: Duration('A signed checkpoint at least this often while records arrive', '1m'),
      },
      'Signed checkpoints: they vouch for every record before them and anchor the chain after retention',
    ),
    retention: section(
      {
        maxAge: LongDuration('Records older than this are removed (cut at a checkpoint)', 0),
        maxRecords: Type.Integer({ description: 'At most this many records are kept (cut at a checkpoint); 0 for no limit', minimum: 0, default: 0 }),
        checkInterval: Duration('How often retention runs', '10m'),
      },
      'Retention; verification still passes because the chain restarts from a signed checkpoint',
    ),
    include: section(
      {
        monitor: Type.Boolean({ description: 'Record monitor-mode would-be denials', default: true }),
        notFound: Type.Boolean({ description: 'Record requests no route matched (404/405); noisy on public listeners', default: false }),
      },
      'Which request decisions are recorded besides denials and fail-closed errors',
    ),
  },
  'Tamper-evident audit log of security decisions and changes to config, consumers and credentials',
);

export type AuditConfig = Static<typeof AuditConfigSchema>;

const LONG_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseLongDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^([0-9]+)(ms|s|m|h|d)$/.exec(value);
  if (match === null) throw new Error(`invalid duration "${value}"`);
  return Number(match[1]) * LONG_UNITS[match[2]!]!;
}
