import { checkComponent, type Component, type HealthProbe, type ProbeResult } from '../core/health';
import type { BadgeState, Block, StatusBadge } from '../core/message';
import type { CatalogService } from '../config/catalog';
import type { EnvironmentName } from '../config/schema';
import { formatMetric, metricName } from '../metrics/metric-format';
import type { MetricKind, MetricsSource } from '../metrics/metrics-source';
import { DEFAULT_LATENCY_QUANTILE, METRIC_UNITS } from '../metrics/metrics-source';
import type { PlatformEvent, ServiceStatus } from '../platform/platform-driver';
import type { Platforms } from '../platform/platforms';
import { ANY_SERVICE_SLOTS } from './service-slots';
import type { Skill } from './skill';

const STATE_WORDS: Record<StatusBadge['state'], string> = {
  ok: 'healthy',
  warning: 'degraded',
  critical: 'down',
  unknown: 'unknown',
  info: 'info',
};

const DRIVER_STATES: Record<ServiceStatus['state'], BadgeState> = {
  running: 'ok',
  degraded: 'warning',
  down: 'critical',
  unknown: 'unknown',
};

/** The window key metrics are read over: recent enough to be "now", long enough to hold a few scrapes. */
const KEY_METRICS_WINDOW_MS = 5 * 60_000;
const KEY_METRICS_STEP_SECONDS = 30;
/** A status answer never waits longer than this for a platform or a metrics source; what is late is "unknown". */
const PART_TIMEOUT_MS = 3000;
const RECENT_EVENTS = 5;

interface ServiceReport {
  service: CatalogService;
  url?: string;
  health: ProbeResult | { state: 'unknown'; detail: string; checkedAt?: undefined };
  platform?: ServiceStatus | { error: string };
  metrics: Partial<Record<MetricKind, number>>;
  state: BadgeState;
}

/**
 * Health of catalog services — real HTTP checks of their health URLs, what their platform driver reports
 * (replicas, processes) and key metrics — plus opsbot's own components. A service is as bad as the worse of
 * its health check and its platform: a process that exited is down even if a stale cache said healthy.
 */
export function createSystemStatusSkill(deps: {
  probe: HealthProbe;
  components: () => readonly Component[];
  platforms?: Platforms;
  metrics?: MetricsSource;
  now?: () => number;
}): Skill {
  const now = deps.now ?? Date.now;

  async function report(service: CatalogService, env: EnvironmentName): Promise<ServiceReport> {
    const url = service.environments[env]?.healthUrl;
    const driver = deps.platforms?.driver(env);
    const [health, platform, metrics] = await Promise.all([
      url
        ? deps.probe.check(url)
        : Promise.resolve({ state: 'unknown' as const, detail: `no health URL configured for ${env}` }),
      driver
        ? withTimeout(driver.status(service.name), `${driver.kind} driver`).catch((err: Error) => ({
            error: err.message,
          }))
        : Promise.resolve(undefined),
      keyMetrics(service.name, env),
    ]);
    const platformState = platform && 'state' in platform ? DRIVER_STATES[platform.state] : undefined;
    return { service, url, health, platform, metrics, state: worse(health.state, platformState) };
  }

  async function keyMetrics(service: string, environment: EnvironmentName) {
    const values: Partial<Record<MetricKind, number>> = {};
    if (!deps.metrics) return values;
    const end = now();
    const kinds: MetricKind[] = ['throughput', 'latency', 'error_rate'];
    await Promise.all(
      kinds.map(async (metric) => {
        try {
          const series = await withTimeout(
            deps.metrics!.query({
              service,
              environment,
              metric,
              quantile: DEFAULT_LATENCY_QUANTILE,
              start: end - KEY_METRICS_WINDOW_MS,
              end,
              stepSeconds: KEY_METRICS_STEP_SECONDS,
            }),
            'metrics source',
          );
          const last = series.points[series.points.length - 1];
          if (last) values[metric] = last.v;
        } catch {
          // Metrics are a nice-to-have in a status answer: health and platform state still stand without them.
        }
      }),
    );
    return values;
  }

  function age(checkedAt: number | undefined): string {
    if (checkedAt === undefined) return '';
    const seconds = Math.round((now() - checkedAt) / 1000);
    return seconds >= 1 ? ` (checked ${seconds}s ago)` : '';
  }

  return {
    intent: 'system_status',
    permission: 'status.read',
    summary: 'Check the health of services and of opsbot itself',
    examples: ['is payments healthy?', 'status of everything'],
    slots: [...ANY_SERVICE_SLOTS],
    mutating: false,
    installed: true,
    async handle({ slots, catalog }) {
      const env = (slots.environment ?? catalog.defaultEnvironment) as EnvironmentName;
      if (slots.service !== undefined) {
        const service = catalog.get(String(slots.service));
        if (!service) return { text: `I don't know a service called ${slots.service}.`, blocks: [] };
        if (!service.environments[env]) {
          const where = Object.keys(service.environments).join(', ');
          const text = `${service.name} does not run in ${env} according to the catalog (it runs in ${where}).`;
          return { text, blocks: [{ type: 'section', text }] };
        }
        const [r, events] = await Promise.all([report(service, env), recentEvents(service.name, env)]);
        const text = `${service.name} (${env}) is ${STATE_WORDS[r.state]}: ${serviceDetail(r)}${age(r.health.checkedAt)}.`;
        const fields = [
          { label: 'Environment', value: env },
          { label: 'Health', value: `${r.health.detail} (${r.url ?? 'no health URL'})` },
        ];
        if (r.platform && 'error' in r.platform) fields.push({ label: 'Platform', value: r.platform.error });
        if (r.platform && 'state' in r.platform) {
          const driver = deps.platforms?.driver(env)?.kind ?? 'platform';
          fields.push({ label: `Platform (${driver})`, value: platformDetail(r.platform) });
          for (const i of r.platform.instances ?? []) {
            fields.push({
              label: i.id,
              value: [i.state, i.pid !== undefined ? `pid ${i.pid}` : '', i.detail ?? '']
                .filter(Boolean)
                .join(', '),
            });
          }
        }
        const metricLine = metricsDetail(r.metrics);
        if (metricLine) fields.push({ label: 'Last 5 minutes', value: metricLine });
        fields.push({ label: 'Owners', value: service.owners.join(', ') });
        const blocks: Block[] = [
          { type: 'section', text },
          { type: 'status', badges: [{ label: service.name, state: r.state, detail: serviceDetail(r) }] },
          { type: 'fields', fields },
        ];
        if (events.length > 0) {
          blocks.push(
            { type: 'section', text: '**Recent events**' },
            {
              type: 'list',
              items: events.map(
                (e) => `${e.time.slice(11, 19)} ${e.type === 'warning' ? '⚠ ' : ''}${e.reason}: ${e.message}`,
              ),
            },
          );
        }
        return { text, blocks };
      }

      const services = catalog.list().filter((s) => s.environments[env]);
      const [reports, components] = await Promise.all([
        Promise.all(services.map((s) => report(s, env))),
        Promise.all(deps.components().map(async (c) => ({ name: c.name, ...(await checkComponent(c)) }))),
      ]);
      const healthy = reports.filter((r) => r.state === 'ok').length;
      const problems = reports
        .filter((r) => r.state !== 'ok')
        .map((r) => `${r.service.name} ${STATE_WORDS[r.state]} (${serviceDetail(r)})`);
      const summary =
        `${healthy} of ${reports.length} services in ${env} are healthy.` +
        (problems.length > 0 ? ` Not healthy: ${problems.join('; ')}.` : '');
      const opsbotLine = components.map((c) => `${c.name}: ${c.detail}`).join('; ');
      return {
        text: `${summary}\nopsbot: ${opsbotLine}.`,
        blocks: [
          { type: 'section', text: summary },
          {
            type: 'status',
            badges: reports.map((r) => ({ label: r.service.name, state: r.state, detail: serviceDetail(r) })),
          },
          { type: 'section', text: '**opsbot components**' },
          {
            type: 'status',
            badges: components.map((c) => ({ label: c.name, state: c.state, detail: c.detail })),
          },
        ],
      };
    },
  };

  async function recentEvents(service: string, env: EnvironmentName): Promise<PlatformEvent[]> {
    const driver = deps.platforms?.driver(env);
    if (!driver) return [];
    return withTimeout(driver.events(service, RECENT_EVENTS), 'platform events').catch(() => []);
  }
}

function serviceDetail(r: ServiceReport): string {
  const parts = [r.health.detail];
  if (r.platform && 'state' in r.platform) parts.push(platformDetail(r.platform));
  if (r.platform && 'error' in r.platform) parts.push(`platform: ${r.platform.error}`);
  const metrics = metricsDetail(r.metrics);
  if (metrics) parts.push(metrics);
  return parts.join(' · ');
}

function platformDetail(status: ServiceStatus): string {
  const replicas = status.replicas
    ? `${status.replicas.ready}/${status.replicas.desired} replicas ready`
    : `platform says ${status.state}`;
  return status.detail ? `${replicas} (${status.detail})` : replicas;
}

function metricsDetail(values: Partial<Record<MetricKind, number>>): string {
  const parts: string[] = [];
  if (values.throughput !== undefined) parts.push(formatMetric(METRIC_UNITS.throughput, values.throughput));
  if (values.latency !== undefined)
    parts.push(`${metricName('latency')} ${formatMetric(METRIC_UNITS.latency, values.latency)}`);
  if (values.error_rate !== undefined)
    parts.push(`${formatMetric(METRIC_UNITS.error_rate, values.error_rate)} errors`);
  return parts.join(', ');
}

const SEVERITY: BadgeState[] = ['ok', 'info', 'unknown', 'warning', 'critical'];

/** The worse of two states; a platform that knows nothing does not make a healthy service unknown. */
function worse(health: BadgeState, platform: BadgeState | undefined): BadgeState {
  if (platform === undefined || platform === 'unknown') return health;
  if (health === 'unknown') return platform;
  return SEVERITY.indexOf(platform) > SEVERITY.indexOf(health) ? platform : health;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer in ${PART_TIMEOUT_MS} ms`)),
      PART_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
