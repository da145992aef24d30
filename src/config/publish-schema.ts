import { ConfigSchema, PolicyAttachment } from './schema.js';
import type { AnyPolicyDescriptor } from '../core/policy.js';

/**
 * The JSON Schema editors use (`portcullis schema`): the config schema with each policy's own
 * config schema wired in by name (`if name == X then config: X's schema`), so completion and
 * validation reach inside `config:` too. Plain JSON: TypeBox's symbol keys vanish in stringify.
 */
export function publishSchema(policies: readonly AnyPolicyDescriptor[]): Record<string, unknown> {
  const root = JSON.parse(JSON.stringify(ConfigSchema)) as Record<string, unknown>;
  const attachment = JSON.parse(JSON.stringify(PolicyAttachment)) as Record<string, unknown>;
  const props = attachment.properties as Record<string, Record<string, unknown>>;
  props.name = { ...props.name, enum: policies.map((p) => p.name) };
  attachment.allOf = policies.map((p) => ({
    if: { properties: { name: { const: p.name } }, required: ['name'] },
    then: { properties: { config: JSON.parse(JSON.stringify(p.schema)) } },
  }));
  const defs = { policyAttachment: attachment };
  const ref = { $ref: '#/$defs/policyAttachment' };
  const rootProps = root.properties as Record<string, Record<string, unknown>>;
  rootProps.policies = { ...rootProps.policies, items: ref };
  const routeItems = (rootProps.routes!.items as Record<string, unknown>).properties as Record<string, Record<string, unknown>>;
  routeItems.policies = { ...routeItems.policies, items: ref };
  relaxDefaulted(root);
  relaxDefaulted(attachment);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://portcullis.dev/schema/portcullis.schema.json',
    title: 'Portcullis gateway configuration',
    ...root,
    $defs: defs,
  };
}

/** A field with a default may be left out of the file: editors must not flag it as missing. */
function relaxDefaulted(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) relaxDefaulted(item);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const schema = node as Record<string, unknown>;
  const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (props !== undefined && Array.isArray(schema.required)) {
    schema.required = (schema.required as string[]).filter((name) => props[name]?.default === undefined);
    if ((schema.required as string[]).length === 0) delete schema.required;
  }
  for (const value of Object.values(schema)) relaxDefaulted(value);
}
