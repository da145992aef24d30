/** Refused when the queue is full: a fault (not a rejection), so failureMode decides (closed: 503). */
export class HashQueueFullError extends Error {
  readonly code = 'BASIC_HASH_QUEUE_FULL';
}

/**
 * Bounds concurrent scrypt computations so a flood of wrong passwords cannot take every libuv
 * threadpool thread (DNS, file I/O and zlib share it) nor `maxConcurrent` * 32 MiB of memory. Up to
 * `maxQueued` callers wait, first come first served; beyond that `run` fails at once.
 */
export class HashLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly maxConcurrent: number,
    readonly maxQueued: number,
  ) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxQueued) throw new HashQueueFullError('basic: too many password checks in progress');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter; `active` only drops when nobody waits.
      if (next !== undefined) next();
      else this.active -= 1;
    }
  }
}
