// The portcullis-introspection scenario: the bundled OAuth server (started by the bench, on the load
// CPU), one opaque token, and a gateway route that introspects it (RFC 7662). The same token repeats,
// so after the first request every request is a warm-cache hit: this measures the cached path.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { freePort, waitReady } from './net.mjs';
import { start } from './procs.mjs';
import { authenticate, gatewayMain, startPortcullis } from './scenarios.mjs';

const CLIENT = { id: 'bench-client', secret: 'bench-client-secret' };
const GATEWAY = { id: 'bench-gateway', secret: 'bench-gateway-secret' };
const basic = (c) => `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`;

/** The auth server's config: tokens live an hour, so no token expires during a run. */
function authServerConfig(port) {
  return {
    listen: { host: '127.0.0.1', port },
    storage: { backend: 'memory' },
    tokens: { accessTokenTTL: '1h' },
    clients: [
      { clientId: CLIENT.id, clientSecret: CLIENT.secret, scopes: ['read'] },
      { clientId: GATEWAY.id, clientSecret: GATEWAY.secret, introspection: true },
    ],
  };
}

async function issueToken(port) {
  const res = await fetch(`http://127.0.0.1:${port}/token`, {
    method: 'POST',
    headers: { authorization: basic(CLIENT), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=read',
  });
  const body = await res.json();
  if (res.status !== 200 || typeof body.access_token !== 'string') throw new Error(`token request answered ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
  return body.access_token;
}

export async function startIntrospection(ctx, port) {
  const name = 'portcullis-introspection';
  const main = gatewayMain(ctx);
  const dir = path.join(ctx.tmpDir, name);
  mkdirSync(dir, { recursive: true });
  const authPort = await freePort();
  const authFile = path.join(dir, 'auth-server.yaml');
  writeFileSync(authFile, YAML.stringify(authServerConfig(authPort)));
  const auth = start('auth-server', process.execPath, [main, 'auth-server', '--config', authFile], {
    cpus: ctx.layout.load,
    taskset: ctx.taskset,
    cwd: ctx.repoRoot,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  try {
    const ready = await waitReady(authPort, { handle: auth, deadlineMs: 20_000, path: '/.well-known/openid-configuration' });
    if (!ready.ok) return { error: `auth server did not start: ${ready.reason}; stderr: ${auth.stderr.slice(-400)}`, helpers: [auth] };
    const token = await issueToken(authPort);
    const policies = authenticate([
      {
        type: 'introspection',
        config: {
          endpoint: `http://127.0.0.1:${authPort}/token/introspection`,
          clientId: GATEWAY.id,
          clientSecret: GATEWAY.secret,
          requiredScopes: ['read'],
          // Warm for the whole run. With the default 60s the server is asked once a minute: no visible cost.
          cache: { positiveTtl: '1h' },
        },
      },
    ]);
    const started = startPortcullis(ctx, port, { name, workers: 1, policies, cpus: ctx.layout.proxy1 });
    return { ...started, headers: { Authorization: `Bearer ${token}` }, helpers: [auth] };
  } catch (err) {
    return { error: `setup failed: ${err.message}`, helpers: [auth] };
  }
}
