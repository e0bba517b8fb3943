import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SimulatedCpu } from './simulated-cpu';

/** From a fast in-memory lookup to a request stuck behind an injected latency fault. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The route label of requests no domain route matched: one series for every unknown path. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * One service instance's Prometheus metrics, on a registry of its own so several instances can share a test
 * process. opsbot's scraper reads these exact names and labels.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'service' | 'route' | 'method' | 'code'>;
  private readonly duration: Histogram<'service' | 'route'>;
  private readonly replays: Counter<'service' | 'route'>;

  constructor(
    private readonly service: string,
    replica: string,
    cpu: SimulatedCpu,
  ) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'Domain requests answered, by route template, method and status code.',
      labelNames: ['service', 'route', 'method', 'code'] as const,
      registers,
    });
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer a domain request, by route template.',
      labelNames: ['service', 'route'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.replays = new Counter({
      name: 'demo_idempotent_replays_total',
      help: 'POSTs answered from the idempotency store (a retry with a key already seen): no work was done again.',
      labelNames: ['service', 'route'] as const,
      registers,
    });
    new Gauge({
      name: 'demo_cpu_utilisation',
      help: 'Simulated CPU utilisation 0..1, driven by the request rate relative to capacity.',
      labelNames: ['service'] as const,
      registers,
      collect() {
        this.set({ service }, cpu.utilisation());
      },
    });
    new Gauge({
      name: 'demo_replica_info',
      help: 'Always 1; labels name the replica and its process.',
      labelNames: ['service', 'replica', 'pid'] as const,
      registers,
    }).set({ service, replica, pid: String(process.pid) }, 1);
  }

  observeReplay(route: string): void {
    this.replays.inc({ service: this.service, route });
  }

  observeRequest(route: string, method: string, code: number, seconds: number): void {
    this.requests.inc({ service: this.service, route, method, code: String(code) });
    this.duration.observe({ service: this.service, route }, seconds);
  }
}
