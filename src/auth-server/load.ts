import { dirname, resolve } from 'node:path';
import { configValidator, describeAjvError, usefulErrors } from '../config/ajv.js';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import { substituteEnv, type EnvProblem } from '../config/env.js';
import { deepFreeze } from '../config/freeze.js';
import { ConfigSource, pointerToPath, readConfigFile } from '../config/source.js';
import { AuthServerSchema, type AuthServerConfig } from './schema.js';

export interface LoadedAuthServerConfig {
  readonly file: string;
  /** Relative paths in the config (`keys.jwksFile`) resolve against this folder. */
  readonly dir: string;
  readonly config: AuthServerConfig;
}

/**
 * Reads a standalone auth-server YAML file. A gateway config with a top-level `authServer`
 * section works too: only that section is read, so one file can configure both.
 */
export function loadAuthServerConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadedAuthServerConfig {
  const path = resolve(file);
  const text = readConfigFile(path);
  return loadAuthServerConfigText(text, path, env);
}

export function loadAuthServerConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): LoadedAuthServerConfig {
  const source = new ConfigSource(file, text);
  const document = source.toJS() ?? {};
  const embedded = isObject(document) && 'authServer' in document;
  const prefix = embedded ? ['authServer'] : [];
  const envProblems: EnvProblem[] = [];
  const raw = substituteEnv(embedded ? (document as Record<string, unknown>)['authServer'] ?? {} : document, env, prefix, envProblems);
  if (envProblems.length > 0) {
    throw new ConfigError(envProblems.map((p) => source.issue(p.path, `environment variable ${p.name} is not set`)));
  }
  const validate = configValidator(AuthServerSchema);
  if (!validate(raw)) {
    throw new ConfigError(
      usefulErrors(validate.errors ?? []).map((e) => source.issue([...prefix, ...pointerToPath(e.instancePath)], describeAjvError(e))),
    );
  }
  const config = raw as AuthServerConfig;
  const issues = checkAuthServerConfig(config).map((p) => source.issue([...prefix, ...p.path], p.message));
  if (issues.length > 0) throw new ConfigError(issues);
  return { file, dir: dirname(file), config: deepFreeze(config) };
}

export interface AuthServerProblem {
  path: (string | number)[];
  message: string;
}

/** Cross-field checks the schema cannot express; also for the gateway's embedded `authServer` section. */
export function checkAuthServerConfig(config: AuthServerConfig): AuthServerProblem[] {
  const problems: AuthServerProblem[] = [];
  if (config.issuer !== undefined) {
    const url = URL.canParse(config.issuer) ? new URL(config.issuer) : undefined;
    // RFC 8414 section 2: the issuer has no query or fragment; tokens carry it verbatim in `iss`.
    if (url === undefined || !/^https?:$/.test(url.protocol) || url.search !== '' || url.hash !== '' || config.issuer.includes('#')) {
      problems.push({ path: ['issuer'], message: 'must be an http(s) URL without query or fragment' });
    }
  }
  const resources = new Set<string>();
  config.resources.forEach((resource, i) => {
    if (resources.has(resource.indicator)) problems.push({ path: ['resources', i, 'indicator'], message: `duplicate resource "${resource.indicator}"` });
    resources.add(resource.indicator);
  });
  const ids = new Set<string>();
  config.clients.forEach((client, i) => {
    if (ids.has(client.clientId)) problems.push({ path: ['clients', i, 'clientId'], message: `duplicate client "${client.clientId}"` });
    ids.add(client.clientId);
    client.resources.forEach((indicator, j) => {
      if (!resources.has(indicator)) problems.push({ path: ['clients', i, 'resources', j], message: `unknown resource "${indicator}"` });
    });
  });
  if (config.keys.jwks !== undefined && config.keys.jwksFile !== undefined) {
    problems.push({ path: ['keys'], message: 'set either jwks or jwksFile, not both' });
  }
  return problems;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
