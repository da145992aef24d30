import { dirname, resolve } from 'node:path';
import { ConfigSchema, type GatewayConfig } from './schema.js';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { ConfigSource, pointerToPath, readConfigFile } from './source.js';
import { substituteEnv, type EnvProblem } from './env.js';
import { configValidator, describeAjvError, usefulErrors } from './ajv.js';
import { resolvePolicies, type ResolvedAttachment } from './resolve-policies.js';
import { checkSemantics } from './semantics.js';
import { expandOpenApiRoutes } from './openapi-routes.js';
import { applyLeastPrivilege } from './least-privilege.js';
import { createRegistry, type PolicyRegistry } from '../policies/registry.js';
import { deepFreeze } from './freeze.js';
import { Router, RoutePathError } from '../proxy/router.js';

/** A config that passed every check, frozen: nothing on the request path validates it again. */
export interface LoadedConfig {
  readonly file: string;
  readonly dir: string;
  readonly config: GatewayConfig;
  /** Per route (same index as config.routes): global and route policies merged, configs defaulted. */
  readonly routePolicies: readonly (readonly ResolvedAttachment[])[];
  /** The global attachments alone: the chain for requests no route matches. */
  readonly globalPolicies: readonly ResolvedAttachment[];
  /** Things worth saying that do not stop the config (routes refused wholesale by `authorization.default: deny`). */
  readonly notices: readonly ConfigIssue[];
  /** Builds a located issue for a config path, for errors found later (when policies compile). */
  readonly locate: (path: readonly (string | number)[], message: string) => ConfigIssue;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  registry?: PolicyRegistry;
}

export function loadConfigFile(file: string, options: LoadOptions = {}): LoadedConfig {
  const path = resolve(file);
  const text = readConfigFile(path);
  return loadConfigText(text, path, options);
}

export function loadConfigText(text: string, file: string, options: LoadOptions = {}): LoadedConfig {
  const fileSource = new ConfigSource(file, text);
  const envProblems: EnvProblem[] = [];
  const raw = substituteEnv(fileSource.toJS() ?? {}, options.env ?? process.env, [], envProblems);
  if (envProblems.length > 0) {
    throw new ConfigError(envProblems.map((p) => fileSource.issue(p.path, `environment variable ${p.name} is not set`)));
  }

  const validate = configValidator(ConfigSchema);
  if (!validate(raw)) {
    throw new ConfigError(usefulErrors(validate.errors ?? []).map((e) => fileSource.issue(pointerToPath(e.instancePath), describeAjvError(e))));
  }
  const registry = options.registry ?? createRegistry();
  const issues: ConfigIssue[] = [];
  // Routes with `openapi` become one route per operation; `source` then locates their problems in the file.
  const { config, source } = expandOpenApiRoutes(raw as GatewayConfig, dirname(file), fileSource, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  const resolved = resolvePolicies(config, registry, source, issues);
  checkSemantics(config, source, dirname(file), issues);
  checkRoutePaths(config, source, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  const { routePolicies, globalPolicies, notices } = applyLeastPrivilege(config, resolved.routePolicies, resolved.globalPolicies, source, issues);
  if (issues.length > 0) throw new ConfigError(issues);

  const locate = (path: readonly (string | number)[], message: string) => source.issue(path, message);
  return deepFreeze({ file, dir: dirname(file), config, routePolicies, globalPolicies, notices, locate });
}

/** Registers every route path in a throwaway router, so conflicts and bad templates fail at load. */
function checkRoutePaths(config: GatewayConfig, source: ConfigSource, issues: ConfigIssue[]): void {
  try {
    new Router(config.routes, config.routes);
  } catch (error) {
    if (!(error instanceof RoutePathError)) throw error;
    issues.push(source.issue(['routes', error.routeIndex, 'match', 'paths', error.pathIndex], error.message));
  }
}
