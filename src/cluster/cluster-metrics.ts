import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import type { AdminSources } from '../admin/admin-server.js';

/**
 * The primary's /metrics: every worker's registry summed by prom-client's AggregatorRegistry
 * (counters and histograms add up; each worker registers its registry with `setRegistries`), then
 * the primary's own cluster metrics.
 */
export class ClusterMetrics {
  private readonly aggregator = new AggregatorRegistry();
  private readonly own = new Registry();
  readonly restarts: Counter;

  constructor(workers: () => { desired: number; listening: number }) {
    const registers = [this.own];
    this.restarts = new Counter({
      name: 'portcullis_cluster_worker_restarts_total',
      help: 'Workers restarted after exiting unexpectedly',
      registers,
    });
    new Gauge({
      name: 'portcullis_cluster_workers',
      help: 'Worker processes, by state (desired, listening)',
      labelNames: ['state'],
      registers,
      collect() {
        const { desired, listening } = workers();
        this.labels('desired').set(desired);
        this.labels('listening').set(listening);
      },
    });
  }

  /**
   * `answering` resolves once every worker can answer: prom-client asks every connected worker and
   * waits (5 s, then fails) for one that dropped the question because it was still starting.
   */
  source(answering: () => Promise<void>): AdminSources['metrics'] {
    return async () => {
      await answering();
      const [workers, own] = await Promise.all([this.aggregator.clusterMetrics(), this.own.metrics()]);
      return { contentType: this.aggregator.contentType, body: workers + own };
    };
  }
}
