import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { locateTestCrs } from '../ftw/locate.js';
import type { WafRequest } from '../request.js';
import { WafEngine } from './waf-engine.js';

const CRS_DIR = locateTestCrs(path.dirname(fileURLToPath(import.meta.url)));

// The CRS at paranoia level 1, on a site that also accepts the JSON:API media type.
const SETTINGS = `SecAction "id:900000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level=1"
SecAction "id:900220,phase:1,pass,nolog,setvar:'tx.allowed_request_content_type=|application/json| |application/vnd.api+json| |application/x-www-form-urlencoded| |multipart/form-data|'"`;

const attack = JSON.stringify("x' UNION SELECT password FROM users --");

function post(type: string, body: string): WafRequest {
  const bytes = Buffer.from(body, 'latin1');
  return { method: 'POST', uri: '/api', protocol: 'HTTP/1.1', headers: [['Host', 'shop.test'], ['User-Agent', 'curl/8.0'], ['Accept', '*/*'], ['Content-Type', type], ['Content-Length', String(bytes.length)]], body: bytes, remoteAddr: '192.0.2.1' };
}

describe.skipIf(CRS_DIR === undefined)('the recommended body-processor rules with the CRS', () => {
  const engine = WafEngine.fromCrs({ crsDir: CRS_DIR!, settings: SETTINGS });
  const verdict = (type: string, body: string) => {
    const tx = engine.evaluateRequest(post(type, body));
    return { blockedBy: tx.interruption?.ruleId, ids: tx.matches.map((m) => m.id), args: tx.collection('ARGS').values };
  };

  it('read a +json body as JSON (200006): its attack is found, as in an application/json body', () => {
    for (const type of ['application/json', 'application/vnd.api+json', 'application/vnd.api+json; charset=utf-8']) {
      const result = verdict(type, `{"data":{"q":${attack}}}`);
      expect(result.blockedBy, type).toBe(949110);
      expect(result.ids, type).toContain(942100);
      expect(result.args, type).toEqual([JSON.parse(attack)]);
    }
  });

  it('refuse a body the JSON processor cannot parse with 400 (200002), and let well-formed clean ones through', () => {
    const bad = engine.evaluateRequest(post('application/vnd.api+json', '{"data":{"q":"book"},}'));
    expect(bad.interruption).toMatchObject({ ruleId: 200002, status: 400 });
    expect(bad.scalars.get('REQBODY_ERROR_MSG')).toBe('JSON parsing error: expected a member name at byte 21');
    expect(verdict('application/vnd.api+json', '{"data":{"q":"book"}}').blockedBy).toBeUndefined();
    expect(verdict('application/json', '{"q":"book","q":"pen"}')).toMatchObject({ blockedBy: undefined, args: ['book', 'pen'] });
  });

  it('refuse a multipart body whose parts the reader would skip (200003), and read well-formed ones', () => {
    const type = 'multipart/form-data; boundary=XyZ';
    const part = (headers: string, value: string) => `--XyZ\r\n${headers}\r\n\r\n${value}\r\n`;
    const skipped = {
      'no Content-Disposition': `${part('Content-Type: text/plain', JSON.parse(attack))}--XyZ--\r\n`,
      'no end of headers': `--XyZ\r\nContent-Disposition: form-data; name="q"\r\n${JSON.parse(attack)}\r\n--XyZ--\r\n`,
      'no closing delimiter': part('Content-Disposition: form-data; name="q"', 'book'),
    };
    for (const [what, body] of Object.entries(skipped)) expect(engine.evaluateRequest(post(type, body)).interruption, what).toMatchObject({ ruleId: 200003, status: 400 });
    const clean = verdict(type, `${part('Content-Disposition: form-data; name="q"', 'book')}--XyZ--\r\n`);
    expect(clean).toMatchObject({ blockedBy: undefined, args: ['book'] });
    expect(verdict(type, `${part('Content-Disposition: form-data; name="q"', JSON.parse(attack))}--XyZ--\r\n`).blockedBy).toBe(949110);
  });
});
