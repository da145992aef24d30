import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/logger.js';
import { signWebhook, WebhookSender, webhookKey } from './webhook.js';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const options = { timeoutMs: 2000, maxAttempts: 4, backoffMs: 10, dedupeWindowMs: 60_000 };

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real receiver on port 0 that answers with the given statuses in turn (then 200). */
async function receiver(statuses: number[] = []) {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}
const servers: ReturnType<typeof createServer>[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

const sender = (url: string, extra: Partial<typeof options> = {}) =>
  new WebhookSender([{ url, secret }], { ...options, ...extra }, { logger: silentLogger(), now: Date.now, sleep: async () => undefined });

/** The independent check: the Standard Webhooks reference library, not our code. */
const verify = (r: Received, key = secret) =>
  new Webhook(key).verify(r.body, { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) });

describe('webhook alerts', () => {
  it('sends deliveries the Standard Webhooks library verifies, and it refuses a changed body or another secret', async () => {
    const { url, got } = await receiver();
    const s = sender(url);
    expect(s.send({ type: 'anomaly.ban', key: 'ip:203.0.113.5 not-found', data: { subject: 'ip:203.0.113.5', reason: '20 404 responses' } })).toBe(true);
    await s.settle();
    expect(got).toHaveLength(1);
    expect(verify(got[0]!)).toMatchObject({ type: 'anomaly.ban', data: { subject: 'ip:203.0.113.5' } });
    expect(got[0]!.headers['webhook-id']).toMatch(/^msg_/);
    expect(() => verify({ ...got[0]!, body: got[0]!.body.replace('203.0.113.5', '203.0.113.6') })).toThrow();
    expect(() => verify(got[0]!, `whsec_${randomBytes(32).toString('base64')}`)).toThrow();
  });

  it('retries 5xx and 429 with the same webhook-id, re-signed each time, and stops at success', async () => {
    const { url, got } = await receiver([503, 429, 200]);
    const s = sender(url);
    s.send({ type: 'anomaly.alert', key: 'k', data: {} });
    await s.settle();
    expect(got).toHaveLength(3);
    expect(new Set(got.map((g) => g.headers['webhook-id'])).size).toBe(1);
    for (const g of got) expect(() => verify(g)).not.toThrow();
  });

  it('gives up after maxAttempts, and does not retry a 4xx refusal', async () => {
    const failing = await receiver([500, 500, 500, 500, 500]);
    const s1 = sender(failing.url);
    s1.send({ type: 'a', key: 'k', data: {} });
    await s1.settle();
    expect(failing.got).toHaveLength(4);
    const refusing = await receiver([400]);
    const s2 = sender(refusing.url);
    s2.send({ type: 'a', key: 'k', data: {} });
    await s2.settle();
    expect(refusing.got).toHaveLength(1);
  });

  it('sends the same alert once per de-duplication window', async () => {
    const { url, got } = await receiver();
    let now = 1_000_000;
    const s = new WebhookSender([{ url, secret }], options, { logger: silentLogger(), now: () => now, sleep: async () => undefined });
    expect(s.send({ type: 'anomaly.ban', key: 'ip:a', data: {} })).toBe(true);
    expect(s.send({ type: 'anomaly.ban', key: 'ip:a', data: {} })).toBe(false);
    expect(s.send({ type: 'anomaly.ban', key: 'ip:b', data: {} })).toBe(true);
    now += 60_000;
    expect(s.send({ type: 'anomaly.ban', key: 'ip:a', data: {} })).toBe(true);
    await s.settle();
    expect(got).toHaveLength(3);
  });

  it('refuses a secret that is not whsec_ base64, and signs as the spec\'s example computes', () => {
    expect(() => webhookKey('plain-secret')).toThrow(/whsec_/);
    // Computed independently by the reference library for a fixed id, time and body.
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const ts = 1614265330;
    const body = '{"test": 2432232314}';
    const expected = new Webhook(secret).sign(id, new Date(ts * 1000), body);
    expect(signWebhook(webhookKey(secret), id, ts, body)).toBe(expected);
  });
});
