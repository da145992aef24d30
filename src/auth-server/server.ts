import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type AdapterFactory } from 'oidc-provider';
import type { Logger } from 'pino';
import { silentLogger } from '../observability/logger.js';
import { loadSigningKeys } from './keys.js';
import { buildProviderConfiguration } from './provider-config.js';
import type { AuthServerConfig } from './schema.js';
import { openTokenState } from './token-state.js';
import type { Store } from '../storage/types.js';

export interface StartAuthServerOptions {
  /** Folder relative paths in the config (`keys.jwksFile`) resolve against; the working directory by default. */
  dir?: string;
  logger?: Logger;
  /** Token state as it is (tests, embedders); by default the one `storage` configures. */
  adapter?: AdapterFactory;
  /** Keep token state in this Store instead of opening the configured one; the caller closes it. */
  store?: Store;
  /** Milliseconds since the epoch, for the token state's expiry; injectable so tests control time. */
  now?: () => number;
}

export interface RunningAuthServer {
  /** Where the server listens, such as http://127.0.0.1:9000 */
  readonly url: string;
  /** The issuer identifier: `iss` of its tokens, base of its endpoints. */
  readonly issuer: string;
  close(): Promise<void>;
}

const OIDC_DISCOVERY = '/.well-known/openid-configuration';
// RFC 8414 section 3: OAuth metadata lives here; the document is the same one.
const OAUTH_METADATA = '/.well-known/oauth-authorization-server';

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

async function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      done();
    });
  });
  return server.address() as AddressInfo;
}

/**
 * Starts the bundled OAuth 2.0 server (client credentials grant, RFC 6749 section 4.4). The
 * gateway never issues tokens itself; this is the default issuer so a fresh setup works offline.
 */
export async function startAuthServer(config: AuthServerConfig, options: StartAuthServerOptions = {}): Promise<RunningAuthServer> {
  const logger = options.logger ?? silentLogger();
  const keys = await loadSigningKeys(config.keys, options.dir ?? process.cwd());
  if (keys.ephemeral) {
    logger.warn(
      { component: 'auth-server' },
      'no signing keys configured (keys.jwks or keys.jwksFile): generated an ephemeral key; JWT access tokens and JWT introspection responses will not verify after a restart',
    );
  }

  const state = await openTokenState(config, {
    dir: options.dir ?? process.cwd(),
    logger,
    adapter: options.adapter,
    store: options.store,
    ...(options.now ? { now: options.now } : {}),
  });
  const server = createServer();
  let address: AddressInfo;
  try {
    address = await listen(server, config.listen.host, config.listen.port);
  } catch (error) {
    await state.close();
    throw error;
  }
  const url = `http://${hostForUrl(address.address)}:${address.port}`;
  const issuer = config.issuer ?? `http://${hostForUrl(config.listen.host)}:${address.port}`;

  let provider: Provider;
  try {
    provider = new Provider(issuer, buildProviderConfiguration({ config, keys, adapter: state.adapter }));
  } catch (error) {
    server.close();
    await state.close();
    throw error;
  }
  provider.proxy = config.trustProxy;
  provider.on('server_error', (_ctx: unknown, error: Error) => logger.error({ component: 'auth-server', err: error }, 'auth server error'));
  // Refusals are precise in the log, vague to the client only where oidc-provider keeps them so.
  provider.on('grant.error', (_ctx: unknown, error: Error & { error_description?: string }) =>
    logger.info({ component: 'auth-server', reason: error.message, detail: error.error_description }, 'token request refused'),
  );

  const handle = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === OAUTH_METADATA || req.url?.startsWith(`${OAUTH_METADATA}?`)) {
      req.url = OIDC_DISCOVERY + req.url.slice(OAUTH_METADATA.length);
    }
    void handle(req, res);
  });
  logger.info(
    { component: 'auth-server', url, issuer, clients: config.clients.length, resources: config.resources.length, storage: state.kind },
    'auth server listening',
  );

  return {
    url,
    issuer,
    close: async () => {
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
      await state.close();
    },
  };
}
