import { expect } from 'vitest';
import type { AnyPolicyDescriptor, PolicyDeps, PolicyInstance } from '../../src/core/policy.js';
import { configValidator, describeAjvError, usefulErrors } from '../../src/config/ajv.js';
import { deepFreeze } from '../../src/config/freeze.js';
import { GatewayError } from '../../src/errors/index.js';
import { makeDeps } from './context.js';

/**
 * Runs a raw config object through the policy's real schema (Ajv fills defaults in place), freezes
 * it as the loader does, and returns it. Throws with the Ajv errors when the config is invalid.
 */
export function validatePolicyConfig<T = Record<string, unknown>>(descriptor: AnyPolicyDescriptor, rawConfig: object = {}): T {
  const config = structuredClone(rawConfig) as Record<string, unknown>;
  const validate = configValidator(descriptor.schema);
  if (!validate(config)) {
    const messages = usefulErrors(validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${describeAjvError(e)}`);
    throw new Error(`invalid ${descriptor.name} config: ${messages.join('; ')}`);
  }
  return deepFreeze(config) as T;
}

/** Validates, defaults and freezes `rawConfig`, then calls the descriptor's `create` with it. */
export function compilePolicy(descriptor: AnyPolicyDescriptor, rawConfig: object = {}, deps: PolicyDeps = makeDeps()): PolicyInstance {
  return descriptor.create(validatePolicyConfig(descriptor, rawConfig), deps);
}

/** Runs `fn`, expects it to throw a GatewayError, and returns it for assertions on code and fields. */
export function catchGatewayError(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error('expected a GatewayError, but nothing was thrown');
}

/** Runs a policy's request hook (sync or async) and answers the status the client would see: 200 when it continued. */
export async function policyStatus(instance: { handle?(ctx: never): unknown }, ctx: unknown): Promise<number> {
  try {
    await (instance.handle as (c: unknown) => unknown)(ctx);
    return 200;
  } catch (error) {
    if (error instanceof GatewayError) return error.status;
    throw error;
  }
}
