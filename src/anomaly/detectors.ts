/**
 * Anomaly detectors: each watches one kind of abuse per subject (`ip:<addr>` or `consumer:<id>`)
 * and, when it fires, says why in words an operator can act on. They keep bounded per-subject
 * state in memory (per process; bans, not counts, are shared) and take the time as an argument.
 */
export interface Observation {
  readonly status: number;
  /** The error code the gateway answered with, if any (a lockout's 429 is still an auth failure). */
  readonly code?: string | undefined;
  readonly route: string;
  readonly path: string;
  readonly now: number;
}

export interface Finding {
  readonly detector: string;
  readonly reason: string;
}

export interface Detector {
  readonly name: string;
  observe(subject: string, o: Observation): Finding | undefined;
}

/** Insertion-ordered map that forgets its oldest subjects beyond `max`: a flood of IPs costs bounded memory. */
class Subjects<S> {
  private readonly map = new Map<string, S>();
  constructor(private readonly max: number) {}
  get(key: string, make: () => S): S {
    let s = this.map.get(key);
    if (s === undefined) {
      if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
      s = make();
      this.map.set(key, s);
    }
    return s;
  }
}

interface Window {
  start: number;
  count: number;
  paths: Set<string>;
}

/** Counts matching responses in a fixed window; fires at the threshold and starts over. */
export class BurstDetector implements Detector {
  private readonly windows: Subjects<Window>;

  constructor(
    readonly name: string,
    private readonly matches: (status: number, code: string | undefined) => boolean,
    private readonly threshold: number,
    private readonly windowMs: number,
    private readonly label: string,
    maxSubjects = 100_000,
  ) {
    this.windows = new Subjects(maxSubjects);
  }

  observe(subject: string, o: Observation): Finding | undefined {
    if (!this.matches(o.status, o.code)) return undefined;
    const w = this.windows.get(subject, () => ({ start: o.now, count: 0, paths: new Set<string>() }));
    if (o.now - w.start >= this.windowMs) {
      w.start = o.now;
      w.count = 0;
      w.paths.clear();
    }
    w.count++;
    if (w.paths.size < 1000) w.paths.add(o.path);
    if (w.count < this.threshold) return undefined;
    const reason = `${w.count} ${this.label} responses on ${w.paths.size} distinct paths within ${Math.round((o.now - w.start) / 1000)}s (threshold ${this.threshold} per ${this.windowMs / 1000}s)`;
    w.count = 0;
    w.paths.clear();
    w.start = o.now;
    return { detector: this.name, reason };
  }
}

interface Run {
  last: number;
  first: number;
  length: number;
  at: number;
}

/** The last all-digit path segment: the object id of `/orders/123` or `/users/42/orders`. */
export function numericId(path: string): number | undefined {
  let end = path.length;
  while (end > 0) {
    const start = path.lastIndexOf('/', end - 1);
    const segment = path.slice(start + 1, end);
    if (segment.length > 0 && segment.length <= 15 && /^[0-9]+$/.test(segment)) return Number(segment);
    end = start;
  }
  return undefined;
}

/**
 * Sequential identifiers on one route (scraping, BOLA probing): consecutive requests whose ids
 * differ by 1..maxStep extend a run; anything else starts a new one. Fires when a run is long enough.
 */
export class EnumerationDetector implements Detector {
  readonly name = 'enumeration';
  private readonly runs: Subjects<Run>;

  constructor(
    private readonly threshold: number,
    private readonly windowMs: number,
    private readonly maxStep: number,
    maxSubjects = 100_000,
  ) {
    this.runs = new Subjects(maxSubjects);
  }

  observe(subject: string, o: Observation): Finding | undefined {
    const id = numericId(o.path);
    if (id === undefined) return undefined;
    const run = this.runs.get(`${subject} ${o.route}`, () => ({ last: id, first: id, length: 0, at: o.now }));
    const step = Math.abs(id - run.last);
    if (run.length > 0 && step >= 1 && step <= this.maxStep && o.now - run.at <= this.windowMs) {
      run.length++;
    } else {
      run.first = id;
      run.length = 1;
    }
    run.last = id;
    run.at = o.now;
    if (run.length < this.threshold) return undefined;
    const reason = `${run.length} sequential identifiers on route ${o.route} (${run.first}..${id}, step at most ${this.maxStep})`;
    run.length = 0;
    return { detector: this.name, reason };
  }
}

interface Baseline {
  bucketStart: number;
  count: number;
  mean: number;
  variance: number;
  buckets: number;
  fired: boolean;
}

/**
 * Request rate far above the subject's own baseline. Requests are counted per interval; each closed
 * interval updates an exponentially weighted mean and variance (Finch, "Incremental calculation of
 * weighted mean and variance", 2009: diff = x - mean; mean += a*diff; var = (1-a)*(var + a*diff^2)).
 * It fires once per interval when the running count exceeds mean + k*sd, factor*mean and
 * minRequests, after `warmup` intervals of history: a fixed threshold alone would flag busy clients.
 */
export class RateDetector implements Detector {
  readonly name = 'rate';
  private readonly subjects: Subjects<Baseline>;

  constructor(
    private readonly intervalMs: number,
    private readonly alpha: number,
    private readonly deviations: number,
    private readonly factor: number,
    private readonly minRequests: number,
    private readonly warmup: number,
    maxSubjects = 100_000,
  ) {
    this.subjects = new Subjects(maxSubjects);
  }

  observe(subject: string, o: Observation): Finding | undefined {
    const b = this.subjects.get(subject, () => ({ bucketStart: o.now, count: 0, mean: 0, variance: 0, buckets: 0, fired: false }));
    // Close the finished interval, and up to ten empty ones after it (quiet time lowers the baseline).
    for (let i = 0; o.now - b.bucketStart >= this.intervalMs && i < 10; i++) {
      this.fold(b, b.count);
      b.count = 0;
      b.fired = false;
      b.bucketStart += this.intervalMs;
    }
    if (o.now - b.bucketStart >= this.intervalMs) b.bucketStart = o.now;
    b.count++;
    if (b.fired || b.buckets < this.warmup || b.count < this.minRequests) return undefined;
    const sd = Math.sqrt(b.variance);
    if (b.count <= b.mean * this.factor || b.count <= b.mean + this.deviations * sd) return undefined;
    b.fired = true;
    return {
      detector: this.name,
      reason: `${b.count} requests in ${this.intervalMs / 1000}s against a baseline of ${b.mean.toFixed(1)} ± ${sd.toFixed(1)} per interval (EWMA alpha ${this.alpha}, over ${this.deviations} sd and ${this.factor}x)`,
    };
  }

  private fold(b: Baseline, x: number): void {
    if (b.buckets === 0) {
      b.mean = x;
      b.variance = 0;
    } else {
      const diff = x - b.mean;
      b.mean += this.alpha * diff;
      b.variance = (1 - this.alpha) * (b.variance + this.alpha * diff * diff);
    }
    b.buckets++;
  }
}
