import { existsSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { resolve } from 'node:path';
import { checkClientCertificates } from '../proxy/client-certificates.js';
import pino from 'pino';
import type { ConfigIssue } from './config-error.js';
import type { GatewayConfig, UpstreamConfig } from './schema.js';
import { parseDuration } from './units.js';
import type { ConfigSource } from './source.js';

/** Adds an address or CIDR to a BlockList; throws on anything net.BlockList would not take. */
export function addCidr(list: BlockList, cidr: string): void {
  const slash = cidr.indexOf('/');
  const address = slash === -1 ? cidr : cidr.slice(0, slash);
  const family = isIP(address);
  if (family === 0) throw new Error(`"${cidr}" is not an IP address or CIDR block`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (slash === -1) {
    list.addAddress(address, type);
    return;
  }
  const prefixText = cidr.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^[0-9]{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) throw new Error(`"${cidr}" has an invalid prefix length`);
  list.addSubnet(address, prefix, type);
}

/** Checks the schema cannot express: references between sections, files, addresses, uniqueness. */
export function checkSemantics(config: GatewayConfig, source: ConfigSource, dir: string, issues: ConfigIssue[]): void {
  const names = new Set<string>();
  config.routes.forEach((route, i) => {
    if (names.has(route.name)) issues.push(source.issue(['routes', i, 'name'], `duplicate route name "${route.name}"`));
    names.add(route.name);
    if (config.upstreams[route.forward.upstream] === undefined) {
      issues.push(source.issue(['routes', i, 'forward', 'upstream'], `unknown upstream "${route.forward.upstream}"`));
    }
  });
  config.server.trustedProxies.forEach((cidr, i) => {
    try {
      addCidr(new BlockList(), cidr);
    } catch (error) {
      issues.push(source.issue(['server', 'trustedProxies', i], (error as Error).message));
    }
  });
  checkAudit(config, source, dir, issues);
  checkLogging(config, source, names, issues);
  const ports = new Set<string>();
  config.server.listeners.forEach((listener, i) => {
    const key = `${listener.host}:${listener.port}`;
    if (listener.port !== 0 && ports.has(key)) issues.push(source.issue(['server', 'listeners', i, 'port'], `${key} is used twice`));
    ports.add(key);
    if (listener.tls !== undefined) {
      for (const field of ['cert', 'key'] as const) {
        if (!existsSync(resolve(dir, listener.tls[field]))) {
          issues.push(source.issue(['server', 'listeners', i, 'tls', field], `file not found: ${listener.tls[field]}`));
        }
      }
      for (const [field, message] of checkClientCertificates(listener.tls.clientCertificates, dir)) {
        issues.push(source.issue(['server', 'listeners', i, 'tls', 'clientCertificates', field], message));
      }
    }
  });
  for (const [name, upstream] of Object.entries(config.upstreams)) {
    upstream.targets.forEach((target, i) => {
      try {
        new URL(target.url);
      } catch {
        issues.push(source.issue(['upstreams', name, 'targets', i, 'url'], `invalid URL "${target.url}"`));
      }
    });
    checkCircuitBreaker(upstream, ['upstreams', name, 'circuitBreaker'], source, issues);
    for (const field of ['ca', 'cert', 'key'] as const) {
      const file = upstream.tls?.[field];
      if (file !== undefined && !existsSync(resolve(dir, file))) {
        issues.push(source.issue(['upstreams', name, 'tls', field], `file not found: ${file}`));
      }
    }
  }
}

/** A breaker that can never open, or whose cool-down cap is below its first cool-down, is a mistake. */
function checkCircuitBreaker(upstream: UpstreamConfig, path: (string | number)[], source: ConfigSource, issues: ConfigIssue[]): void {
  const breaker = upstream.circuitBreaker;
  if (breaker === undefined) return;
  if (breaker.consecutiveFailures === 0 && breaker.failureRatio === 0) {
    issues.push(source.issue(path, 'consecutiveFailures and failureRatio are both 0: the circuit could never open'));
  }
  if (breaker.failureRatio > 0 && parseDuration(breaker.window) === 0) {
    issues.push(source.issue([...path, 'window'], 'window must be longer than 0 when failureRatio is set'));
  }
  if (parseDuration(breaker.maxOpenFor) < parseDuration(breaker.openFor)) {
    issues.push(source.issue([...path, 'maxOpenFor'], `maxOpenFor (${breaker.maxOpenFor}) is shorter than openFor (${breaker.openFor})`));
  }
}

/** The audit log cannot run unsigned: a missing key is refused at load, not at the first checkpoint. */
function checkAudit(config: GatewayConfig, source: ConfigSource, dir: string, issues: ConfigIssue[]): void {
  const audit = config.audit;
  if (audit === undefined || !audit.enabled) return;
  const key = audit.signing.privateKey;
  if (key === '') issues.push(source.issue(['audit', 'signing', 'privateKey'], 'required when audit.enabled is true (an Ed25519 private key, PEM)'));
  else if (!existsSync(resolve(dir, key))) issues.push(source.issue(['audit', 'signing', 'privateKey'], `file not found: ${key}`));
}

/** Sampling names routes that exist; redact paths compile (pino would throw at start otherwise). */
function checkLogging(config: GatewayConfig, source: ConfigSource, routes: ReadonlySet<string>, issues: ConfigIssue[]): void {
  for (const name of Object.keys(config.logging.sampling.routes)) {
    if (!routes.has(name)) issues.push(source.issue(['logging', 'sampling', 'routes', name], `unknown route "${name}"`));
  }
  config.logging.redact.forEach((path, i) => {
    try {
      pino({ level: 'silent', redact: [path] });
    } catch (error) {
      issues.push(source.issue(['logging', 'redact', i], `not a valid redact path: ${(error as Error).message}`));
    }
  });
}
