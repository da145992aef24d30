// The WAF benches' requests (bench/waf-engine.mjs, bench/waf-instructions.mjs), and the engine they
// run: the CRS at paranoia level 1 with the waf policy's default thresholds.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** A WafEngine over the CRS in `crsDir`, as the waf policy builds it at paranoia level 1, without the rules `ruleIds`. */
export async function benchEngine(repoRoot, crsDir, ruleIds = []) {
  const load = (p) => import(pathToFileURL(path.join(repoRoot, 'dist', p)).href);
  const { WafEngine } = await load('waf/engine/waf-engine.js');
  const { compiledCrs } = await load('policies/waf/settings.js');
  const config = { crsDir, paranoiaLevel: 1, inboundThreshold: 5, outboundThreshold: 4, reportingLevel: 2, exclusions: { ruleIds, tags: [], targets: [] } };
  return new WafEngine(compiledCrs(crsDir, config));
}

/** A browser's headers, as the GET of the WAF benches sends them. */
export const BROWSER_HEADERS = [['Host', 'api.test'], ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0'], ['Accept', 'application/json'], ['Accept-Encoding', 'gzip']];

/** The 4 KB JSON body: as many order items as fit in 4,096 bytes (57: 4,055 bytes). */
export function fourKbJson() {
  const item = (i) => ({ id: i, name: `item number ${i}`, note: 'a short description', qty: i % 5 });
  const items = [];
  while (JSON.stringify({ order: 'A-1001', items: [...items, item(items.length)] }).length <= 4096) items.push(item(items.length));
  return Buffer.from(JSON.stringify({ order: 'A-1001', items }));
}

/**
 * The requests, by name. `request()` builds a new one each call, its strings decoded from bytes
 * as Node's HTTP parser makes them: literal strings would come back as the same objects, hashed
 * and compared once, and flatter the engine. `response`, when set, also runs phases 3 and 4.
 */
export function wafBenchRequests() {
  const body = fourKbJson();
  const fromBytes = (pairs) => {
    const bytes = Buffer.from(pairs.map(([k, v]) => `${k}\n${v}`).join('\n'), 'latin1');
    return () => {
      const parts = bytes.toString('latin1').split('\n');
      const out = [];
      for (let i = 0; i < parts.length; i += 2) out.push([parts[i], parts[i + 1]]);
      return out;
    };
  };
  const request = (method, uri, headerPairs, bodyBytes) => {
    const headers = fromBytes([['', uri], ...headerPairs]);
    return () => {
      const [[, target], ...list] = headers();
      return { method, uri: target, protocol: 'HTTP/1.1', headers: list, body: bodyBytes && Buffer.from(bodyBytes), remoteAddr: '10.0.0.1', remotePort: 40000, serverPort: 8080 };
    };
  };
  // What the gateway bench's upstream (nginx `return 200 '{"ok":true}'`) answers.
  const upstreamHeaders = fromBytes([['Server', 'nginx/1.22.1'], ['Date', 'Sun, 06 Dec 2026 21:00:00 GMT'], ['Content-Type', 'application/json'], ['Content-Length', '11'], ['Connection', 'keep-alive']]);
  const response = () => ({ status: 200, protocol: 'HTTP/1.1', headers: upstreamHeaders(), body: Buffer.from('{"ok":true}') });
  return {
    'GET, no body': { request: request('GET', '/api/items?page=2&sort=price', BROWSER_HEADERS) },
    [`JSON body, ${body.length} bytes`]: {
      request: request('POST', '/api/orders', [...BROWSER_HEADERS, ['Content-Type', 'application/json'], ['Content-Length', String(body.length)]], body),
    },
    // The gateway bench's request (wrk: `GET /` with a Host header only; from 10.0.0.1 here, not
    // loopback) and its upstream's answer.
    'gateway GET with its response': { request: request('GET', '/', [['Host', '127.0.0.1:8080']]), response },
  };
}

/**
 * One exchange as the gateway's waf policy runs it: the request phases, then, when the bench
 * request has a response, the parked transaction's response phases, then the logging phase (the
 * policy's log hook; an engine built before it has none). Returns the transaction.
 */
export function runExchange(engine, { request, response }) {
  const tx = engine.newTransaction();
  engine.evaluateRequest(request(), tx);
  if (response !== undefined && tx.interruption === undefined) {
    engine.parkForResponse(tx);
    engine.evaluateResponse(tx, response());
  }
  engine.evaluateLogging?.(tx);
  return tx;
}
