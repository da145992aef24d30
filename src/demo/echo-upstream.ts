import { createServer, type Server } from 'node:http';

/**
 * The quick start's demo upstream: answers every request with a JSON echo of what it received, so
 * a reader can see exactly what the gateway forwarded (path rewrite, forwarding headers, identity
 * headers, what was stripped).
 */
export function createEchoServer(): Server {
  return createServer((req, res) => {
    let bodyLength = 0;
    req.on('data', (chunk: Buffer) => (bodyLength += chunk.length));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://upstream.invalid');
      const body = JSON.stringify(
        {
          method: req.method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          bodyLength,
        },
        null,
        2,
      );
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        // Deliberately leaky, so the quick start can show security-headers removing them.
        server: 'demo-echo/1.0',
        'x-powered-by': 'node',
      });
      res.end(body);
    });
  });
}
