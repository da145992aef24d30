import type { TSchema } from '@sinclair/typebox';
import type { PolicyDeps } from '../core/policy.js';
import type { Authenticator } from './authenticator.js';
import { createJwtAuthenticator, JwtMethodSchema, type JwtMethodConfig } from './jwt/index.js';
import { createIntrospectionAuthenticator, IntrospectionMethodSchema, type IntrospectionMethodConfig } from './introspection/index.js';
import { createHttpSignatureAuthenticator, HttpSignatureMethodSchema, type HttpSignatureMethodConfig } from './http-signature/index.js';
import { ApiKeyMethodSchema, createApiKeyAuthenticator, type ApiKeyMethodConfig } from './api-key/index.js';
import { BasicMethodSchema, createBasicAuthenticator, type BasicMethodConfig } from './basic/index.js';
import { createMtlsAuthenticator, MtlsMethodSchema, type MtlsMethodConfig } from './mtls/index.js';

/** One kind of authentication method: its config schema and how to build it for a route. */
export interface AuthenticatorFactory<Config = any> {
  readonly type: string;
  readonly schema: TSchema;
  /** Runs at load with validated, defaulted config; must not do I/O (see docs/architecture.md). */
  create(config: Config, deps: PolicyDeps): Authenticator;
}

export type AuthenticatorRegistry = ReadonlyMap<string, AuthenticatorFactory>;

const jwt: AuthenticatorFactory<JwtMethodConfig> = {
  type: 'jwt',
  schema: JwtMethodSchema,
  create: (config, deps) => createJwtAuthenticator(config, deps),
};

const apiKey: AuthenticatorFactory<ApiKeyMethodConfig> = {
  type: 'api-key',
  schema: ApiKeyMethodSchema,
  create: (config, deps) => createApiKeyAuthenticator(config, deps),
};

const introspection: AuthenticatorFactory<IntrospectionMethodConfig> = {
  type: 'introspection',
  schema: IntrospectionMethodSchema,
  create: (config, deps) => createIntrospectionAuthenticator(config, deps),
};

const basic: AuthenticatorFactory<BasicMethodConfig> = {
  type: 'basic',
  schema: BasicMethodSchema,
  create: (config, deps) => createBasicAuthenticator(config, deps),
};

const httpSignature: AuthenticatorFactory<HttpSignatureMethodConfig> = {
  type: 'http-signature',
  schema: HttpSignatureMethodSchema,
  create: (config, deps) => createHttpSignatureAuthenticator(config, deps),
};

const mtls: AuthenticatorFactory<MtlsMethodConfig> = {
  type: 'mtls',
  schema: MtlsMethodSchema,
  create: (config, deps) => createMtlsAuthenticator(config, deps),
};

/** Every built-in authentication method, listed explicitly. */
export const BUILTIN_AUTHENTICATORS: readonly AuthenticatorFactory[] = [jwt, apiKey, introspection, basic, httpSignature, mtls];

export function authenticatorRegistry(factories: readonly AuthenticatorFactory[] = BUILTIN_AUTHENTICATORS): AuthenticatorRegistry {
  return new Map(factories.map((f) => [f.type, f]));
}
