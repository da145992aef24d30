import { statSync } from 'node:fs';
import { compileSpec, type CompiledSpec, type CompileOptions } from './compile.js';
import { loadSpec, type LoadedSpec } from './spec-loader.js';

/**
 * Specs shared within one config load. A route with `openapi:` (config/openapi-routes.ts) becomes
 * one route per operation, each with its own `openapi` policy instance: without sharing, a spec of
 * 1,000 operations would be parsed and compiled 1,000 times. The config loader reads the spec once
 * and offers it here; every policy instance of that load takes it, and the compiled form is
 * memoised on it per option set.
 *
 * Staleness: `beginLoad()` forgets what an earlier load offered, and an entry is only used while
 * the root file's size and modification time are what they were when it was read. Anything not
 * offered (a hand-attached policy) is loaded and compiled as before.
 */
interface Offered {
  readonly spec: LoadedSpec;
  readonly mtimeMs: number;
  readonly size: number;
}

const offered = new Map<string, Offered>();
const compiled = new WeakMap<LoadedSpec, Map<string, CompiledSpec>>();

function stamp(file: string): { mtimeMs: number; size: number } | undefined {
  try {
    const { mtimeMs, size } = statSync(file);
    return { mtimeMs, size };
  } catch {
    return undefined;
  }
}

/** Called at the start of every config load. */
export function beginLoad(): void {
  offered.clear();
}

/** Loads `file` (throws SpecError) and offers it to the policies this load creates. */
export function loadAndOffer(file: string): LoadedSpec {
  const before = stamp(file);
  const spec = loadSpec(file);
  if (before !== undefined) offered.set(file, { spec, ...before });
  return spec;
}

/** The spec this load offered for `file`, when the file has not changed since; else a fresh load. */
export function sharedSpec(file: string): LoadedSpec {
  const entry = offered.get(file);
  const now = entry === undefined ? undefined : stamp(file);
  if (entry !== undefined && now !== undefined && now.mtimeMs === entry.mtimeMs && now.size === entry.size) return entry.spec;
  return loadSpec(file);
}

/** `compileSpec`, once per spec object and option set (validators and router are stateless, so shareable). */
export function sharedCompile(spec: LoadedSpec, options: CompileOptions): CompiledSpec {
  let byOptions = compiled.get(spec);
  if (byOptions === undefined) compiled.set(spec, (byOptions = new Map()));
  const key = JSON.stringify(options);
  let out = byOptions.get(key);
  if (out === undefined) byOptions.set(key, (out = compileSpec(spec, options)));
  return out;
}
