import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkStatusStage, rawFtwRequest, startFtwGateway, type FtwGateway } from './gateway-stage.js';
import { locateTestCrs } from './locate.js';

const CRS_DIR = locateTestCrs(path.dirname(fileURLToPath(import.meta.url)));

describe('go-ftw stages as bytes', () => {
  it('writes the request line, the headers go-ftw completes and the body; an encoded request as given', () => {
    const raw = rawFtwRequest({ method: 'POST', uri: '/p?a=1', version: 'HTTP/1.0', headers: { Host: 'localhost' }, data: 'x=é' });
    expect(raw.toString('latin1')).toBe('POST /p?a=1 HTTP/1.0\r\nHost: localhost\r\nContent-Length: 4\r\nConnection: close\r\n\r\nx=\u00c3\u00a9');
    const encoded = Buffer.from('GET / JUNK/1.0\r\n\r\n').toString('base64');
    expect(rawFtwRequest({ encoded_request: encoded }).toString('latin1')).toBe('GET / JUNK/1.0\r\n\r\n');
  });
});

describe.skipIf(CRS_DIR === undefined)('status-only stages through a real gateway', () => {
  let gateway: FtwGateway;
  beforeAll(async () => {
    gateway = await startFtwGateway(CRS_DIR!);
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
  });

  const stage = (input: Record<string, unknown>, status: number) => ({ input: { headers: { Host: 'localhost', 'User-Agent': 'OWASP CRS test agent' }, ...input }, output: { status } });

  it('passes when the gateway answers the expected status, and names both when it does not', async () => {
    expect(await checkStatusStage(gateway, stage({ uri: '/get' }, 200))).toBeUndefined();
    // The waf runs in monitor mode, as go-ftw's ModSecurity in DetectionOnly: an attack is forwarded.
    expect(await checkStatusStage(gateway, stage({ uri: "/get?id=1'%20OR%20'1'='1" }, 200))).toBeUndefined();
    expect(await checkStatusStage(gateway, stage({ method: 'CONNECT', uri: 'www.coreruleset.org' }, 400))).toBeUndefined();
    expect(await checkStatusStage(gateway, stage({ method: 'CONNECT', uri: 'www.coreruleset.org' }, 200))).toBe('expected status 200, the gateway answered 400');
  });
});
