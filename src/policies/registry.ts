import type { AnyPolicyDescriptor } from '../core/policy.js';
import { templatePolicy } from './template/index.js';

/**
 * Every built-in policy, listed explicitly: no discovery, no side-effect imports. The order here
 * is only the order of `portcullis schema` output; execution order comes from phases.
 */
export const BUILTIN_POLICIES: readonly AnyPolicyDescriptor[] = Object.freeze([templatePolicy]);

export type PolicyRegistry = ReadonlyMap<string, AnyPolicyDescriptor>;

export function createRegistry(descriptors: readonly AnyPolicyDescriptor[] = BUILTIN_POLICIES): PolicyRegistry {
  const map = new Map<string, AnyPolicyDescriptor>();
  for (const d of descriptors) {
    if (map.has(d.name)) throw new Error(`policy "${d.name}" registered twice`);
    map.set(d.name, d);
  }
  return map;
}
