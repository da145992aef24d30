import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { locateTestCrs } from '../../src/waf/ftw/locate.js';
import { basicConfig, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

const CRS_DIR = locateTestCrs(path.dirname(fileURLToPath(import.meta.url)));

/** What a careless upstream sends back: a database error that names the engine and the query. */
const SQL_ERROR = '<html><body>Warning: mysql_fetch_array(): You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near \'1\'\' at line 1</body></html>';

const routes = `    policies:
      - name: waf
        config: { crsDir: "${CRS_DIR}" }
  - name: uninspected
    match: { paths: ["/off/*"] }
    forward: { upstream: up }
    policies:
      - name: waf
        config: { crsDir: "${CRS_DIR}", responses: { inspect: false } }
  - name: small-cap
    match: { paths: ["/small/*"] }
    forward: { upstream: up }
    policies:
      - name: waf
        config: { crsDir: "${CRS_DIR}", responses: { maxBodyBytes: 64 } }
`;

describe.skipIf(CRS_DIR === undefined)('waf response rules (CRS phases 3 and 4) through a real gateway', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstreamEcho((req, res) => {
      const leak = req.url!.includes('leak');
      const body = leak ? SQL_ERROR : '<html><body>Your order 42 has shipped.</body></html>';
      res.writeHead(200, { 'content-type': req.url!.includes('binary') ? 'application/octet-stream' : 'text/html; charset=utf-8' });
      res.end(body);
    });
    const yaml = basicConfig(routes).replace('match: { paths: ["/*"] }', 'match: { paths: ["/api/*"] }');
    gw = await startGateway(yaml, { upstreamUrl: upstream.url });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  const get = async (p: string) => {
    const res = await fetch(`${gw.url}${p}`, { headers: { 'user-agent': 'Mozilla/5.0 Firefox/120.0', accept: 'text/html' } });
    return { status: res.status, text: await res.text() };
  };

  it('replaces a response that leaks a SQL error with 403 problem+json, and none of the leak reaches the client', async () => {
    const res = await get('/api/leak');
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text).code).toBe('GW_WAF_BLOCKED');
    expect(res.text).not.toContain('SQL syntax');
    const line = gw.logs.access().at(-1)!;
    expect(String(line.reason)).toMatch(/blocked the response.*95\d{4}/);
  });

  it('passes an ordinary response unchanged', async () => {
    const res = await get('/api/orders/42');
    expect(res.status).toBe(200);
    expect(res.text).toContain('has shipped');
  });

  it('does not hold back media types outside the list, nor responses on routes that turned inspection off', async () => {
    expect((await get('/api/leak-binary')).status).toBe(200);
    expect((await get('/off/leak')).text).toContain('SQL syntax');
  });

  it('passes a body larger than the cap on uninspected and records that it did', async () => {
    const res = await get('/small/leak');
    expect(res.status).toBe(200);
    const line = gw.logs.access().at(-1)!;
    expect(JSON.stringify(line)).toContain('response body not inspected');
  });
});
