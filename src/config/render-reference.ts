import { ConfigSchema } from './schema.js';
import type { AnyPolicyDescriptor } from '../core/policy.js';

type Schema = Record<string, unknown>;

function typeOf(schema: Schema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).map(typeOf).join(' | ');
  if (schema.type === 'array') return `${typeOf((schema.items ?? {}) as Schema)}[]`;
  if (schema.type === 'object' && schema.patternProperties !== undefined) return 'map';
  return String(schema.type ?? 'any');
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** One table row per field, depth first, with dotted paths (`[]` for array items, `<name>` for maps). */
function rows(schema: Schema, path: string, out: string[]): void {
  const props = schema.properties as Record<string, Schema> | undefined;
  if (props !== undefined) {
    const required = new Set((schema.required as string[] | undefined) ?? []);
    for (const [name, child] of Object.entries(props)) {
      const childPath = path === '' ? name : `${path}.${name}`;
      const def = child.default === undefined ? (required.has(name) ? '**required**' : '') : `\`${JSON.stringify(child.default)}\``;
      out.push(`| \`${childPath}\` | ${cell(typeOf(child))} | ${def} | ${cell(String(child.description ?? ''))}${child.secret === true ? ' (secret: use `${ENV:NAME}`)' : ''} |`);
      descend(child, childPath, out);
    }
  }
}

function descend(schema: Schema, path: string, out: string[]): void {
  if (schema.type === 'object' && schema.properties !== undefined) rows(schema, path, out);
  else if (schema.type === 'array' && (schema.items as Schema | undefined)?.type === 'object') rows(schema.items as Schema, `${path}[]`, out);
  else if (schema.patternProperties !== undefined) {
    const child = Object.values(schema.patternProperties as Record<string, Schema>)[0]!;
    rows(child, `${path}.<name>`, out);
  }
}

const HEADER = ['| field | type | default | description |', '|---|---|---|---|'];

/** docs/configuration-reference.md, generated from the same schemas that validate the file. */
export function renderConfigReference(policies: readonly AnyPolicyDescriptor[]): string {
  const out = [
    '# Configuration reference',
    '',
    'Generated from the config schema (`src/config/schema.ts`) and each policy\'s schema by',
    '`node dist/main.js config-doc`; do not edit by hand. Durations are milliseconds or strings such as',
    '`"500ms"`, `"10s"`, `"5m"`; sizes are bytes or strings such as `"64kb"`, `"10mb"`.',
    '',
    '## Gateway',
    '',
    ...HEADER,
  ];
  rows(JSON.parse(JSON.stringify(ConfigSchema)) as Schema, '', out);
  for (const policy of policies) {
    out.push('', `## Policy \`${policy.name}\``, '', `${policy.description} Phase \`${policy.phase}\`; monitor mode ${policy.supportsMonitor ? 'supported' : 'not supported'}; default failure mode \`${policy.defaultFailureMode}\`. Fields go under \`config:\`.`, '', ...HEADER);
    rows(JSON.parse(JSON.stringify(policy.schema)) as Schema, '', out);
  }
  return out.join('\n') + '\n';
}
