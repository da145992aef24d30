import type { PolicyDeps } from '../../core/policy.js';
import { TtlLru } from '../../core/ttl-lru.js';
import type { StateStore } from '../../state/types.js';
import type { AuthenticateConfig } from './schema.js';

type LockoutConfig = AuthenticateConfig['lockout'];

/** Which source is locked, until when (ms since the epoch), at which consecutive level. */
export interface Lock {
  readonly source: string;
  readonly until: number;
  readonly level: number;
}

type Dimension = 'ip' | 'cred';

/** Keys are shared by every route, so an attacker gains no budget by spreading over routes. */
const PREFIX = 'portcullis:authn';
const failKey = (d: Dimension, id: string) => `${PREFIX}:fail:${d}:${id}`;
const lockKey = (d: Dimension, id: string) => `${PREFIX}:lock:${d}:${id}`;
const levelKey = (d: Dimension, id: string) => `${PREFIX}:level:${d}:${id}`;
const describe = (d: Dimension, id: string) => (d === 'ip' ? `client IP ${id}` : `credential ${id}`);

/** Long ids (a token hash, say) are cut so keys stay far below the StateStore's 1024 characters. */
const clip = (id: string) => (id.length > 256 ? id.slice(0, 256) : id);

/**
 * Brute-force bookkeeping for one route's authenticate policy. Every StateStore call fails OPEN:
 * a fault is counted (`portcullis_policy_faults_total{policy="authenticate"}`), logged (at most
 * once per 10 s) and treated as "not locked, nothing counted". Authentication itself is unaffected.
 */
export class Lockout {
  private lastFaultLog = -Infinity;
  /**
   * Credentials this process counted a failure for within their window: only those need the reset
   * write on success, which would otherwise cost every authenticated request a StateStore write
   * (a Redis round trip). Bounded, so a flood of invented key ids cannot grow it.
   */
  private readonly counted: TtlLru<true>;
  /** The StateStore once `deps.state()` has opened it: lets `lock` answer synchronously. */
  private resolved: StateStore | undefined;

  constructor(
    private readonly config: LockoutConfig,
    private readonly deps: PolicyDeps,
  ) {
    this.counted = new TtlLru(10_000, config.perCredential.windowSeconds * 1000);
  }

  get enabled(): boolean {
    return this.config.enabled;
  }

  get countMissing(): boolean {
    return this.config.countMissing;
  }

  /**
   * The lock on this client IP, checked before any method runs. Synchronous when the StateStore can
   * answer synchronously (memory), so an authenticated request on a memory-backed gateway never
   * turns asynchronous for the lockout; a promise otherwise.
   */
  lockedIp(ip: string): Lock | undefined | Promise<Lock | undefined> {
    return ip === '' ? undefined : this.lock('ip', ip);
  }

  /** The lock on this credential, checked as soon as a method has named it; synchronous as above. */
  lockedCredential(credentialId: string): Lock | undefined | Promise<Lock | undefined> {
    return this.lock('cred', clip(credentialId));
  }

  private lock(d: Dimension, id: string): Lock | undefined | Promise<Lock | undefined> {
    const state = this.resolved;
    if (state?.getNow !== undefined) {
      try {
        return this.parse(state.getNow(lockKey(d, id)), d, id);
      } catch {
        // The asynchronous path below meets the same fault and handles it (counted, fail open).
      }
    }
    return this.safe(undefined, (s) => this.current(s, d, id));
  }

  /** Counts one failure; returns a lock this failure triggered (or the credential's standing lock). */
  async failure(ip: string, credentialId: string | undefined): Promise<Lock | undefined> {
    let lock: Lock | undefined;
    if (ip !== '') lock = await this.safe(undefined, (s) => this.bump(s, 'ip', ip, this.config.perIp));
    if (credentialId !== undefined) {
      const id = clip(credentialId);
      this.counted.set(id, true, this.deps.now());
      const cred = await this.safe(undefined, async (s) => (await this.current(s, 'cred', id)) ?? this.bump(s, 'cred', id, this.config.perCredential));
      if (cred !== undefined && (lock === undefined || cred.until > lock.until)) lock = cred;
    }
    return lock;
  }

  /** A success resets the credential's own counter (when this process counted one), never the client IP's. */
  success(credentialId: string): void | Promise<void> {
    const id = clip(credentialId);
    if (this.counted.get(id, this.deps.now()) === undefined) return;
    this.counted.delete(id);
    return this.safe(undefined, async (s) => void (await s.delete(failKey('cred', id))));
  }

  private async current(state: StateStore, d: Dimension, id: string): Promise<Lock | undefined> {
    return this.parse(await state.get(lockKey(d, id)), d, id);
  }

  private parse(value: string | null, d: Dimension, id: string): Lock | undefined {
    if (value === null) return undefined;
    const [until, level] = value.split(':').map(Number);
    return { source: describe(d, id), until: until ?? 0, level: level ?? 1 };
  }

  private async bump(state: StateStore, d: Dimension, id: string, limit: LockoutConfig['perIp']): Promise<Lock | undefined> {
    const count = await state.incr(failKey(d, id), limit.windowSeconds * 1000);
    if (count < limit.threshold) return undefined;
    const { baseSeconds, maxSeconds, decaySeconds } = this.config;
    const level = Number((await state.get(levelKey(d, id))) ?? 0) + 1;
    const seconds = Math.min(maxSeconds, baseSeconds * 2 ** Math.min(level - 1, 30));
    const until = this.deps.now() + seconds * 1000;
    await state.set(levelKey(d, id), String(level), Math.max(decaySeconds, seconds) * 1000);
    await state.set(lockKey(d, id), `${until}:${level}`, seconds * 1000);
    // A fresh budget once the lock ends; the next lockout is twice as long.
    await state.delete(failKey(d, id));
    const lock = { source: describe(d, id), until, level };
    this.deps.logger.warn({ route: this.deps.routeName, source: lock.source, failures: count, level, seconds }, 'authenticate: lockout');
    return lock;
  }

  private async safe<T>(fallback: T, fn: (state: StateStore) => Promise<T>): Promise<T> {
    try {
      this.resolved ??= await this.deps.state();
      return await fn(this.resolved);
    } catch (err) {
      this.deps.metrics.policyFault('authenticate');
      const now = Date.now();
      if (now - this.lastFaultLog >= 10_000) {
        this.lastFaultLog = now;
        this.deps.logger.warn({ err, route: this.deps.routeName }, 'authenticate: lockout state unavailable, failing open (not counted, not locked)');
      }
      return fallback;
    }
  }
}
