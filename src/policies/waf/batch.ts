/**
 * Jobs queued during one turn of the event loop, run back to back in its check phase
 * (setImmediate), first queued first run.
 *
 * Why: in a loaded gateway the WAF engine cost 2.5-3x what the same request costs in a loop
 * (docs/waf.md, the twelfth pass). Between two requests the HTTP work evicts the engine's code and
 * data from the CPU caches: under callgrind's cache simulation, with a 1 MB second-level cache
 * emptied between requests, the bench's GET missed it ~3,300 times for code and ~3,200 times for
 * data, where a warm run misses it almost never. Node's poll phase handles every socket that is
 * ready before the check phase runs, so under load the requests of one turn (about 10 at 50
 * connections on the bench) are evaluated one after the other, and all but the first find the
 * engine's code and data still cached. Vector packet processors (VPP) push packets through each
 * graph node in batches for the same reason. A job alone (a quiet gateway) waits for the check
 * phase of its own turn: no timer, no added latency beyond that turn.
 */
export class TurnBatch {
  private queue: Job[] = [];
  private scheduled = false;

  /** Runs `job` with the other jobs of this turn; resolves with what it returns, rejects with what it throws. */
  run<T>(job: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ job, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  /** Jobs waiting for the next check phase. */
  get pending(): number {
    return this.queue.length;
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const jobs = this.queue;
    // A job that queues another (none does today) starts the next batch instead of growing this one.
    this.queue = [];
    for (const { job, resolve, reject } of jobs) {
      try {
        resolve(job());
      } catch (error) {
        reject(error);
      }
    }
  };
}

/** Runs a job now (returning what it returns), or in a TurnBatch (a promise of it). */
export type InTurn = <T>(job: () => T) => T | Promise<T>;

interface Job {
  readonly job: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}
