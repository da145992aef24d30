import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Router } from '../proxy/router.js';
import { compileCheck } from './compile-check.js';
import { ConfigError } from './config-error.js';
import { loadConfigText } from './load.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/openapi/', import.meta.url));
const FILE = `${FIXTURES}gw.yaml`;

const gatewayYaml = (route: string) => `version: 1
upstreams:
  up:
    targets: [{ url: "http://127.0.0.1:1" }]
routes:
  - name: pets
${route}
    forward: { upstream: up, stripPrefix: /api }
`;
const petsRoute = (extra = '') => `    openapi:
      spec: routes.yaml
      basePath: /api
${extra}`;

async function issuesOf(text: string) {
  try {
    await compileCheck(loadConfigText(text, FILE));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected the config to be refused');
}

describe('routes generated from an OpenAPI description', () => {
  it('makes one route per operation: template under basePath, method (HEAD with GET), named by operationId', () => {
    const { config } = loadConfigText(gatewayYaml(petsRoute()), FILE);
    expect(config.routes.map((r) => [r.name, r.match.paths, r.match.methods])).toEqual([
      ['pets.listPets', ['/api/pets'], ['GET', 'HEAD']],
      ['pets.createPet', ['/api/pets'], ['POST']],
      ['pets.showPet', ['/api/pets/{pet_id}'], ['GET', 'HEAD']],
      ['pets.deletePet', ['/api/pets/{pet_id}'], ['DELETE']],
      ['pets.get-status', ['/api/status'], ['GET', 'HEAD']],
    ]);
    expect(config.routes.every((r) => r.forward.upstream === 'up' && r.forward.stripPrefix === '/api')).toBe(true);
  });

  it('routes by method and template: undeclared methods 405 with Allow, undeclared paths 404', () => {
    const { config } = loadConfigText(gatewayYaml(petsRoute()), FILE);
    const router = new Router(config.routes, config.routes.map((r) => r.name));
    const name = (method: string, path: string) => {
      const found = router.lookup(method, path, 'h');
      return found.kind === 'found' ? found.match.route : found.kind;
    };
    expect(name('GET', '/api/pets')).toBe('pets.listPets');
    expect(name('POST', '/api/pets')).toBe('pets.createPet');
    expect(name('DELETE', '/api/pets/7')).toBe('pets.deletePet');
    expect(name('HEAD', '/api/pets/7')).toBe('pets.showPet');
    expect(router.lookup('PUT', '/api/pets/7', 'h')).toEqual({ kind: 'method-not-allowed', allow: ['GET', 'HEAD', 'DELETE'] });
    expect(name('GET', '/api/pets/7/owner')).toBe('not-found');
    expect(name('GET', '/pets')).toBe('not-found');
  });

  it('attaches the openapi policy to every generated route, with settings from an openapi attachment on the route', () => {
    const loaded = loadConfigText(gatewayYaml(petsRoute() + `    policies:\n      - name: openapi\n        mode: monitor\n        config: { unknownQueryParameters: allow }\n`), FILE);
    for (const chain of loaded.routePolicies) {
      const openapi = chain.find((a) => a.descriptor.name === 'openapi')!;
      expect(openapi.mode).toBe('monitor');
      expect(openapi.config).toMatchObject({ spec: 'routes.yaml', basePath: '/api', unknownQueryParameters: 'allow' });
    }
  });

  it('applies a per-operation policy to that operation only, merged over a route attachment of the same name', () => {
    const extra = `      operations:
        deletePet:
          policies: [{ name: ip-restriction, config: { deny: ["10.0.0.0/8"] } }]
        GET /status:
          policies: [{ name: request-size-limit, config: { maxBodyBytes: 1kb } }]
    policies:
      - { name: request-size-limit, config: { maxBodyBytes: 2mb } }
`;
    const loaded = loadConfigText(gatewayYaml(petsRoute(extra)), FILE);
    const byRoute = Object.fromEntries(loaded.config.routes.map((r, i) => [r.name, loaded.routePolicies[i]!]));
    const names = (route: string) => byRoute[route]!.map((a) => a.descriptor.name).sort();
    expect(names('pets.deletePet')).toEqual(['ip-restriction', 'openapi', 'request-size-limit']);
    expect(names('pets.showPet')).toEqual(['openapi', 'request-size-limit']);
    const size = (route: string) => byRoute[route]!.find((a) => a.descriptor.name === 'request-size-limit')!.config;
    expect(size('pets.get-status')).toMatchObject({ maxBodyBytes: '1kb' });
    expect(size('pets.listPets')).toMatchObject({ maxBodyBytes: '2mb' });
  });

  it('refuses a spec whose $ref points nowhere, located at the route and naming the spec file, line and pointer', async () => {
    const issues = await issuesOf(gatewayYaml(`    match: {}\n    openapi: { spec: broken-ref.yaml }\n`));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: FILE, line: 8, field: 'routes[0].openapi' });
    expect(issues[0]!.message).toMatch(/broken-ref\.yaml:7#\/paths\/~1a\/get\/responses\/200: \$ref target .* does not exist/);
  });

  it('refuses a missing spec, an override for an operation the spec lacks, and paths or methods given as well', async () => {
    expect(await issuesOf(gatewayYaml(`    match: {}\n    openapi: { spec: nope.yaml }\n`))).toMatchObject([{ line: 8, field: 'routes[0].openapi.spec', message: expect.stringContaining('cannot read') }]);
    const issues = await issuesOf(gatewayYaml(`    match: { paths: ["/x"], methods: [GET] }\n    openapi:\n      spec: routes.yaml\n      operations: { updatePet: {} }\n`));
    expect(issues.map((i) => [i.field, i.line])).toEqual([
      ['routes[0].match.paths', 7],
      ['routes[0].match.methods', 7],
      ['routes[0].openapi.operations.updatePet', 10],
    ]);
  });

  it('locates a bad per-operation policy config in the override, and requires paths on ordinary routes', async () => {
    const extra = `      operations:\n        deletePet:\n          policies: [{ name: ip-restriction, config: { deny: ["300.1.1.1"] } }]\n`;
    const issues = await issuesOf(gatewayYaml(petsRoute(extra)));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 12, field: expect.stringMatching(/^routes\[0\]\.openapi\.operations\.deletePet\.policies\[0\]\.config/) });
    expect(await issuesOf(gatewayYaml('    policies: []'))).toMatchObject([{ field: 'routes[0].match', message: expect.stringContaining('match.paths is required') }]);
  });
});
