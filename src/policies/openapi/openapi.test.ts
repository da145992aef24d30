import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeContext, makeDeps } from '../../../test/helpers/context.js';
import { catchGatewayError, compilePolicy } from '../../../test/helpers/policy.js';
import { GatewayError, isGatewayError } from '../../errors/index.js';
import type { RequestContext } from '../../core/context.js';
import { HeaderList } from '../../core/header-list.js';
import { openApiPolicy } from './index.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/openapi/', import.meta.url));
const deps = makeDeps({ configDir: FIXTURES });
const pets = (extra: object = {}) => compilePolicy(openApiPolicy, { spec: 'pets.yaml', ...extra }, deps);
const orders = (extra: object = {}) => compilePolicy(openApiPolicy, { spec: 'orders-3.1.json', ...extra }, deps);

function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): RequestContext {
  const headers = { ...(options.headers ?? {}) };
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  const ctx = makeContext({ method: options.method ?? 'GET', url, headers });
  if (options.body !== undefined) {
    ctx.req.push(options.body);
    ctx.req.push(null);
  }
  return ctx;
}

async function outcome(policy = pets(), ctx: RequestContext): Promise<GatewayError | undefined> {
  try {
    await policy.handle!(ctx);
    return undefined;
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    return error;
  }
}

const V1 = { 'x-api-version': '1' };
const errorsOf = (error: GatewayError | undefined) => error?.extensions?.errors as { pointer: string; detail: string }[];

describe('openapi load', () => {
  it('refuses a spec whose $ref points nowhere, naming the file and pointer', () => {
    expect(() => compilePolicy(openApiPolicy, { spec: 'broken-ref.yaml' }, deps)).toThrow(/broken-ref\.yaml:7#\/paths\/~1a\/get\/responses\/200: \$ref target .*#\/components\/responses\/Missing does not exist/);
  });

  it('refuses a missing file and a document that is not OpenAPI 3', () => {
    expect(() => compilePolicy(openApiPolicy, { spec: 'nope.yaml' }, deps)).toThrow(/cannot read .*nope\.yaml: ENOENT/);
    expect(() => compilePolicy(openApiPolicy, { spec: 'schemas.yaml' }, deps)).toThrow(/"openapi" must be a 3\.0\.x or 3\.1\.x version/);
  });
});

describe('openapi positive model', () => {
  it('answers 404 for an undeclared path and 405 with Allow for an undeclared method', async () => {
    expect((await outcome(pets(), request('/admin')))?.code).toBe('GW_ROUTE_NOT_FOUND');
    const error = await outcome(pets(), request('/pets/7', { method: 'PATCH' }));
    expect(error?.code).toBe('GW_METHOD_NOT_ALLOWED');
    expect(error?.headers).toEqual({ allow: 'GET, DELETE, HEAD' });
    expect((await outcome(pets(), request('/pets/7', { method: 'PROPFIND' })))?.code).toBe('GW_METHOD_NOT_ALLOWED');
  });

  it('matches paths under basePath only', async () => {
    const policy = pets({ basePath: '/api' });
    expect(await outcome(policy, request('/api/pets/7'))).toBeUndefined();
    expect((await outcome(policy, request('/pets/7')))?.code).toBe('GW_ROUTE_NOT_FOUND');
  });

  it('lets HEAD through where GET is declared', async () => {
    expect(await outcome(pets(), request('/pets/7', { method: 'HEAD' }))).toBeUndefined();
  });
});

describe('openapi parameters', () => {
  it('coerces and checks path parameters from a $ref in another place', async () => {
    expect(await outcome(pets(), request('/pets/42'))).toBeUndefined();
    const error = await outcome(pets(), request('/pets/abc'));
    expect(error?.code).toBe('GW_REQUEST_INVALID');
    expect(errorsOf(error)).toEqual([{ pointer: '/path/petId', detail: 'must be integer' }]);
    expect(errorsOf(await outcome(pets(), request('/pets/0')))).toEqual([{ pointer: '/path/petId', detail: 'must be >= 1' }]);
  });

  it('reads path parameters whose names contain "-" (find-my-way would cut the name there)', async () => {
    const policy = compilePolicy(openApiPolicy, { spec: 'routes.yaml' }, deps);
    expect(await outcome(policy, request('/pets/7'))).toBeUndefined();
    expect(errorsOf(await outcome(policy, request('/pets/0')))).toEqual([{ pointer: '/path/pet-id', detail: 'must be >= 1' }]);
  });

  it('checks query, header and cookie parameters and lists every problem', async () => {
    expect(await outcome(pets(), request('/pets?limit=10&tags=a&tags=b&filter[kind]=cat', { headers: { ...V1, cookie: 'session=abcdefgh' } }))).toBeUndefined();
    const error = await outcome(pets(), request('/pets?limit=1000', { headers: { cookie: 'session=short' } }));
    expect(errorsOf(error)).toEqual([
      { pointer: '/query/limit', detail: 'must be <= 100' },
      { pointer: '/header/x-api-version', detail: 'is required' },
      { pointer: '/cookie/session', detail: 'must NOT have fewer than 8 characters' },
    ]);
  });

  it('refuses undeclared query parameters, or lets them through when configured', async () => {
    const error = await outcome(pets(), request('/pets?debug=true', { headers: V1 }));
    expect(errorsOf(error)).toEqual([{ pointer: '/query/debug', detail: 'is not a declared query parameter' }]);
    expect(await outcome(pets({ unknownQueryParameters: 'allow' }), request('/pets?debug=true', { headers: V1 }))).toBeUndefined();
  });

  it('does not echo an attacker-chosen parameter name or value', async () => {
    const error = await outcome(pets(), request('/pets?%3Cscript%3E=1&limit=%3Cimg%3E', { headers: V1 }));
    expect(JSON.stringify(error?.extensions)).not.toMatch(/script|img/);
    expect(errorsOf(error)).toContainEqual({ pointer: '/query/*', detail: 'is not a declared query parameter' });
  });
});

describe('openapi JSON bodies', () => {
  const post = (body: string, contentType = 'application/json') => request('/pets', { method: 'POST', headers: { 'content-type': contentType }, body });

  it('accepts a valid body with a recursive $ref across files', async () => {
    expect(await outcome(pets(), post('{"name":"rex","children":[{"name":"pup","children":[]}]}'))).toBeUndefined();
  });

  it('refuses a body that fails its schema, deep inside, without echoing values', async () => {
    const error = await outcome(pets(), post(`{"name":"rex","children":[{"name":"${'x'.repeat(60)}"}]}`));
    expect(error?.code).toBe('GW_REQUEST_INVALID');
    expect(errorsOf(error)).toEqual([{ pointer: '/body/children/0/name', detail: 'must NOT have more than 50 characters' }]);
    expect(JSON.stringify(error?.extensions)).not.toContain('xxxx');
  });

  it('accepts null where OpenAPI 3.0 says nullable, and only there', async () => {
    expect(await outcome(pets(), post('{"name":"rex","tag":null}'))).toBeUndefined();
    expect(errorsOf(await outcome(pets(), post('{"name":null}')))).toEqual([{ pointer: '/body/name', detail: 'must be string' }]);
  });

  it('refuses a readOnly property sent by the client', async () => {
    expect(errorsOf(await outcome(pets(), post('{"id":1,"name":"rex"}')))).toEqual([{ pointer: '/body/id', detail: 'is read-only' }]);
  });

  it('refuses undeclared properties only when unknownBodyProperties is reject', async () => {
    expect(await outcome(pets(), post('{"name":"rex","isAdmin":true}'))).toBeUndefined();
    const error = await outcome(pets({ unknownBodyProperties: 'reject' }), post('{"name":"rex","isAdmin":true}'));
    expect(errorsOf(error)).toEqual([{ pointer: '/body', detail: 'has a property that is not declared' }]);
  });

  describe('unknownBodyProperties: remove', () => {
    const strip = () => pets({ unknownBodyProperties: 'remove' });

    it('strips undeclared properties at every depth (mass assignment) and re-serialises the body', async () => {
      const ctx = post('{"name":"rex","isAdmin":true,"owner":{"email":"a@b.example","role":"admin"},"children":[{"name":"pup","price":0}]}');
      expect(await outcome(strip(), ctx)).toBeUndefined();
      const sent = '{"name":"rex","owner":{"email":"a@b.example"},"children":[{"name":"pup"}]}';
      expect(ctx.body?.toString()).toBe(sent);
      expect(ctx.parsedBody?.value).toEqual(JSON.parse(sent));
      expect(ctx.upstreamHeaders).toEqual({ 'content-length': String(Buffer.byteLength(sent)) });
    });

    it('forwards a body with nothing to strip byte for byte, without touching Content-Length', async () => {
      const text = '{ "name" : "rex", "tag": null }';
      const ctx = post(text);
      expect(await outcome(strip(), ctx)).toBeUndefined();
      expect(ctx.body?.toString()).toBe(text);
      expect(ctx.upstreamHeaders).toBeUndefined();
    });

    it('still refuses what the schema forbids: readOnly, wrong types, hostile JSON', async () => {
      expect(errorsOf(await outcome(strip(), post('{"id":7,"name":"rex","isAdmin":true}')))).toEqual([{ pointer: '/body/id', detail: 'is read-only' }]);
      expect((await outcome(strip(), post('{"name":"rex","__proto__":{"isAdmin":true}}')))?.code).toBe('GW_JSON_FORBIDDEN_KEY');
      expect((await outcome(strip(), post('{"name":"rex","isAdmin":false,"isAdmin":true}')))?.code).toBe('GW_JSON_DUPLICATE_KEY');
    });

    it('leaves an invalid body as sent (monitor mode forwards it) and the parsed copy unstripped', async () => {
      const text = '{"name":42,"isAdmin":true}';
      const ctx = post(text);
      expect((await outcome(strip(), ctx))?.code).toBe('GW_REQUEST_INVALID');
      expect(ctx.body?.toString()).toBe(text);
      expect(ctx.parsedBody?.value).toEqual({ name: 42, isAdmin: true });
      expect(ctx.upstreamHeaders).toBeUndefined();
    });

    it('refuses undeclared form fields, which cannot be re-encoded, as reject does', async () => {
      const error = await outcome(strip(), post('name=rex&isAdmin=1', 'application/x-www-form-urlencoded'));
      expect(errorsOf(error)).toEqual([{ pointer: '/body', detail: 'has a property that is not declared' }]);
    });
  });

  it('refuses a missing required body, an undeclared content type and a body where none is declared', async () => {
    expect(errorsOf(await outcome(pets(), request('/pets', { method: 'POST' })))).toEqual([{ pointer: '/body', detail: 'is required' }]);
    expect((await outcome(pets(), post('<pet/>', 'application/xml')))?.code).toBe('GW_UNSUPPORTED_MEDIA_TYPE');
    const error = await outcome(pets(), request('/pets/1', { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: '{}' }));
    expect(errorsOf(error)).toEqual([{ pointer: '/body', detail: 'the operation takes no request body' }]);
  });

  it('applies the hostile-JSON limits before the schema', async () => {
    expect((await outcome(pets(), post('{"name":"a","name":"b"}')))?.code).toBe('GW_JSON_DUPLICATE_KEY');
    expect((await outcome(pets({ json: { maxDepth: 2 } }), post('{"name":"a","owner":{"email":{}}}')))?.code).toBe('GW_JSON_LIMIT_EXCEEDED');
  });

  it('validates OpenAPI 3.1 type arrays with the 2020-12 dialect', async () => {
    const put = (body: string) => request('/orders/abcd', { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
    expect(await outcome(orders(), put('{"item":"tea","note":null}'))).toBeUndefined();
    expect(errorsOf(await outcome(orders(), put('{"item":"tea","note":5}')))).toEqual([{ pointer: '/body/note', detail: 'must be string,null' }]);
  });
});

describe('openapi form bodies', () => {
  it('coerces urlencoded fields to their types and refuses bad ones', async () => {
    const form = (body: string) => request('/pets', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(await outcome(pets(), form('name=rex&tag=dog'))).toBeUndefined();
    expect(errorsOf(await outcome(pets(), form('tag=dog')))).toEqual([{ pointer: '/body/name', detail: 'is required' }]);
    expect(errorsOf(await outcome(pets({ forms: { maxFields: 2 } }), form('name=a&tag=b&x=c')))).toEqual([{ pointer: '/body', detail: 'exceeds the field count limit' }]);
  });

  it('parses multipart bodies with limits on files and fields', async () => {
    const boundary = 'XyZ';
    const part = (name: string, value: string, file?: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file === undefined ? '' : `; filename="${file}"`}\r\n\r\n${value}\r\n`;
    const multipart = (parts: string, extra: object = {}) =>
      outcome(pets(extra), request('/uploads', { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: parts + `--${boundary}--\r\n` }));
    expect(await multipart(part('title', 'cat') + part('copies', '3') + part('file', 'GIF89a', 'cat.gif'))).toBeUndefined();
    expect(errorsOf(await multipart(part('title', 'cat') + part('copies', 'many') + part('file', 'x', 'a.gif')))).toEqual([{ pointer: '/body/copies', detail: 'must be integer' }]);
    expect(errorsOf(await multipart(part('title', 'cat')))).toEqual([{ pointer: '/body/file', detail: 'is required' }]);
    expect(errorsOf(await multipart(part('title', 'cat') + part('file', 'x'.repeat(100), 'a.gif'), { forms: { maxFileBytes: 10 } }))).toEqual([{ pointer: '/body', detail: 'exceeds the file size limit' }]);
  });
});

describe('openapi monitor state', () => {
  it('remembers the matched operation for the response hooks', async () => {
    const ctx = request('/pets/3');
    await pets().handle!(ctx);
    expect((ctx.state.get('openapi') as { id: string }).id).toBe('GET /pets/{petId}');
  });

  it('throws GatewayErrors only, so monitor mode can record them', () => {
    expect(catchGatewayError(() => pets().handle!(request('/nope'))).code).toBe('GW_ROUTE_NOT_FOUND');
  });
});

describe('openapi response bodies', () => {
  async function respond(body: string, extra: object = {}): Promise<Buffer> {
    const policy = pets(extra);
    const ctx = request('/pets/3');
    await policy.handle!(ctx);
    const head = new HeaderList(['content-type', 'application/json']);
    expect(policy.wantsResponseBody!(ctx, head, 200)).toBeDefined();
    const raw = Buffer.from(body);
    const out = await policy.onResponseBody!(ctx, raw, head, 200);
    return out === raw ? raw : Buffer.from(out);
  }

  it('sends a body with nothing to remove as the upstream sent it (the same buffer, never re-serialised)', async () => {
    const text = '{ "id": 3, "name": "rex", "owner": { "email": "a@b.example" } }';
    const raw = Buffer.from(text);
    const policy = pets();
    const ctx = request('/pets/3');
    await policy.handle!(ctx);
    expect(await policy.onResponseBody!(ctx, raw, new HeaderList(['content-type', 'application/json']), 200)).toBe(raw);
  });

  it('re-serialises a body that lost an undeclared or writeOnly property, however deep', async () => {
    expect((await respond('{"id":3,"name":"rex","owner":{"email":"a@b.example","ssn":"x"}}')).toString()).toBe('{"id":3,"name":"rex","owner":{"email":"a@b.example"}}');
    expect((await respond('{"id":3,"name":"rex","password":"hunter2"}')).toString()).toBe('{"id":3,"name":"rex"}');
  });

  it('passes the body unchanged in report mode, also when it would lose properties', async () => {
    const text = '{"id":3,"name":"rex","internal":1}';
    expect((await respond(text, { responses: { undeclaredProperties: 'report' } })).toString()).toBe(text);
  });
});

describe('portcullis validate with an openapi spec', () => {
  it('reports a broken spec with the config field, the spec file, its line and the JSON Pointer', async () => {
    const { loadConfigText } = await import('../../config/load.js');
    const { compileCheck } = await import('../../config/compile-check.js');
    const yaml = `version: 1
upstreams: { up: { targets: [{ url: "http://127.0.0.1:1" }] } }
routes:
  - name: pets
    match: { paths: ["/*"] }
    policies: [{ name: openapi, config: { spec: broken-ref.yaml } }]
    forward: { upstream: up }
`;
    const loaded = loadConfigText(yaml, `${FIXTURES}gateway.yaml`);
    const error = (await compileCheck(loaded).then(() => undefined, (e: unknown) => e)) as { issues: { field: string; message: string }[] };
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]!.field).toBe('routes[0].policies[0].config');
    expect(error.issues[0]!.message).toMatch(/broken-ref\.yaml:7#\/paths\/~1a\/get\/responses\/200: \$ref target/);
  });
});

describe('openapi with a large spec', () => {
  it('compiles 1,000 operations once and validates the first and the last path alike', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/pcl-openapi-`);
    const paths: Record<string, unknown> = {};
    for (let i = 0; i < 500; i++) {
      paths[`/r${i}/{id}`] = {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        get: { responses: { 200: { description: 'ok' } } },
        put: { requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } }, responses: { 204: { description: 'ok' } } },
      };
    }
    const spec = { openapi: '3.0.3', info: { title: 'big', version: '1' }, paths, components: { schemas: { Thing: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } } } };
    writeFileSync(`${dir}/big.json`, JSON.stringify(spec));
    try {
      const policy = compilePolicy(openApiPolicy, { spec: 'big.json' }, makeDeps({ configDir: dir }));
      for (const i of [0, 499]) {
        expect(await outcome(policy, request(`/r${i}/5`))).toBeUndefined();
        expect(errorsOf(await outcome(policy, request(`/r${i}/x`)))).toEqual([{ pointer: '/path/id', detail: 'must be integer' }]);
        const put = (body: string) => request(`/r${i}/5`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
        expect(await outcome(policy, put('{"n":1}'))).toBeUndefined();
        expect(errorsOf(await outcome(policy, put('{"n":"one"}')))).toEqual([{ pointer: '/body/n', detail: 'must be integer' }]);
      }
      expect((await outcome(policy, request('/r500/5')))?.code).toBe('GW_ROUTE_NOT_FOUND');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
