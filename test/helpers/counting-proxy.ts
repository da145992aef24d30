import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

/** Forwards to the real auth server, counting introspection calls; paths under /hang never answer. */
export interface CountingProxy {
  url: string;
  introspections: number;
  close(): Promise<void>;
}

export async function startCountingProxy(target: () => string): Promise<CountingProxy> {
  const hung: ServerResponse[] = [];
  const proxy: CountingProxy = { url: '', introspections: 0, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url!.startsWith('/hang')) return void hung.push(res);
      if (req.url!.includes('/introspection')) proxy.introspections += 1;
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'accept', 'content-type']) if (req.headers[name] !== undefined) headers[name] = String(req.headers[name]);
      request(target() + req.url!, { method: 'POST', headers, body: Buffer.concat(chunks) })
        .then(async (up) => {
          const body = Buffer.from(await up.body.arrayBuffer());
          res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
          res.end(body);
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((done) => {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      server.close(() => done());
    });
  return proxy;
}

