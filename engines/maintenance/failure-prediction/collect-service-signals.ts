import type { EnvironmentName } from '../../../bot/config/schema';
import type { MetricKind, MetricsSource } from '../../../bot/metrics/metrics-source';
import type { Platforms } from '../../../bot/platform/platforms';
import type { MaintenanceController } from '../maintenance-controller';
import { HOUR_MS, type MetricSample, type ServiceSignals } from './service-signals';

/** Metric points per hour the predictor reads: one a minute, as its features were trained on. */
const METRIC_STEP_SECONDS = 60;
/** Platform events read to count the last hour's replica exits. */
const EVENTS_READ = 100;

/**
 * What the failure model reads of each service the controller watches in `environment`: the last hour of
 * health rounds from its history, replica exits from the platform's events, and error rate, p95 latency and
 * CPU from the metrics source. A metric that cannot be read stays undefined, never zeros.
 */
export async function collectServiceSignals(
  environment: EnvironmentName,
  deps: {
    controller: MaintenanceController;
    metrics: MetricsSource;
    platforms: Platforms;
    now?: () => number;
  },
): Promise<ServiceSignals[]> {
  const now = (deps.now ?? Date.now)();
  const since = now - HOUR_MS;
  const watched = deps.controller.status().filter((s) => s.environment === environment);
  return Promise.all(
    watched.map(async ({ service }) => {
      const rounds = new Map<number, { ok: boolean; latencyMs: number }>();
      for (const record of deps.controller.history(service, environment)?.since(since) ?? []) {
        const round = rounds.get(record.t);
        rounds.set(record.t, {
          ok: (round?.ok ?? true) && record.ok,
          latencyMs: Math.max(round?.latencyMs ?? 0, record.latencyMs),
        });
      }
      const metric = async (kind: MetricKind, quantile?: number): Promise<MetricSample[] | undefined> => {
        try {
          const series = await deps.metrics.query({
            service,
            environment,
            metric: kind,
            start: since,
            end: now,
            stepSeconds: METRIC_STEP_SECONDS,
            ...(quantile === undefined ? {} : { quantile }),
          });
          return series.points.length > 0 ? series.points : undefined;
        } catch {
          return undefined;
        }
      };
      const [errorRate, latencyP95, cpu, restarts] = await Promise.all([
        metric('error_rate'),
        metric('latency', 0.95),
        metric('cpu'),
        exitsSince(deps.platforms, environment, service, since),
      ]);
      return {
        service,
        environment,
        now,
        checks: [...rounds].map(([t, r]) => ({ t, ok: r.ok, latencyMs: r.latencyMs })),
        restarts,
        ...(errorRate ? { errorRate } : {}),
        ...(latencyP95 ? { latencyP95 } : {}),
        ...(cpu ? { cpu } : {}),
      };
    }),
  );
}

async function exitsSince(
  platforms: Platforms,
  environment: EnvironmentName,
  service: string,
  since: number,
) {
  try {
    const events = (await platforms.driver(environment)?.events(service, EVENTS_READ)) ?? [];
    return events.filter((e) => e.reason === 'Exited' && Date.parse(e.time) >= since).length;
  } catch {
    return 0;
  }
}
