import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { generateApiKey, hashApiKey } from '../../src/auth/api-key/format.js';
import type { Store } from '../../src/storage/types.js';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';
import { startStoreGateway, type StoreGateway } from '../helpers/store-gateway.js';

/** What the upstream holds for every user: secrets some callers must not read. */
const RECORD = { name: 'N', ssn: '123-45-6789', cards: [{ number: '4111111111111111', last4: '1111' }] };

/** A route's forward and the policies every route here starts with, up to authorize's config. */
const API_KEY_THEN_AUTHORIZE = `    forward: { upstream: up }
    policies:
      - name: authenticate
        config: { methods: [{ type: api-key }] }
      - name: authorize
        config:
`;

const ROUTES = `  - name: users
    match: { paths: ["/users/{userId}/*"] }
${API_KEY_THEN_AUTHORIZE}          rules:
            - { name: admins, groups: [admin] }
            - { name: readers, methods: [GET], scopes: [users:read] }
            - { name: writers, methods: [PUT, PATCH], scopes: [users:write] }
          ownership:
            bindings: [{ name: own-user, source: param, field: userId, equals: consumer, unlessGroups: [admin] }]
          properties:
            write: [{ paths: [role, account.balance, "addresses[].verified"], unlessGroups: [admin] }]
            read: [{ paths: [ssn, "cards[].number"], unlessGroups: [admin] }]
  - name: docs
    match: { paths: ["/docs/{id}"] }
${API_KEY_THEN_AUTHORIZE}          rules: [{ name: anyone }]
          ownership: { service: { url: "http://127.0.0.1:1/owns", timeout: 2s } }
`;

interface Caller {
  id: string;
  key: string;
}

describe('authorize through a real gateway with two real identities (API keys in SQLite)', () => {
  let env: StoreGateway;
  let upstream: EchoUpstream;
  let gw: TestGateway;
  let alice: Caller;
  let bob: Caller;
  let root: Caller;
  let noScopes: Caller;

  async function caller(store: Store, name: string, scopes: string[], extra: { tags?: string[]; metadata?: Record<string, string[]> } = {}): Promise<Caller> {
    const consumer = await store.consumers.create({ name, ...extra });
    const { key, keyId } = generateApiKey();
    await store.credentials.create({ consumerId: consumer.id, type: 'api-key', lookupId: keyId, secretHash: hashApiKey(key), scopes });
    return { id: consumer.id, key };
  }

  beforeAll(async () => {
    env = await startStoreGateway(
      'pcl-authz-',
      async (store) => {
        alice = await caller(store, 'alice', ['users:read', 'users:write']);
        bob = await caller(store, 'bob', ['users:read', 'users:write']);
        root = await caller(store, 'root', [], { metadata: { roles: ['admin'] } });
        noScopes = await caller(store, 'guest', []);
      },
      ROUTES,
      (req, res, body) => {
        const text = JSON.stringify({ ...RECORD, url: req.url, received: body.toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(text);
      },
    );
    ({ upstream, gw } = env);
  });
  afterAll(async () => {
    await env?.close();
  });

  const call = async (who: Caller, path: string, options: { method?: 'GET' | 'PUT'; body?: string; headers?: Record<string, string> } = {}) => {
    const res = await request(`${gw.url}${path}`, {
      method: options.method ?? 'GET',
      headers: { 'x-api-key': who.key, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
      ...(options.body === undefined ? {} : { body: options.body }),
    });
    const text = await res.body.text();
    return { status: res.statusCode, text, json: JSON.parse(text) as Record<string, unknown> };
  };
  /** Asserts a 403 that reveals nothing and never reached the upstream; returns the logged reason. */
  const expectDenied = async (promise: ReturnType<typeof call>, code = 'GW_AUTHZ_DENIED', status = 403) => {
    const before = upstream.seen.length;
    const res = await promise;
    expect(res.status).toBe(status);
    expect(res.json.code).toBe(code);
    expect(res.json.detail).toBeUndefined();
    for (const word of ['own-user', 'readers', 'admins', 'role', 'balance', 'verified', 'scope']) expect(res.text).not.toContain(word);
    expect(upstream.seen.length).toBe(before);
    const line = gw.logs.access().at(-1)!;
    expect(line.policy).toBe('authorize');
    return line.reason as string;
  };

  it('lets each identity read its own user object, naming the rule in the log and to the upstream', async () => {
    const res = await call(alice, `/users/${alice.id}`);
    expect(res.status).toBe(200);
    const seen = upstream.seen.at(-1)!;
    expect(seen.headers['x-authz-rule']).toBe('readers');
    expect(seen.headers['x-authz-consumer']).toBe(alice.id);
    expect(gw.logs.access().at(-1)!.reason).toBe('authorize: rule "readers" allowed');
    expect((await call(bob, `/users/${bob.id}/orders`)).status).toBe(200);
  });

  it('refuses BOLA: alice cannot read or write bob\'s object, nor bob alice\'s', async () => {
    expect(await expectDenied(call(alice, `/users/${bob.id}`))).toBe('binding "own-user": param userId does not belong to the principal');
    await expectDenied(call(alice, `/users/${bob.id}/orders`));
    await expectDenied(call(alice, `/users/${bob.id}`, { method: 'PUT', body: '{"name":"x"}' }));
    await expectDenied(call(bob, `/users/${alice.id}`));
  });

  it('lets the admin role (consumer metadata.roles) override ownership and read everything', async () => {
    const res = await call(root, `/users/${alice.id}`);
    expect(res.status).toBe(200);
    expect(res.json.ssn).toBe(RECORD.ssn);
    expect(upstream.seen.at(-1)!.headers['x-authz-groups']).toBe('admin');
    expect(upstream.seen.at(-1)!.headers['x-authz-rule']).toBe('admins');
  });

  it('denies a caller without the scope even on its own object', async () => {
    expect(await expectDenied(call(noScopes, `/users/${noScopes.id}`))).toBe('no rule allowed the request');
  });

  it('removes properties the caller may not read from the upstream response', async () => {
    const res = await call(alice, `/users/${alice.id}`);
    expect(res.json.ssn).toBeUndefined();
    expect(res.json.cards).toEqual([{ last4: '1111' }]);
    expect(res.text).not.toContain('4111111111111111');
    expect(res.text).not.toContain('123-45-6789');
  });

  it('refuses mass assignment: top-level, nested, inside arrays and through __proto__', async () => {
    const own = `/users/${alice.id}`;
    expect(await expectDenied(call(alice, own, { method: 'PUT', body: '{"name":"A","role":"admin"}' }))).toBe('property role may not be written');
    await expectDenied(call(alice, own, { method: 'PUT', body: '{"account":{"balance":1000000}}' }));
    await expectDenied(call(alice, own, { method: 'PUT', body: '{"addresses":[{"city":"x"},{"city":"y","verified":true}]}' }));
    // Prototype keys are refused by the JSON reader itself (core/json-scan.ts), before any rule runs.
    const seenBefore = upstream.seen.length;
    const polluted = await call(alice, own, { method: 'PUT', body: '{"name":"A","__proto__":{"role":"admin"}}' });
    expect([polluted.status, polluted.json.code]).toEqual([400, 'GW_JSON_FORBIDDEN_KEY']);
    expect(polluted.text).not.toContain('admin');
    expect(upstream.seen.length).toBe(seenBefore);
    // The same properties sent as a form, which the upstream might parse: refused unchecked.
    await expectDenied(call(alice, own, { method: 'PUT', body: 'role=admin', headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
  });

  it('forwards an allowed body byte for byte, and lets the admin write protected properties', async () => {
    const body = '{"name":"Alice", "addresses":[{"city":"x"}]}';
    const res = await call(alice, `/users/${alice.id}`, { method: 'PUT', body });
    expect(res.status).toBe(200);
    expect(upstream.seen.at(-1)!.body.toString('utf8')).toBe(body);
    expect((await call(root, `/users/${bob.id}`, { method: 'PUT', body: '{"role":"admin"}' })).status).toBe(200);
  });

  it('never passes spoofed identity or decision headers to the upstream', async () => {
    const res = await call(alice, `/users/${alice.id}`, {
      headers: { 'x-authz-rule': 'admins', 'x-authz-groups': 'admin', 'x-authz-consumer': bob.id, 'x-authz-subject': bob.id, 'x-consumer-id': bob.id, 'x-authz-scopes': 'all' },
    });
    expect(res.status).toBe(200);
    const seen = upstream.seen.at(-1)!;
    expect(seen.headers['x-authz-rule']).toBe('readers');
    expect(seen.headers['x-authz-groups']).toBeUndefined();
    expect(seen.headers['x-authz-consumer']).toBe(alice.id);
    expect(seen.headers['x-authz-subject']).toBe(alice.id);
    expect(seen.headers['x-consumer-id']).toBe(alice.id);
    expect(seen.headers['x-authz-scopes']).toBe('users:read users:write');
    expect(JSON.stringify(seen.rawHeaders)).not.toContain(bob.id);
  });

  it('fails closed with 503 when the ownership service cannot be reached', async () => {
    const before = upstream.seen.length;
    const res = await call(alice, '/docs/1');
    expect(res.status).toBe(503);
    expect(res.json.code).toBe('GW_POLICY_UNAVAILABLE');
    expect(upstream.seen.length).toBe(before);
  });
});

describe('authorization.default: deny through a real gateway', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;
  const authn = `      - name: authenticate
        config: { methods: [{ type: api-key }], anonymous: { consumerId: guest } }`;

  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    gw = await startGateway(
      `version: 1
server: { listeners: [{ host: 127.0.0.1, port: 0 }] }
admin: { enabled: false }
authorization: { default: deny }
upstreams:
  up: { targets: [{ url: "{{UPSTREAM}}" }] }
routes:
  - name: forgotten
    match: { paths: ["/forgotten/*"] }
    forward: { upstream: up }
    policies:
${authn}
  - name: public
    match: { paths: ["/public/*"] }
    forward: { upstream: up }
    policies:
${authn}
      - name: authorize
        config: { rules: [{ name: reads, methods: [GET] }] }
`,
      { upstreamUrl: upstream.url },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('refuses every request on a route that forgot its authorize policy, without reaching the upstream', async () => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await request(`${gw.url}/forgotten/x`, { method });
      expect(res.statusCode).toBe(403);
      expect(((await res.body.json()) as { code: string }).code).toBe('GW_AUTHZ_DENIED');
    }
    expect(upstream.seen).toHaveLength(0);
    expect(gw.logs.access().at(-1)!.reason).toBe('authorization.default is deny: route forgotten has no authorize policy');
  });

  it('lets a route with rules decide: its allow rule allows, anything else is denied', async () => {
    const ok = await request(`${gw.url}/public/x`);
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
    const post = await request(`${gw.url}/public/x`, { method: 'POST', body: '{}' });
    expect(post.statusCode).toBe(403);
    await post.body.dump();
  });

  it('refuses requests no route matches with the same 403, revealing no route map', async () => {
    const res = await request(`${gw.url}/nowhere`);
    expect(res.statusCode).toBe(403);
    expect(((await res.body.json()) as { code: string }).code).toBe('GW_AUTHZ_DENIED');
  });
});
