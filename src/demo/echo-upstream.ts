import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * The quick start's demo upstream: answers every request with a JSON echo of what it received, so
 * a reader can see exactly what the gateway forwarded (path rewrite, forwarding headers, identity
 * headers, what was stripped).
 */
export function createEchoServer(): Server {
  return createServer((req, res) => {
    if (req.url?.startsWith('/pets')) return petsApi(req, res);
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

/**
 * `/pets`: the quick start's demo API behind the openapi policy (examples/pets.openapi.yaml). Its
 * answers carry more than the description declares (an owner e-mail, internal notes), as careless
 * APIs do, so the quick start can show the gateway removing them (OWASP API3).
 */
function petsApi(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const reply = (status: number, value: unknown) => {
      const body = JSON.stringify(value);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const leaks = { ownerEmail: 'ann@example.com', internalNotes: 'vaccinations overdue' };
    const id = /^\/pets\/(\d+)$/.exec(req.url ?? '')?.[1];
    if (req.method === 'GET' && id !== undefined) return reply(200, { id: Number(id), name: 'Rex', tag: 'dog', ...leaks });
    if (req.method === 'POST' && req.url === '/pets') {
      let pet: Record<string, unknown> = {};
      try {
        pet = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        // The gateway validated the body; a direct caller sending junk gets an empty pet.
      }
      return reply(201, { id: 42, ...pet, ...leaks });
    }
    reply(404, { error: 'not found' });
  });
}
