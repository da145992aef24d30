import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { request } from 'undici';

export interface WebhookTarget {
  readonly url: string;
  /** `whsec_` followed by the base64 key, as the Standard Webhooks spec serialises secrets. */
  readonly secret: string;
}

export interface WebhookOptions {
  readonly timeoutMs: number;
  /** Attempts per delivery, the first included. */
  readonly maxAttempts: number;
  /** First retry delay; each next one doubles, with up to 25% jitter. */
  readonly backoffMs: number;
  /** The same alert (type + key) is sent at most once per window. */
  readonly dedupeWindowMs: number;
}

export interface Alert {
  /** `anomaly.ban`, `anomaly.throttle`, `anomaly.alert` */
  readonly type: string;
  /** What makes two alerts the same for de-duplication: the subject and the detector, say. */
  readonly key: string;
  readonly data: Record<string, unknown>;
}

/** The key bytes of a `whsec_` secret; throws at load on anything else. */
export function webhookKey(secret: string): Buffer {
  if (!secret.startsWith('whsec_')) throw new Error('webhook secret must start with "whsec_" (Standard Webhooks)');
  const key = Buffer.from(secret.slice(6), 'base64');
  if (key.length < 24) throw new Error('webhook secret must hold at least 24 bytes of base64 after "whsec_"');
  return key;
}

/**
 * Standard Webhooks signature (standardwebhooks.com, "Signature scheme"): HMAC-SHA256 with the
 * decoded secret over `<webhook-id>.<webhook-timestamp>.<body>`, base64, prefixed `v1,`.
 */
export function signWebhook(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/**
 * Delivers alerts to webhooks, off the request path. Each delivery keeps one `webhook-id` across its
 * retries (the receiver's idempotency key), is re-signed with a fresh timestamp per attempt (the
 * spec's receivers refuse timestamps more than 5 minutes off), and is retried on network errors,
 * 408, 429 and 5xx with exponential back-off. Alerts with the same type and key within the window
 * are sent once.
 */
export class WebhookSender {
  private readonly keys: { target: WebhookTarget; key: Buffer }[];
  private readonly recent = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    targets: readonly WebhookTarget[],
    private readonly options: WebhookOptions,
    private readonly deps: { logger: Logger; now: () => number; sleep?: (ms: number) => Promise<void> },
  ) {
    this.keys = targets.map((target) => ({ target, key: webhookKey(target.secret) }));
  }

  /** Queues the alert; returns false when an identical one went out within the window. */
  send(alert: Alert): boolean {
    if (this.keys.length === 0) return false;
    const now = this.deps.now();
    const dedupe = `${alert.type} ${alert.key}`;
    const last = this.recent.get(dedupe);
    if (last !== undefined && now - last < this.options.dedupeWindowMs) return false;
    this.recent.set(dedupe, now);
    if (this.recent.size > 10_000) this.recent.delete(this.recent.keys().next().value!);
    const body = JSON.stringify({ type: alert.type, timestamp: new Date(now).toISOString(), data: alert.data });
    for (const { target, key } of this.keys) {
      const delivery = this.deliver(target, key, `msg_${randomUUID()}`, body).finally(() => this.pending.delete(delivery));
      this.pending.add(delivery);
    }
    return true;
  }

  private async deliver(target: WebhookTarget, key: Buffer, id: string, body: string): Promise<void> {
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      const timestamp = Math.floor(this.deps.now() / 1000);
      let outcome: string;
      try {
        const res = await request(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(key, id, timestamp, body) },
          body,
          headersTimeout: this.options.timeoutMs,
          bodyTimeout: this.options.timeoutMs,
        });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) return;
        outcome = `status ${res.statusCode}`;
        if (!(res.statusCode === 408 || res.statusCode === 429 || res.statusCode >= 500)) break;
      } catch (error) {
        outcome = (error as Error).message;
      }
      if (attempt === this.options.maxAttempts) {
        this.deps.logger.error({ webhook_id: id, url: target.url, attempts: attempt, outcome }, 'webhook delivery failed');
        return;
      }
      const delay = this.options.backoffMs * 2 ** (attempt - 1);
      await sleep(delay + Math.floor(Math.random() * delay * 0.25));
    }
    this.deps.logger.error({ webhook_id: id, url: target.url }, 'webhook refused by the receiver; not retried');
  }

  /** Waits for deliveries in flight (tests, shutdown). */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
