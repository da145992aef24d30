import { Type, type Static } from '@sinclair/typebox';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { definePolicy } from '../../src/core/policy.js';
import { GatewayError } from '../../src/errors/index.js';
import { BUILTIN_POLICIES, createRegistry } from '../../src/policies/registry.js';
import { basicConfig, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

/** A response policy for these tests: removes a JSON property, denies, or faults, as configured. */
const ProbeSchema = Type.Object(
  {
    action: Type.Union([Type.Literal('remove-secret'), Type.Literal('deny'), Type.Literal('fault'), Type.Literal('ignore'), Type.Literal('wants-fault')]),
    maxBytes: Type.Integer({ default: 1024 }),
    overflow: Type.Union([Type.Literal('block'), Type.Literal('pass')], { default: 'block' }),
    // The hook answers through a promise (the gateway also runs synchronous hooks without one).
    async: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
let bodyCalls = 0;
const probe = definePolicy<Static<typeof ProbeSchema>>({
  name: 'body-probe',
  version: '1.0.0',
  phase: 'onResponse',
  description: 'test policy',
  schema: ProbeSchema,
  supportsMonitor: true,
  defaultFailureMode: 'closed',
  create: (config) => ({
    wantsResponseBody: () => {
      if (config.action === 'wants-fault') throw new Error('probe cannot decide');
      return config.action === 'ignore' ? undefined : { maxBytes: config.maxBytes, overflow: config.overflow };
    },
    onResponseBody: (_ctx, body) => {
      bodyCalls++;
      const filter = (): Buffer => {
        if (config.action === 'deny') throw new GatewayError('GW_FORBIDDEN', { reason: 'probe denied the response' });
        if (config.action === 'fault') throw new Error('probe broke');
        const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        delete parsed.secret;
        return Buffer.from(JSON.stringify(parsed));
      };
      if (!config.async) return filter();
      return new Promise<void>((resolve) => setImmediate(resolve)).then(filter);
    },
  }),
});
const registry = createRegistry([...BUILTIN_POLICIES, probe]);

const PAYLOAD = JSON.stringify({ name: 'alice', secret: 'hunter2' });

describe('response body hook', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;
  afterEach(async () => {
    await gw?.close();
    await upstream?.close();
  });

  async function start(probeConfig: string, body: Buffer | string = PAYLOAD, headers: Record<string, string> = {}, attachment = ''): Promise<void> {
    bodyCalls = 0;
    upstream = await startUpstreamEcho((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"', 'content-length': Buffer.byteLength(body), ...headers });
      res.end(body);
    });
    const route = `    policies:\n      - name: body-probe\n${attachment}        config: ${probeConfig}\n`;
    gw = await startGateway(basicConfig(route), { upstreamUrl: upstream.url, registry });
  }

  it('lets a policy rewrite the body and fixes Content-Length and ETag to match what is sent', async () => {
    await start('{ action: remove-secret }');
    const res = await fetch(`${gw.url}/x`);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ name: 'alice' });
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(res.headers.get('etag')).toBeNull();
  });

  it('decodes a gzip body before the policy reads it and sends identity coding', async () => {
    await start('{ action: remove-secret }', gzipSync(PAYLOAD), { 'content-encoding': 'gzip' });
    const res = await fetch(`${gw.url}/x`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(await res.json()).toEqual({ name: 'alice' });
  });

  it('answers 502 problem+json without any of the body when it overflows a blocking cap', async () => {
    await start('{ action: remove-secret, maxBytes: 16 }');
    const res = await fetch(`${gw.url}/x`);
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(JSON.parse(text).code).toBe('GW_RESPONSE_TOO_LARGE');
    expect(text).not.toContain('hunter2');
    expect(bodyCalls).toBe(0);
  });

  it('refuses a gzip bomb that decodes past the cap', async () => {
    await start('{ action: remove-secret, maxBytes: 1000 }', gzipSync(Buffer.alloc(1_000_000, 0x20)), { 'content-encoding': 'gzip' });
    const res = await fetch(`${gw.url}/x`);
    expect(res.status).toBe(502);
    expect((await res.json()).code).toBe('GW_RESPONSE_TOO_LARGE');
  });

  it('streams an oversized body on unchecked when the policy says pass', async () => {
    const big = JSON.stringify({ secret: 'x'.repeat(5000) });
    await start('{ action: remove-secret, maxBytes: 100, overflow: pass }', big);
    const res = await fetch(`${gw.url}/x`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(big);
    expect(bodyCalls).toBe(0);
  });

  for (const mode of ['sync', 'async'] as const) {
    const asyncConfig = mode === 'async' ? ', async: true' : '';

    it(`answers with the policy denial instead of the upstream body (${mode} hook)`, async () => {
      await start(`{ action: deny${asyncConfig} }`);
      const res = await fetch(`${gw.url}/x`);
      expect(res.status).toBe(403);
      const text = await res.text();
      expect(JSON.parse(text).code).toBe('GW_FORBIDDEN');
      expect(text).not.toContain('hunter2');
      expect(bodyCalls).toBe(1);
    });

    it(`fails closed when a body hook faults: 503 and nothing of the unfiltered body (${mode} hook)`, async () => {
      await start(`{ action: fault${asyncConfig} }`);
      const res = await fetch(`${gw.url}/x`);
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(JSON.parse(text).code).toBe('GW_POLICY_UNAVAILABLE');
      expect(text).not.toContain('hunter2');
    });

    it(`lets a denial through in monitor mode, the body unchanged (${mode} hook)`, async () => {
      await start(`{ action: deny${asyncConfig} }`, PAYLOAD, {}, '        mode: monitor\n');
      const res = await fetch(`${gw.url}/x`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(PAYLOAD);
      expect(bodyCalls).toBe(1);
    });
  }

  it('rewrites through a hook that answers with a promise, a gzip body too', async () => {
    await start('{ action: remove-secret, async: true }', gzipSync(PAYLOAD), { 'content-encoding': 'gzip' });
    const res = await fetch(`${gw.url}/x`, { headers: { 'accept-encoding': 'gzip' } });
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ name: 'alice' });
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(res.headers.get('etag')).toBeNull();
  });

  it('still filters the body when deciding whether to read it faults and the policy fails closed; not when it fails open', async () => {
    await start('{ action: wants-fault }');
    expect(await (await fetch(`${gw.url}/x`)).json()).toEqual({ name: 'alice' });
    await gw.close();
    await upstream.close();
    await start('{ action: wants-fault }', PAYLOAD, {}, '        failureMode: open\n');
    expect(await (await fetch(`${gw.url}/x`)).text()).toBe(PAYLOAD);
  });

  it('streams untouched when no policy asks for the body, and never buffers HEAD responses', async () => {
    await start('{ action: ignore }');
    const res = await fetch(`${gw.url}/x`);
    expect(await res.text()).toBe(PAYLOAD);
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(bodyCalls).toBe(0);
    await gw.close();
    gw = await startGateway(basicConfig('    policies:\n      - name: body-probe\n        config: { action: remove-secret }\n'), { upstreamUrl: upstream.url, registry });
    const head = await fetch(`${gw.url}/x`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(bodyCalls).toBe(0);
  });
});
