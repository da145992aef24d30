// Loopback-only networking helpers: free ports, readiness polling, one-off requests.
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const HOST = '127.0.0.1';

/** A port that was free on 127.0.0.1 a moment ago (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One request to 127.0.0.1:port, no keep-alive. Resolves { status, headers, body } or rejects on
 * connection error / timeout.
 */
export function request(port, { method = 'GET', path = '/', headers = {}, timeoutMs = 2000, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port, method, path, headers: { connection: 'close', ...headers }, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          if (body.length < 64_000) body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Polls until a GET on the port returns any HTTP status. Fails early when `handle` (a started
 * child) exits, and at the deadline. Returns { ok: true } or { ok: false, reason }.
 */
export async function waitReady(port, { handle, deadlineMs = 15_000, path = '/' } = {}) {
  const until = Date.now() + deadlineMs;
  let last = 'no attempt';
  for (let attempt = 0; Date.now() < until && attempt < 10_000; attempt++) {
    if (handle && handle.exitCode !== undefined) {
      return { ok: false, reason: `exited with ${handle.exitCode} before listening` };
    }
    try {
      await request(port, { path, timeoutMs: 1000 });
      return { ok: true };
    } catch (err) {
      last = err.code ?? err.message;
    }
    await sleep(100);
  }
  return { ok: false, reason: `not answering on ${HOST}:${port} after ${deadlineMs} ms (${last})` };
}
