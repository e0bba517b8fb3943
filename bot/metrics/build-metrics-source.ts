import { PrometheusMetricsSource } from '../../adapters/metrics/prometheus-metrics-source';
import { ScrapeMetricsSource, type ScrapedService } from '../../adapters/metrics/scrape-metrics-source';
import type { ServiceCatalog } from '../config/catalog';
import type { EnvironmentName, OpsbotConfig } from '../config/schema';
import type { BuiltPlatforms } from '../platform/build-platforms';
import type { MetricsSource } from './metrics-source';

/** Where the demo services (and any local service without a catalog metrics URL) serve their metrics. */
const DEFAULT_METRICS_PATH = '/metrics';

export interface BuiltMetricsSource {
  source: MetricsSource;
  /** Starts scraping (the embedded source); nothing to start for Prometheus. */
  start(): void;
}

/**
 * Prometheus when configured; otherwise opsbot scrapes the services itself: every replica of a local
 * service directly (through its round-robin port only one replica would answer each scrape), and the
 * catalog's metrics URL for the rest.
 */
export function buildMetricsSource(
  config: OpsbotConfig,
  catalog: ServiceCatalog,
  platforms: Pick<BuiltPlatforms, 'local'>,
): BuiltMetricsSource {
  const { metrics } = config;
  if (metrics.source === 'prometheus') {
    const source = new PrometheusMetricsSource({
      url: metrics.prometheus.url as string,
      bearerToken: metrics.prometheus.bearerToken,
      timeoutMs: metrics.prometheus.timeoutMs,
      queries: metrics.prometheus.queries,
    });
    return { source, start: () => {} };
  }
  const source = new ScrapeMetricsSource({
    targets: (service, env) => {
      const url = catalog.get(service)?.environments[env]?.metricsUrl;
      const local = platforms.local[env];
      if (!local?.manages(service)) return url ? [url] : [];
      const path = url ? new URL(url).pathname : DEFAULT_METRICS_PATH;
      return local.replicaUrls(service).map((base) => base + path);
    },
    services: () =>
      catalog.list().flatMap((service) =>
        Object.entries(service.environments)
          .filter(
            ([env, endpoints]) =>
              endpoints?.metricsUrl || platforms.local[env as EnvironmentName]?.manages(service.name),
          )
          .map(([env]): ScrapedService => ({ service: service.name, environment: env as EnvironmentName })),
      ),
    intervalMs: metrics.scrape.intervalSeconds * 1000,
    retentionMs: metrics.scrape.retentionMinutes * 60_000,
    timeoutMs: metrics.scrape.timeoutMs,
  });
  return { source, start: () => source.start() };
}
