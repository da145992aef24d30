import type { Worker } from 'node:cluster';
import { MemoryLimiter } from '../ratelimit/memory.js';
import type { LimitReplyMessage, LimitRequestMessage } from '../ratelimit/primary-client.js';

export function isLimitRequest(message: unknown): message is LimitRequestMessage {
  const m = message as Partial<LimitRequestMessage> | null;
  return typeof m === 'object' && m !== null && m.type === 'portcullis:limit' && typeof m.id === 'number' && typeof m.now === 'number' && Array.isArray(m.checks);
}

/**
 * The primary's side of the workers' memory rate limits (ratelimit/primary-client.ts): one
 * MemoryLimiter for the machine, answered synchronously, so every worker sees the same counters.
 */
export class PrimaryLimits {
  private readonly limiter = new MemoryLimiter(1_000_000);

  answer(worker: Worker, message: LimitRequestMessage): void {
    let outcome: LimitReplyMessage['outcome'];
    try {
      outcome = this.limiter.decide(message.checks, message.now);
    } catch {
      return; // a malformed question goes unanswered: the worker times out and applies its failure mode
    }
    if (worker.isConnected()) worker.send({ type: 'portcullis:limit-result', id: message.id, outcome } satisfies LimitReplyMessage);
  }
}
