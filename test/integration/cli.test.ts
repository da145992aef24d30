import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { publishSchema } from '../../src/config/publish-schema.js';
import { renderConfigReference } from '../../src/config/render-reference.js';
import { renderErrorsMarkdown } from '../../src/errors/index.js';
import { BUILTIN_POLICIES } from '../../src/policies/registry.js';

const root = join(import.meta.dirname, '../..');
const cli = join(root, 'dist/main.js');

function run(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20_000 });
}

describe('portcullis CLI', () => {
  beforeAll(() => {
    if (!existsSync(cli)) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'ignore' });
  });

  it('validate accepts the quick-start config', () => {
    const result = run('validate', join(root, 'examples/quickstart.yaml'));
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/quickstart\.yaml: ok/);
  });

  it('validate exits 1 and names file, line and field of each problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-validate-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'version: 1\nupstreams:\n  up: { targets: [{ url: "http://127.0.0.1:1" }] }\nroutes:\n  - name: r\n    match: { paths: ["/a"] }\n    forward: { upstream: missing }\n    policies:\n      - name: ip-restriction\n        config: { allow: ["300.1.1.1"] }\n',
    );
    const result = run('validate', file);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${file}:7:`);
    expect(result.stderr).toContain('routes[0].forward.upstream: unknown upstream "missing"');
    expect(result.stdout).toBe('');
  });

  it('validate reports policy errors found when policies compile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-validate-'));
    const file = join(dir, 'bad-policy.yaml');
    writeFileSync(
      file,
      'version: 1\nupstreams:\n  up: { targets: [{ url: "http://127.0.0.1:1" }] }\nroutes:\n  - name: r\n    match: { paths: ["/a"] }\n    forward: { upstream: up }\n    policies:\n      - name: ip-restriction\n        config: { allow: ["300.1.1.1"] }\n',
    );
    const result = run('validate', file);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`${file}:10:\\d+: routes\\[0\\]\\.policies\\[0\\]\\.config: .*300\\.1\\.1\\.1`));
  });

  it('validate exits 1 for a missing file', () => {
    const result = run('validate', '/nonexistent/portcullis.yaml');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('cannot read file (ENOENT)');
  });

  it('schema prints the published JSON Schema, which is committed as schema/portcullis.schema.json', () => {
    const result = run('schema');
    expect(result.status).toBe(0);
    const printed = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(printed).toEqual(publishSchema(BUILTIN_POLICIES));
    const committed = JSON.parse(readFileSync(join(root, 'schema/portcullis.schema.json'), 'utf8')) as unknown;
    expect(committed, 'run `npm run docs`').toEqual(printed);
    const attachment = (printed.$defs as Record<string, { properties: { name: { enum: string[] } } }>).policyAttachment;
    expect(attachment!.properties.name.enum).toEqual(expect.arrayContaining(['cors', 'ip-restriction', 'security-headers']));
  });

  it('docs/errors.md is generated from the catalogue and up to date', () => {
    expect(readFileSync(join(root, 'docs/errors.md'), 'utf8'), 'run `npm run docs`').toBe(renderErrorsMarkdown());
  });

  it('docs/configuration-reference.md is generated from the schemas and up to date', () => {
    const generated = renderConfigReference(BUILTIN_POLICIES);
    expect(readFileSync(join(root, 'docs/configuration-reference.md'), 'utf8'), 'run `npm run docs`').toBe(generated);
    expect(generated).toContain('| `server.timeouts.headers` |');
    expect(generated).toContain('## Policy `cors`');
  });

  it('unknown commands exit 2 with usage', () => {
    const result = run('frobnicate');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/usage: portcullis/);
  });
});
