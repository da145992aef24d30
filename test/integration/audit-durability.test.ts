import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/record.js';
import { FileAuditSink } from '../../src/audit/sinks/file.js';
import { verifyChain } from '../../src/audit/verify.js';
import { ChildGateway, ensureBuilt, freePort, killChildren, removeTempDirs, reportTiming, tempDir } from '../helpers/child-gateway.js';
import { startUpstreamEcho, type EchoUpstream } from '../helpers/servers.js';
import { newSigner } from '../audit/helpers.js';

/** The documented flush window (audit.flushInterval in the config below). */
const FLUSH_MS = 100;
/** Timer lateness tolerated on a busy two-core test machine, on top of the window. */
const TOLERANCE_MS = 400;

describe('audit log durability', () => {
  let upstream: EchoUpstream;
  beforeAll(async () => {
    await ensureBuilt();
    upstream = await startUpstreamEcho();
  });
  afterEach(() => killChildren());
  afterAll(async () => {
    await upstream?.close();
    removeTempDirs();
  });

  it('after kill -9 under load the chain verifies and only the last flush window is missing', async () => {
    const dir = tempDir();
    const { signer, pemPath } = newSigner(dir);
    const port = await freePort();
    const file = join(dir, 'gw.yaml');
    writeFileSync(
      file,
      `version: 1
server: { listeners: [{ host: 127.0.0.1, port: ${port} }] }
admin: { enabled: false }
logging: { level: info, accessLog: false }
audit:
  enabled: true
  sink: file
  file: { path: ./audit.jsonl }
  flushInterval: ${FLUSH_MS}ms
  signing: { privateKey: ${pemPath} }
  checkpoint: { everyRecords: 200 }
upstreams:
  up: { targets: [{ url: "${upstream.url}" }] }
routes:
  - name: all
    match: { paths: ["/*"] }
    forward: { upstream: up }
    policies:
      - name: authenticate
        config: { methods: [{ type: api-key }] }
`,
    );
    const child = new ChildGateway(file);
    await child.waitForLine((l) => l.msg === 'gateway listening', 20_000, 'gateway start');

    // Credential-less requests: every one is denied (401) and so audited.
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 16, pipelining: 1 });
    const answered: { id: string; at: number }[] = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        try {
          const res = await pool.request({ path: `/orders/${answered.length}`, method: 'GET' });
          await res.body.dump();
          if (res.statusCode === 401) answered.push({ id: String(res.headers['x-request-id']), at: Date.now() });
        } catch {
          return; // the gateway is gone
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    await new Promise((r) => setTimeout(r, 3000));
    const killedAt = Date.now();
    child.signal('SIGKILL');
    stop = true;
    await child.exited;
    await Promise.all(workers);
    await pool.destroy();

    const sink = new FileAuditSink(join(dir, 'audit.jsonl'));
    const result = await verifyChain(sink.read(), signer.publicKey);
    expect(result.problem).toBeUndefined();
    expect(result.ok).toBe(true);
    const logged = new Set<string>();
    for await (const r of sink.query({ kind: 'decision' })) logged.add((r as AuditRecord).requestId!);
    const missing = answered.filter((a) => !logged.has(a.id));
    const missingEarly = missing.filter((a) => a.at < killedAt - FLUSH_MS - TOLERANCE_MS);
    const oldest = Math.max(0, ...missing.map((m) => killedAt - m.at));
    reportTiming(`audit kill -9: ${answered.length} denials answered, ${missing.length} not in the log, the oldest answered this long before the kill`, oldest);
    // Enough load that several flushes happened and one was likely in progress at the kill.
    expect(answered.length).toBeGreaterThan(50);
    expect(logged.size).toBeGreaterThan(0);
    expect(missingEarly).toEqual([]);

    // A restarted gateway cuts a torn last line, if any, and links on from the last whole record.
    const again = new ChildGateway(file);
    await again.waitForLine((l) => l.msg === 'gateway listening', 20_000, 'gateway restart');
    const res = await fetch(`http://127.0.0.1:${port}/after-restart`);
    expect(res.status).toBe(401);
    again.signal('SIGTERM');
    await again.exited;
    const after = await verifyChain(sink.read(), signer.publicKey);
    expect(after).toMatchObject({ ok: true, tornTail: false, unsignedTail: 0 });
    expect(after.lastSeq).toBeGreaterThan(result.lastSeq!);
  }, 60_000);
});
