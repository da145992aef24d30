import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { compileCheck } from './compile-check.js';
import { loadConfigText } from './load.js';

const AUTHN = `      - name: authenticate
        config: { methods: [{ type: api-key }] }`;

function config(routes: string, top = ''): string {
  return `version: 1
${top}
upstreams:
  up: { targets: [{ url: "http://127.0.0.1:1" }] }
routes:
${routes}`;
}

function route(name: string, path: string, policies: string): string {
  return `  - name: ${name}
    match: { paths: ["${path}"] }
    forward: { upstream: up }
    policies:
${policies}
`;
}

const authorize = (rules: string, extra = '') => `      - name: authorize${extra}
        config:
          rules: ${rules}`;

async function issuesOf(text: string): Promise<readonly ConfigIssue[]> {
  try {
    await compileCheck(loadConfigText(text, '/etc/portcullis/gw.yaml'));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected the config to be refused');
}

describe('authorize at load', () => {
  it('refuses a rule that does not type-check with file, line and the rule field', async () => {
    const text = config(route('r', '/a/*', `${AUTHN}\n${authorize(`\n            - { name: ok }\n            - { name: bad, when: 'principal.claims.x == 1 &&' }`)}`));
    const issues = await issuesOf(text);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: '/etc/portcullis/gw.yaml', line: 16, field: 'routes[0].policies[1].config.rules[1].when' });
    expect(issues[0]!.message).toMatch(/^rule "bad": /);
  });

  it('refuses authorize without authenticate on a route, and globally', async () => {
    const issues = await issuesOf(config(route('r', '/a/*', authorize('[{ name: anyone }]'))));
    expect(issues.map((i) => [i.field, i.message])).toEqual([['routes[0].policies[0].name', expect.stringContaining('needs an authenticate policy')]]);
    const global = `policies:\n${authorize('[{ name: anyone }]').replaceAll('\n      ', '\n  ').replace(/^ {6}/, '  ')}`;
    const globalIssues = await issuesOf(config(route('r', '/a/*', AUTHN), global));
    expect(globalIssues.map((i) => i.field)).toContain('policies[0].name');
  });

  it('lists, under default deny, the routes without authorize as notices and attaches a deny step to them and to the unmatched chain', () => {
    const text = config(route('open', '/open/*', AUTHN) + route('guarded', '/g/*', `${AUTHN}\n${authorize('[{ name: anyone }]')}`), 'authorization: { default: deny }');
    const loaded = loadConfigText(text, '/x/gw.yaml');
    expect(loaded.notices.map((n) => n.message)).toEqual(['route open has no authorize policy: every request is refused (authorization.default: deny)']);
    expect(loaded.routePolicies[0]!.map((a) => a.descriptor.name)).toEqual(['authenticate', 'default-deny']);
    expect(loaded.routePolicies[1]!.map((a) => a.descriptor.name)).toEqual(['authenticate', 'authorize']);
    expect(loaded.globalPolicies.map((a) => a.descriptor.name)).toEqual(['default-deny']);
  });

  it('notes, under default deny, a route whose authorize only monitors', () => {
    const text = config(route('trial', '/t/*', `${AUTHN}\n${authorize('[{ name: anyone }]', '\n        mode: monitor')}`), 'authorization: { default: deny }');
    const loaded = loadConfigText(text, '/x/gw.yaml');
    expect(loaded.notices.map((n) => [n.field, n.message])).toEqual([['routes[0].policies[1].mode', 'route trial: authorize only monitors, so requests it would deny are let through']]);
  });

  it('treats a route that disables a global authorize as having none', () => {
    const global = `policies:\n  - name: authenticate\n    config: { methods: [{ type: api-key }] }\n  - name: authorize\n    config: { rules: [{ name: anyone }] }`;
    const text = config(route('sneaky', '/s/*', '      - { name: authorize, enabled: false }'), `authorization: { default: deny }\n${global}`);
    const loaded = loadConfigText(text, '/x/gw.yaml');
    expect(loaded.routePolicies[0]!.map((a) => a.descriptor.name)).toEqual(['authenticate', 'default-deny']);
  });

  it('has portcullis validate report the routes refused wholesale, and still pass', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcl-authz-validate-'));
    const file = join(dir, 'gw.yaml');
    writeFileSync(file, config(route('open', '/open/*', AUTHN), 'authorization: { default: deny }'));
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => written.push(String(chunk)) > 0);
    try {
      expect(await validateCommand({ positionals: [file], flags: new Map() })).toBe(0);
    } finally {
      spy.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(written.join('')).toMatch(/notice: .*gw\.yaml:\d+:\d+: routes\[0\]\.name: route open has no authorize policy/);
  });

  it('changes nothing under the default allow', () => {
    const loaded = loadConfigText(config(route('open', '/open/*', AUTHN)), '/x/gw.yaml');
    expect(loaded.notices).toEqual([]);
    expect(loaded.routePolicies[0]!.map((a) => a.descriptor.name)).toEqual(['authenticate']);
    expect(loaded.globalPolicies).toEqual([]);
  });
});

describe('admin paths at load', () => {
  const top = 'authorization: { adminPaths: ["/admin/*"] }';

  it('refuses an admin route without authorize, or whose allow rules do not all require a group', async () => {
    expect((await issuesOf(config(route('adm', '/admin/users', AUTHN), top)))[0]!.message).toContain('route adm serves the admin path /admin/*');
    const loose = `${AUTHN}\n${authorize('[{ name: admins, groups: [admin] }, { name: readers, scopes: [read] }]')}`;
    expect((await issuesOf(config(route('adm', '/admin/*', loose), top)))[0]!.field).toBe('routes[0].policies');
  });

  it('refuses an admin route whose authorize only monitors', async () => {
    const monitored = `${AUTHN}\n${authorize('[{ name: admins, groups: [admin] }]', '\n        mode: monitor')}`;
    expect(await issuesOf(config(route('adm', '/admin/*', monitored), top))).toHaveLength(1);
  });

  it('refuses a catch-all route that would serve the admin paths', async () => {
    const issues = await issuesOf(config(route('all', '/*', `${AUTHN}\n${authorize('[{ name: anyone }]')}`), top));
    expect(issues[0]!.message).toContain('route all serves the admin path /admin/*');
  });

  it('accepts admin routes whose every allow rule requires a group, and a catch-all beside them', async () => {
    const strict = `${AUTHN}\n${authorize('[{ name: admins, groups: [admin, ops] }, { name: no-deletes, effect: deny, methods: [DELETE] }]')}`;
    const text = config(route('adm', '/admin/*', strict) + route('all', '/*', `${AUTHN}\n${authorize('[{ name: anyone }]')}`), top);
    await expect(compileCheck(loadConfigText(text, '/x/gw.yaml'))).resolves.toBeUndefined();
  });
});
