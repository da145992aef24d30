import { StateError } from '../state/errors.js';
import type { LimitCheck, LimiterBackend, LimitOutcome, LimitRule } from './types.js';

/** A worker's question to the primary; see src/cluster/protocol.ts. */
export interface LimitRequestMessage {
  type: 'portcullis:limit';
  id: number;
  now: number;
  checks: { key: string; rule: LimitRule }[];
}

export interface LimitReplyMessage {
  type: 'portcullis:limit-result';
  id: number;
  outcome: LimitOutcome;
}

/** An answer slower than this means the primary is stuck: fail like an unreachable Redis. */
const TIMEOUT_MS = 1000;

/**
 * Memory limits in a cluster worker: the primary holds the only MemoryLimiter and every worker asks
 * it, so N workers enforce one limit, exactly, rather than N limits (or limit/N each, which would
 * starve a client whose keep-alive connection sits on one worker). The price is one IPC round trip
 * (tens of microseconds on one machine) per limited request. A missing or late answer rejects with
 * STATE_UNAVAILABLE, and the policy's failure mode applies, as for Redis.
 */
export class PrimaryLimiterClient implements LimiterBackend {
  readonly kind = 'primary' as const;
  private static instance: PrimaryLimiterClient | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (o: LimitOutcome) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  static shared(): PrimaryLimiterClient {
    return (PrimaryLimiterClient.instance ??= new PrimaryLimiterClient());
  }

  private constructor() {
    process.on('message', (message: unknown) => {
      const reply = message as Partial<LimitReplyMessage> | null;
      if (reply === null || typeof reply !== 'object' || reply.type !== 'portcullis:limit-result') return;
      const waiting = this.pending.get(reply.id!);
      if (waiting === undefined) return;
      this.pending.delete(reply.id!);
      clearTimeout(waiting.timer);
      waiting.resolve(reply.outcome!);
    });
  }

  decide(checks: readonly LimitCheck[], now: number): Promise<LimitOutcome> {
    return new Promise((resolve, reject) => {
      if (!process.connected) return reject(new StateError('STATE_UNAVAILABLE', 'cluster primary is not reachable'));
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new StateError('STATE_UNAVAILABLE', 'cluster primary did not answer a rate-limit decision in time'));
      }, TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      const message: LimitRequestMessage = { type: 'portcullis:limit', id, now, checks: checks as LimitCheck[] };
      process.send!(message);
    });
  }
}
