import type { Logger } from 'pino';
import type { StateStore } from '../state/types.js';

export const BANS_CHANNEL = 'portcullis:bans';
const INDEX_KEY = 'bans:index';
const banKey = (subject: string) => `ban:${subject}`;
const strikesKey = (subject: string) => `ban-strikes:${subject}`;

export interface Ban {
  /** `ip:<address>` */
  readonly subject: string;
  readonly detector: string;
  readonly reason: string;
  readonly since: number;
  readonly until: number;
  /** How many times this subject has been banned within the strike memory (the period grows with it). */
  readonly strike: number;
}

export interface BanPeriods {
  readonly initialMs: number;
  readonly multiplier: number;
  readonly maxMs: number;
  /** How long earlier bans still count as strikes. */
  readonly memoryMs: number;
}

type BanMessage = { op: 'ban'; ban: Ban } | { op: 'lift'; subject: string };

/** Growing periods: initial, initial*m, initial*m^2 ... up to max. */
export function banPeriod(periods: BanPeriods, strike: number): number {
  return Math.min(periods.maxMs, Math.round(periods.initialMs * periods.multiplier ** Math.max(0, strike - 1)));
}

/**
 * Bans shared by every gateway process through the StateStore: `ban:<subject>` (expires with the
 * ban) is the truth, `bans:index` lists them for `portcullis bans list`, and a message on
 * `portcullis:bans` tells every process at once. The request path only reads a local map, kept
 * current by those messages and by re-reading the index every `refreshMs` (a message missed
 * while Redis was unreachable is caught up then), so checking a ban never waits for Redis.
 */
export class BanList {
  private readonly local = new Map<string, Ban>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly state: () => Promise<StateStore>,
    private readonly periods: BanPeriods,
    private readonly now: () => number,
    private readonly logger?: Logger,
  ) {}

  /** Subscribes and loads the current bans; safe to call once per process. */
  async start(refreshMs: number): Promise<void> {
    const state = await this.state();
    this.unsubscribe = await state.subscribe(BANS_CHANNEL, (message) => this.apply(message));
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch((err: unknown) => this.logger?.warn({ err }, 'ban list refresh failed')), refreshMs);
    this.timer.unref();
  }

  /** The live ban on this subject, from the local map: no I/O. */
  active(subject: string): Ban | undefined {
    const ban = this.local.get(subject);
    if (ban === undefined) return undefined;
    if (ban.until > this.now()) return ban;
    this.local.delete(subject);
    return undefined;
  }

  async ban(subject: string, detector: string, reason: string): Promise<Ban> {
    const since = this.now();
    // In force in this process at once, before the StateStore answers; the period is fixed below.
    this.local.set(subject, { subject, detector, reason, since, until: since + this.periods.initialMs, strike: 1 });
    const state = await this.state();
    const strike = await state.incr(strikesKey(subject), this.periods.memoryMs);
    const ban: Ban = { subject, detector, reason, since, until: since + banPeriod(this.periods, strike), strike };
    await state.set(banKey(subject), JSON.stringify(ban), ban.until - since);
    this.local.set(subject, ban);
    await this.updateIndex(state, (index) => (index[subject] = ban.until));
    await state.publish(BANS_CHANNEL, JSON.stringify({ op: 'ban', ban } satisfies BanMessage));
    return ban;
  }

  /** True when there was a live ban. Strikes are kept: a lifted subject that offends again waits longer. */
  async lift(subject: string): Promise<boolean> {
    const state = await this.state();
    const removed = await state.delete(banKey(subject));
    this.local.delete(subject);
    await this.updateIndex(state, (index) => delete index[subject]);
    await state.publish(BANS_CHANNEL, JSON.stringify({ op: 'lift', subject } satisfies BanMessage));
    return removed;
  }

  /** Every live ban, read from the StateStore (not the local map). */
  async list(): Promise<Ban[]> {
    const state = await this.state();
    const index = await this.readIndex(state);
    const out: Ban[] = [];
    for (const subject of Object.keys(index)) {
      const raw = await state.get(banKey(subject));
      if (raw !== null) out.push(JSON.parse(raw) as Ban);
    }
    return out.sort((a, b) => a.since - b.since);
  }

  async refresh(): Promise<void> {
    const bans = await this.list();
    this.local.clear();
    for (const ban of bans) this.local.set(ban.subject, ban);
  }

  private apply(message: string): void {
    try {
      const m = JSON.parse(message) as BanMessage;
      if (m.op === 'ban') this.local.set(m.ban.subject, m.ban);
      else this.local.delete(m.subject);
    } catch {
      // not ours
    }
  }

  private async readIndex(state: StateStore): Promise<Record<string, number>> {
    const raw = await state.get(INDEX_KEY);
    const index = raw === null ? {} : (JSON.parse(raw) as Record<string, number>);
    const now = this.now();
    for (const [subject, until] of Object.entries(index)) if (until <= now) delete index[subject];
    return index;
  }

  /**
   * Read-modify-write of the index. Two processes banning at the same instant may drop one entry
   * from the index; the ban itself (its own key and the broadcast) is unaffected, and only listing
   * and the periodic catch-up read the index.
   */
  private async updateIndex(state: StateStore, change: (index: Record<string, number>) => void): Promise<void> {
    const index = await this.readIndex(state);
    change(index);
    const longest = Math.max(1000, ...Object.values(index).map((until) => until - this.now()));
    await state.set(INDEX_KEY, JSON.stringify(index), longest);
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.unsubscribe?.().catch(() => undefined);
  }
}
