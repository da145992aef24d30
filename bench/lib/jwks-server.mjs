// A tiny JWKS endpoint for the portcullis-jwt scenario: serves the JSON file named by JWKS_FILE at
// GET /jwks on 127.0.0.1:PORT. The gateway fetches it once (then caches), so its CPU is not measured.
import { readFileSync } from 'node:fs';
import http from 'node:http';

const body = readFileSync(process.env.JWKS_FILE, 'utf8');
http
  .createServer((req, res) => {
    if (req.url === '/jwks' || req.url === '/') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } else {
      res.writeHead(404).end();
    }
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
