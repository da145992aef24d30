import { randomBytes } from 'node:crypto';
import { errors, type AdapterFactory, type ClientMetadata, type Configuration, type ResourceServer } from 'oidc-provider';
import { parseDuration } from '../config/units.js';
import type { SigningKeys } from './keys.js';
import type { AuthServerConfig, AuthServerResource } from './schema.js';

const seconds = (value: string | number): number => Math.max(1, Math.ceil(parseDuration(value) / 1000));

/**
 * Every scope the server knows. oidc-provider checks a requested scope against the client's
 * allow list only when the scope is "known" here, and silently drops unknown ones when no
 * resource is requested (RFC 6749 section 3.3 lets the server grant less than asked), so each
 * client's and each resource's scopes must be listed, or a resource scope would skip the client check.
 */
function knownScopes(config: AuthServerConfig): string[] {
  const all = new Set(config.scopes);
  for (const client of config.clients) for (const scope of client.scopes) all.add(scope);
  for (const resource of config.resources) for (const scope of resource.scopes) all.add(scope);
  return [...all];
}

function clientMetadata(config: AuthServerConfig, keys: SigningKeys): ClientMetadata[] {
  return config.clients.map((client) => ({
    client_id: client.clientId,
    client_secret: client.clientSecret,
    grant_types: [...client.grantTypes],
    response_types: [],
    redirect_uris: [],
    // RFC 6749 section 2.3.1: Basic is the method every server supports; oidc-provider accepts
    // client_secret_post for the same client too.
    token_endpoint_auth_method: 'client_secret_basic',
    ...(client.scopes.length > 0 ? { scope: client.scopes.join(' ') } : {}),
    // RFC 9701 section 4: signed introspection responses for the clients allowed to introspect.
    ...(client.introspection ? { introspection_signed_response_alg: keys.alg as 'RS256' } : {}),
  }));
}

function resourceServerInfo(resource: AuthServerResource, config: AuthServerConfig, keys: SigningKeys): ResourceServer {
  return {
    scope: resource.scopes.join(' '),
    audience: resource.audience ?? resource.indicator,
    accessTokenTTL: seconds(resource.accessTokenTTL ?? config.tokens.accessTokenTTL),
    // RFC 9068: JWT access tokens the resource server verifies with the JWKS; opaque otherwise.
    accessTokenFormat: resource.accessTokenFormat,
    ...(resource.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: keys.alg as 'RS256' } } } : {}),
  };
}

export interface ProviderSetup {
  config: AuthServerConfig;
  keys: SigningKeys;
  adapter: AdapterFactory;
}

/** The oidc-provider configuration: client credentials only, no end-user interaction. */
export function buildProviderConfiguration({ config, keys, adapter }: ProviderSetup): Configuration {
  const introspectors = new Set(config.clients.filter((c) => c.introspection).map((c) => c.clientId));
  const allowedScopes = new Map(config.clients.map((c) => [c.clientId, new Set(c.scopes)]));
  const allowedResources = new Map(config.clients.map((c) => [c.clientId, new Set(c.resources)]));
  const resources = new Map(config.resources.map((r) => [r.indicator, r]));
  const defaultTTL = seconds(config.tokens.accessTokenTTL);

  return {
    adapter,
    clients: clientMetadata(config, keys),
    jwks: { keys: keys.keys.map((k) => ({ ...k })) } as Configuration['jwks'],
    scopes: knownScopes(config),
    // No end-user flows: only `none`, so discovery advertises client_credentials and no
    // authorization_code or implicit grant (RFC 8414 section 2, grant_types_supported).
    responseTypes: ['none'],
    // Cookies are never used (no interactive flow); keys still set so oidc-provider does not warn.
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // Defaults follow the first key, or a client would default to an algorithm no key can sign.
    clientDefaults: { id_token_signed_response_alg: keys.alg as 'RS256', introspection_signed_response_alg: keys.alg as 'RS256' },
    enabledJWA: {
      idTokenSigningAlgValues: keys.algs as 'RS256'[],
      introspectionSigningAlgValues: keys.algs as 'RS256'[],
    },
    ttl: {
      // RFC 6749 section 4.4.3: the token's lifetime; a resource may set its own.
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? defaultTTL,
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: {
        enabled: true,
        // RFC 7662 section 2.1 leaves who may introspect to the server: only the configured
        // introspecting clients (the gateway). Everyone else is told `active: false`
        // (section 2.2), which reveals nothing about the token.
        allowedPolicy: (_ctx, client) => introspectors.has(client.clientId),
      },
      jwtIntrospection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // RFC 8707 section 2: an unknown resource, or one the client may not use, is invalid_target.
        getResourceServerInfo: (_ctx, indicator, client) => {
          const resource = resources.get(indicator);
          if (resource === undefined || allowedResources.get(client.clientId)?.has(indicator) !== true) {
            throw new errors.InvalidTarget();
          }
          return resourceServerInfo(resource, config, keys);
        },
      },
    },
    // Runs as every access token is minted, opaque or JWT: the one authoritative check that the
    // scope granted is within the client's allow list, including clients that have no scopes.
    extraTokenClaims: (_ctx, token) => {
      const allowed = allowedScopes.get(token.clientId ?? '') ?? new Set<string>();
      for (const scope of (token.scope ?? '').split(' ')) {
        // RFC 6749 section 5.2: invalid_scope.
        if (scope !== '' && !allowed.has(scope)) throw new errors.InvalidScope('requested scope is not allowed', scope);
      }
      return undefined;
    },
  };
}
