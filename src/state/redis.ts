import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { checkKey, checkTtl, isStateError, StateError } from './errors.js';
import type { MessageHandler, StateStore } from './types.js';

export interface RedisStateOptions {
  /** redis://[:password@]host:port[/db]: the server (standalone), a seed node (cluster), or the password and db (sentinel). */
  url: string;
  /** standalone (default), cluster (Redis Cluster, seeded from `url` and `nodes`), sentinel (the master named `sentinelName`, found through `sentinels`). */
  mode?: 'standalone' | 'cluster' | 'sentinel';
  /** More cluster seed nodes, host:port. */
  nodes?: readonly string[];
  /** Sentinels, host:port. */
  sentinels?: readonly string[];
  sentinelName?: string;
  /** Put in front of every key and channel, so several gateways (or test runs) share one Redis. */
  keyPrefix?: string;
  /** A command not answered within this rejects with STATE_UNAVAILABLE rather than holding a request. */
  commandTimeoutMs?: number;
  /** Shown in CLIENT LIST; lets operators (and tests) find these connections. */
  connectionName?: string;
  /** Told about connection errors; they never reach the process as unhandled 'error' events. */
  onError?: (err: Error) => void;
}

/**
 * INCR and the window's expiry in one atomic step: two separate commands could leave a counter with
 * no TTL if the connection dropped between them, and it would then count forever. PTTL < 0 repairs a
 * key that somehow lost its TTL.
 */
const INCR_WINDOW = `
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

/**
 * Cluster-wide state on Redis. Commands never queue while disconnected (enableOfflineQueue: false)
 * and are not retried (maxRetriesPerRequest: 0): a request waiting on an absent Redis would hold its
 * client, so it fails at once with STATE_UNAVAILABLE and the calling policy applies its failure mode.
 * Reconnection runs in the background with capped back-off. Pub/sub needs a connection of its own
 * (a subscribed connection can run nothing else); it is made on first subscribe and resubscribes by
 * itself after a reconnect.
 */
export class RedisStateStore implements StateStore {
  readonly backend = 'redis' as const;
  readonly keyPrefix: string;
  private readonly client: Redis | Cluster;
  private subscriber: Redis | Cluster | undefined;
  private readonly channels = new Map<string, Set<MessageHandler>>();
  private readonly onError: (err: Error) => void;
  private closed = false;

  constructor(options: RedisStateOptions) {
    this.keyPrefix = options.keyPrefix ?? 'portcullis:';
    this.onError = options.onError ?? (() => undefined);
    const redisOptions: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 1000,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
      ...(options.connectionName ? { connectionName: options.connectionName } : {}),
    };
    this.client = createClient(options, redisOptions);
    this.client.on('error', (err: Error) => this.onError(err));
    this.client.defineCommand('portcullisIncr', { numberOfKeys: 1, lua: INCR_WINDOW });
  }

  /** Resolves when connected, or false after `timeoutMs`; never rejects, so startup survives a Redis outage. */
  async ready(timeoutMs = 2000): Promise<boolean> {
    if (this.client.status === 'ready') return true;
    return new Promise((done) => {
      const timer = setTimeout(() => finish(false), timeoutMs);
      const onReady = () => finish(true);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        done(ok);
      };
      this.client.once('ready', onReady);
    });
  }

  /**
   * A Lua script defined once: each call is one EVALSHA (ioredis sends the body with EVAL only when
   * the server answers NOSCRIPT, after a restart say). Keys get the store's prefix; they must share a
   * hash tag in Redis Cluster. Rejects with StateError like every other call.
   */
  script(name: string, lua: string): (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown> {
    const client = this.client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    if (client[name] === undefined) this.client.defineCommand(name, { lua });
    return (keys, args) => {
      const prefixed = keys.map((k) => this.key(k));
      return this.run(() => client[name]!(prefixed.length, ...prefixed, ...args));
    };
  }

  async get(key: string): Promise<string | null> {
    return this.run(() => this.client.get(this.key(key)));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const k = this.key(key);
    const ttl = checkTtl(ttlMs);
    await this.run(() => this.client.set(k, value, 'PX', ttl));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const k = this.key(key);
    const ttl = checkTtl(ttlMs);
    // SET NX PX is one atomic command: of two workers seeing the same nonce, exactly one gets OK.
    return (await this.run(() => this.client.set(k, value, 'PX', ttl, 'NX'))) === 'OK';
  }

  async delete(key: string): Promise<boolean> {
    return (await this.run(() => this.client.del(this.key(key)))) > 0;
  }

  async incr(key: string, ttlMs: number): Promise<number> {
    const k = this.key(key);
    const ttl = checkTtl(ttlMs);
    const client = this.client as Redis & { portcullisIncr(key: string, ttl: number): Promise<number> };
    return this.run(() => client.portcullisIncr(k, ttl));
  }

  async publish(channel: string, message: string): Promise<void> {
    const c = this.channel(channel);
    await this.run(() => this.client.publish(c, message));
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    const c = this.channel(channel);
    const subscriber = this.subscriberConnection();
    let handlers = this.channels.get(c);
    if (!handlers) {
      this.channels.set(c, (handlers = new Set()));
      try {
        await subscriber.subscribe(c);
      } catch (err) {
        this.channels.delete(c);
        throw this.mapError(err);
      }
    }
    handlers.add(handler);
    return async () => {
      handlers.delete(handler);
      if (handlers.size > 0 || this.channels.get(c) !== handlers) return;
      this.channels.delete(c);
      await subscriber.unsubscribe(c).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    // disconnect(), not quit(): quit waits for an answer Redis may never send when it is down.
    this.client.disconnect();
    this.subscriber?.disconnect();
  }

  private subscriberConnection(): Redis | Cluster {
    if (this.closed) throw new StateError('STATE_INVALID', 'state store is closed');
    if (this.subscriber) return this.subscriber;
    // The offline queue is on here: a subscription made while Redis is away is sent once it is back.
    const sub =
      this.client instanceof Cluster
        ? this.client.duplicate(undefined, { enableOfflineQueue: true })
        : this.client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
    sub.on('error', (err: Error) => this.onError(err));
    sub.on('message', (channel: string, message: string) => {
      for (const handler of [...(this.channels.get(channel) ?? [])]) {
        try {
          handler(message);
        } catch {
          // One subscriber's bug must not stop delivery to the others, nor reach the connection.
        }
      }
    });
    this.subscriber = sub;
    return sub;
  }

  private key(key: string): string {
    return this.keyPrefix + checkKey(key);
  }

  private channel(channel: string): string {
    return this.keyPrefix + checkKey(channel, 'channel');
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StateError('STATE_INVALID', 'state store is closed');
    try {
      return await command();
    } catch (err) {
      throw this.mapError(err);
    }
  }

  /** Redis's own refusals (ERR, WRONGTYPE) are about the arguments; everything else means unreachable. */
  private mapError(err: unknown): StateError {
    if (isStateError(err)) return err;
    if (err instanceof Error && err.name === 'ReplyError') return new StateError('STATE_INVALID', 'redis refused the command', err);
    return new StateError('STATE_UNAVAILABLE', 'redis state store is unavailable', err);
  }
}

function hostPort(entry: string): { host: string; port: number } {
  const at = entry.lastIndexOf(':');
  return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) };
}

/**
 * Standalone, Cluster or Sentinel, from the same options. For Cluster the URL's password applies to
 * every node; for Sentinel the URL gives the master's password and db, the sentinels say where it is
 * (ioredis follows a failover by itself).
 */
function createClient(options: RedisStateOptions, redisOptions: RedisOptions): Redis | Cluster {
  if (options.mode === 'cluster') {
    const url = new URL(options.url);
    const seeds = [{ host: url.hostname, port: Number(url.port || 6379) }, ...(options.nodes ?? []).map(hostPort)];
    const password = url.password === '' ? undefined : decodeURIComponent(url.password);
    return new Cluster(seeds, {
      enableOfflineQueue: false,
      clusterRetryStrategy: (attempt) => Math.min(50 * attempt, 1000),
      redisOptions: { ...redisOptions, ...(password === undefined ? {} : { password }), ...(url.protocol === 'rediss:' ? { tls: {} } : {}) },
    });
  }
  if (options.mode === 'sentinel') {
    const url = new URL(options.url);
    return new Redis({
      ...redisOptions,
      sentinels: (options.sentinels ?? []).map(hostPort),
      name: options.sentinelName ?? 'mymaster',
      ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
      db: Number(url.pathname.slice(1) || 0),
    });
  }
  return new Redis(options.url, redisOptions);
}
