import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { compileCheck } from './compile-check.js';
import { loadConfigText } from './load.js';

const good = `version: 1
upstreams:
  up:
    targets: [{ url: "http://127.0.0.1:1" }]
routes:
  - name: r
    match: { paths: ["/a/*"] }
    forward: { upstream: up }
`;

async function issuesOf(text: string, env: NodeJS.ProcessEnv = {}) {
  try {
    await compileCheck(loadConfigText(text, '/etc/portcullis/gw.yaml', { env }));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected the config to be refused');
}

describe('loadConfigText', () => {
  it('fills defaults and freezes the result', () => {
    const loaded = loadConfigText(good, '/x/gw.yaml');
    expect(loaded.config.server.listeners[0]).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(loaded.config.server.paths).toEqual({ mergeSlashes: true, encodedSlashes: 'reject' });
    expect(loaded.config.upstreams.up!.timeouts.connect).toBe('5s');
    expect(Object.isFrozen(loaded.config.routes[0]!.match)).toBe(true);
    expect(() => ((loaded.config.routes as unknown as unknown[]).length = 0)).toThrow(TypeError);
  });

  it('names file, line, column and field for a wrong type', async () => {
    const issues = await issuesOf(good.replace('"http://127.0.0.1:1" }]', '"http://127.0.0.1:1" }]\n    retries: many'));
    expect(issues).toEqual([
      { file: '/etc/portcullis/gw.yaml', line: 5, column: 14, field: 'upstreams.up.retries', message: 'must be integer' },
    ]);
  });

  it('reports every problem, not just the first', async () => {
    const issues = await issuesOf(good.replace('upstream: up }', 'upstream: nope }\n    extra: 1').replace('version: 1', 'version: 2'));
    expect(issues.map((i) => i.field).sort()).toEqual(['routes[0]', 'version']);
    expect(issues.find((i) => i.field === 'routes[0]')!.message).toBe('unknown field "extra"');
  });

  it('refuses a route pointing at an unknown upstream, at the line of the reference', async () => {
    const issues = await issuesOf(good.replace('upstream: up }', 'upstream: nope }'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 8, field: 'routes[0].forward.upstream', message: 'unknown upstream "nope"' });
  });

  it('refuses YAML syntax errors with their line', async () => {
    const issues = await issuesOf('version: 1\nroutes: [\n  - a: b\n');
    expect(issues[0]!.line).toBeGreaterThanOrEqual(2);
  });

  it('refuses duplicate keys instead of silently taking the last', async () => {
    const issues = await issuesOf(good.replace('version: 1', 'version: 1\nversion: 1'));
    expect(issues[0]!.message).toMatch(/unique/i);
  });

  it('substitutes ${ENV:NAME} inside values and reports a missing variable with its location', async () => {
    const withEnv = good.replace('"http://127.0.0.1:1"', '"http://${ENV:UP_HOST}:1"');
    const loaded = loadConfigText(withEnv, '/x/gw.yaml', { env: { UP_HOST: '10.1.2.3' } });
    expect(loaded.config.upstreams.up!.targets[0]!.url).toBe('http://10.1.2.3:1');
    const issues = await issuesOf(withEnv);
    expect(issues[0]).toMatchObject({ line: 4, field: 'upstreams.up.targets[0].url', message: 'environment variable UP_HOST is not set' });
  });

  it('cannot be restructured by an environment value (substitution happens after parsing)', async () => {
    const withEnv = good.replace('"http://127.0.0.1:1"', '"http://${ENV:UP_HOST}:1"');
    const issues = await issuesOf(withEnv, { UP_HOST: 'x"}]\nroutes: []\n#' });
    expect(issues[0]!.field).toBe('upstreams.up.targets[0].url');
  });

  it('locates an error inside a policy config', async () => {
    const issues = await issuesOf(good + '    policies:\n      - name: ip-restriction\n        config: { allow: ["10.0.0.0/40"] }\n');
    expect(issues).toHaveLength(1);
    expect(issues[0]!.field).toMatch(/^routes\[0\]\.policies\[0\]\.config/);
    expect(issues[0]!.line).toBe(11);
  });

  it('refuses an unknown policy name and a policy attached twice', async () => {
    const issues = await issuesOf(good + '    policies:\n      - name: no-such\n      - name: cors\n      - name: cors\n');
    expect(issues.map((i) => i.message)).toEqual(expect.arrayContaining([expect.stringMatching(/unknown policy "no-such"/), 'policy "cors" attached twice']));
  });

  it('refuses two routes that claim the same path and method', async () => {
    const issues = await issuesOf(good + '  - name: s\n    match: { paths: ["/a/*"] }\n    forward: { upstream: up }\n');
    expect(issues[0]).toMatchObject({ field: 'routes[1].match.paths[0]', line: 10 });
  });

  it('refuses invalid trusted proxy CIDRs', async () => {
    const issues = await issuesOf(good + 'server:\n  trustedProxies: ["10.0.0.0/8", "not-an-ip"]\n');
    expect(issues[0]).toMatchObject({ field: 'server.trustedProxies[1]' });
  });

  it('merges a route override onto a global policy and lets a route disable one', () => {
    const text =
      good.replace('routes:', 'policies:\n  - name: security-headers\n    config: { frameOptions: SAMEORIGIN }\nroutes:') +
      '    policies:\n      - name: security-headers\n        config: { referrerPolicy: same-origin }\n' +
      '  - name: s\n    match: { paths: ["/b"] }\n    forward: { upstream: up }\n    policies:\n      - name: security-headers\n        enabled: false\n';
    const loaded = loadConfigText(text, '/x/gw.yaml');
    expect(loaded.routePolicies[0]!.map((p) => p.descriptor.name)).toEqual(['security-headers']);
    expect(loaded.routePolicies[0]![0]!.config).toMatchObject({ frameOptions: 'SAMEORIGIN', referrerPolicy: 'same-origin' });
    expect(loaded.routePolicies[1]).toEqual([]);
    expect(loaded.globalPolicies.map((p) => p.descriptor.name)).toEqual(['security-headers']);
  });
});
