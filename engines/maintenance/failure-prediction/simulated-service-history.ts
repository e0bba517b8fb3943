import { seededRandom } from '../../../bot/core/seeded-random';
import { dailyRate, timeOfDay } from '../../../demo/fleet/load-pattern';
import { SERVICE_NAMES } from '../../../demo/fleet/service-names';
import type { TrainingRow } from '../../orchestrator/prediction/failure-model';
import { serviceFailureFeatures } from './service-failure-features';
import {
  HOUR_MS,
  MINUTE_MS,
  type HealthSample,
  type MetricSample,
  type ServiceSignals,
} from './service-signals';

/**
 * Labelled rows for the service failure model before real history exists: services simulated minute by
 * minute, observed the way the maintenance controller and a metrics source observe them (health checks,
 * restarts, p95 latency, error rate, CPU, each with noise and gaps), and every few minutes a row: the
 * features of the hour before `at`, and whether the service is down at some moment of the hour after it.
 *
 * The hidden process the model never sees:
 *
 * - outages (health checks fail, errors and latency soar, replicas may crash-loop) come every day or so per
 *   service, more often for some services than others, and one in four relapses within the next hour or two;
 * - most outages have precursors that build up over 20–180 minutes — latency creeping up, error bursts, CPU
 *   saturating, health checks flapping, replicas restarting — in any combination, growing late and fast or
 *   slowly; some come out of the blue;
 * - false alarms look like precursors (a load spike, a slow dependency, an error burst) and fade without an
 *   outage; deploys restart replicas and blip latency; health checks fail now and then on their own;
 * - load follows the demo fleet's daily curve, moving CPU and latency with it;
 * - some services have no metrics at all, some no CPU metric, and every metric misses a point now and then.
 *
 * A service that is down at `at` counts as failing within the hour (it is): the model must not rank a service
 * that is failing right now as safe because its checks look like a recovery's. Those rows are about one in
 * a hundred, so the held-out figures are nearly all about services that were up.
 */

export interface ServiceHistoryOptions {
  /** Simulated service timelines. */
  services: number;
  days: number;
  seed?: number;
  /** Simulated time starts here; a fixed Monday midnight unless set, so the same seed gives the same rows. */
  start?: Date;
  /** Time between one service's rows. */
  rowEveryMs?: number;
}

export interface SimulatedServiceRow extends TrainingRow {
  /** The simulated timeline the row comes from ("checkout-3"): rows of one timeline are not independent. */
  service: string;
  /** Epoch milliseconds. */
  at: number;
  /** The service was down at `at`: the row is a failure in progress more than a prediction. */
  downNow: boolean;
}

const DEFAULT_SEED = 10;
const DEFAULT_START = Date.UTC(2025, 0, 6);
const DEFAULT_ROW_EVERY_MS = 5 * MINUTE_MS;

/** Mean time a service stays up between outages; each service's own is this over its proneness. */
const MEAN_UP_MS = 20 * HOUR_MS;
const RELAPSE_CHANCE = 0.25;
const RELAPSE_WITHIN_MS = { min: 10 * MINUTE_MS, max: 120 * MINUTE_MS } as const;
const OUTAGE_MINUTES = { min: 3, max: 25 } as const;
const SUDDEN_OUTAGE_CHANCE = 0.25;
const PRECURSOR_MINUTES = { min: 20, max: 180 } as const;
const MEAN_FALSE_ALARM_GAP_MS = 12 * HOUR_MS;
const FALSE_ALARM_MINUTES = { min: 10, max: 60 } as const;
const MEAN_DEPLOY_GAP_MS = 10 * HOUR_MS;

/** A check fails on its own (a network blip, a slow GC pause) this often. */
const SPURIOUS_CHECK_FAILURE = 0.004;
/** While down, a check still gets an answer this often (a replica that is briefly up). */
const DOWN_CHECK_SUCCESS = 0.1;
const METRIC_GAP_CHANCE = 0.01;
const NO_METRICS_CHANCE = 0.1;
const NO_CPU_CHANCE = 0.15;
const CHECK_INTERVALS_MS = [30_000, 60_000] as const;
/** CPU never reads above this share of what a service may use. */
const CPU_CEILING = 0.99;

type Precursor = 'latency' | 'errors' | 'cpu' | 'flapping' | 'restarts';
const PRECURSORS: readonly Precursor[] = ['latency', 'errors', 'cpu', 'flapping', 'restarts'];

interface SimulatedService {
  name: string;
  checkIntervalMs: number;
  baseP95Seconds: number;
  baseHealthMs: number;
  baseErrorRate: number;
  /** CPU at the daily peak when healthy. */
  peakCpu: number;
  hasLatencyAndErrors: boolean;
  hasCpu: boolean;
  /** Multiplies the outage rate: some services fail more often. */
  proneness: number;
}

/** What the hidden process does to a service in one minute, before noise. */
interface Minute {
  /** Multiplies request latency (the p95). */
  latencyFactor: number;
  /** Multiplies health-check latency. */
  healthLatencyFactor: number;
  extraErrorRate: number;
  /** Pushes CPU this share of the way to the ceiling. */
  cpuPush: number;
  failedCheckChance: number;
  restartsPerMinute: number;
  down: boolean;
}

/** Minutes from the timeline's start: down from `start` until `end`. */
interface Outage {
  start: number;
  end: number;
}

/** How a precursor or false alarm builds: its strength from 0 to 1 over its course. */
type Shape = (progress: number) => number;

export function simulateServiceHistory(options: ServiceHistoryOptions): SimulatedServiceRow[] {
  const random = seededRandom(options.seed ?? DEFAULT_SEED);
  const start = options.start?.getTime() ?? DEFAULT_START;
  const rowEveryMs = options.rowEveryMs ?? DEFAULT_ROW_EVERY_MS;
  const minutes = Math.round((options.days * 24 * HOUR_MS) / MINUTE_MS);
  const rows: SimulatedServiceRow[] = [];
  for (let i = 0; i < options.services; i++) {
    const service = simulatedService(i, random);
    const { timeline, outages } = hiddenTimeline(service, minutes, random);
    const observed = observe(service, timeline, start, random);
    // The first hour only fills the window; the last hour has no complete future to label.
    for (let at = start + HOUR_MS; at <= start + minutes * MINUTE_MS - HOUR_MS; at += rowEveryMs) {
      const minute = (at - start) / MINUTE_MS;
      const failed = outages.some((o) => o.start <= minute + HOUR_MS / MINUTE_MS && o.end > minute);
      const signals = observed.signalsAt(at);
      rows.push({
        service: service.name,
        at,
        features: serviceFailureFeatures(signals).values,
        failed,
        downNow: (timeline[minute] as Minute).down,
      });
    }
  }
  return rows;
}

function simulatedService(index: number, random: () => number): SimulatedService {
  const noMetrics = random() < NO_METRICS_CHANCE;
  return {
    name: `${SERVICE_NAMES[index % SERVICE_NAMES.length]}-${Math.floor(index / SERVICE_NAMES.length) + 1}`,
    checkIntervalMs: CHECK_INTERVALS_MS[Math.floor(random() * CHECK_INTERVALS_MS.length)] as number,
    baseP95Seconds: logUniform(random, 0.03, 0.4),
    baseHealthMs: logUniform(random, 5, 80),
    baseErrorRate: logUniform(random, 0.0005, 0.01),
    peakCpu: 0.25 + 0.4 * random(),
    hasLatencyAndErrors: !noMetrics,
    hasCpu: !noMetrics && random() >= NO_CPU_CHANCE,
    proneness: Math.exp(0.5 * gaussian(random)),
  };
}

/** The hidden process minute by minute, and the minutes at which outages start. */
function hiddenTimeline(
  service: SimulatedService,
  minutes: number,
  random: () => number,
): { timeline: Minute[]; outages: Outage[] } {
  const timeline: Minute[] = Array.from({ length: minutes }, () => ({
    latencyFactor: 1,
    healthLatencyFactor: 1,
    extraErrorRate: 0,
    cpuPush: 0,
    failedCheckChance: SPURIOUS_CHECK_FAILURE,
    restartsPerMinute: 0,
    down: false,
  }));
  const outages: Outage[] = [];
  const upFor = () => exponential(random, MEAN_UP_MS / service.proneness);
  for (let start = Math.floor(upFor() / MINUTE_MS); start < minutes;) {
    if (random() >= SUDDEN_OUTAGE_CHANCE) {
      const length = uniformInt(random, PRECURSOR_MINUTES.min, PRECURSOR_MINUTES.max);
      const steepness = 1 + 1.5 * random();
      applyEpisode(timeline, start - length, start, pickPrecursors(random), random, (p) => p ** steepness);
    }
    const length = uniformInt(random, OUTAGE_MINUTES.min, OUTAGE_MINUTES.max);
    applyOutage(timeline, start, start + length, random);
    outages.push({ start, end: start + length });
    const gap =
      random() < RELAPSE_CHANCE ? uniform(random, RELAPSE_WITHIN_MS.min, RELAPSE_WITHIN_MS.max) : upFor();
    start += length + Math.floor(gap / MINUTE_MS);
  }
  for (let t = exponential(random, MEAN_FALSE_ALARM_GAP_MS); t < minutes * MINUTE_MS;) {
    const from = Math.floor(t / MINUTE_MS);
    const length = uniformInt(random, FALSE_ALARM_MINUTES.min, FALSE_ALARM_MINUTES.max);
    const peak = 0.15 + 0.5 * random();
    // Rises, then fades: sin over half a period, scaled to the alarm's peak.
    applyEpisode(
      timeline,
      from,
      from + length,
      pickPrecursors(random),
      random,
      (p) => peak * Math.sin(Math.PI * p),
    );
    t += length * MINUTE_MS + exponential(random, MEAN_FALSE_ALARM_GAP_MS);
  }
  for (let t = exponential(random, MEAN_DEPLOY_GAP_MS); t < minutes * MINUTE_MS;) {
    applyDeploy(timeline, Math.floor(t / MINUTE_MS), random);
    t += exponential(random, MEAN_DEPLOY_GAP_MS);
  }
  return { timeline, outages };
}

function pickPrecursors(random: () => number): Precursor[] {
  const picked = PRECURSORS.filter(() => random() < 0.35);
  return picked.length > 0 ? picked : [PRECURSORS[Math.floor(random() * PRECURSORS.length)] as Precursor];
}

/** A precursor-like stretch from `from` to `to` (minutes), its strength following `shape`. */
function applyEpisode(
  timeline: Minute[],
  from: number,
  to: number,
  kinds: readonly Precursor[],
  random: () => number,
  shape: Shape,
): void {
  const latency = 2 + 6 * random();
  // A slow dependency (a database, a downstream service) slows requests but not a health endpoint that does
  // not call it; exhaustion (memory, threads, GC) slows both.
  const healthSlows = random() < 0.5;
  const errors = logUniform(random, 0.01, 0.15);
  const cpu = 0.6 + 0.4 * random();
  const flapping = 0.1 + 0.3 * random();
  const restarts = 0.03 + 0.12 * random();
  for (let m = Math.max(0, from); m < Math.min(to, timeline.length); m++) {
    const strength = shape((m - from) / (to - from));
    const minute = timeline[m] as Minute;
    for (const kind of kinds) {
      if (kind === 'latency') {
        minute.latencyFactor *= 1 + (latency - 1) * strength;
        if (healthSlows) minute.healthLatencyFactor *= 1 + (latency - 1) * strength;
      }
      // Errors come in bursts that grow more frequent as the episode builds.
      if (kind === 'errors' && random() < 0.3 + 0.6 * strength) minute.extraErrorRate += errors * strength;
      if (kind === 'cpu') minute.cpuPush = Math.max(minute.cpuPush, cpu * strength);
      if (kind === 'flapping') minute.failedCheckChance += flapping * strength;
      if (kind === 'restarts') minute.restartsPerMinute += restarts * strength;
    }
  }
}

function applyOutage(timeline: Minute[], from: number, to: number, random: () => number): void {
  const crashLoop = random() < 0.5;
  for (let m = from; m < Math.min(to, timeline.length); m++) {
    const minute = timeline[m] as Minute;
    minute.down = true;
    minute.latencyFactor *= 10;
    minute.healthLatencyFactor *= 10;
    minute.extraErrorRate += 0.3 + 0.6 * random();
    if (crashLoop) minute.restartsPerMinute += 0.3;
  }
}

/** A rollout: a couple of replicas restarted within a few minutes and a short latency blip. */
function applyDeploy(timeline: Minute[], from: number, random: () => number): void {
  const replicas = 1 + Math.floor(random() * 3);
  for (let m = from; m < Math.min(from + 3, timeline.length); m++) {
    const minute = timeline[m] as Minute;
    minute.restartsPerMinute += replicas / 3;
    minute.latencyFactor *= 1.3;
    minute.healthLatencyFactor *= 1.3;
  }
}

interface Observed {
  signalsAt(at: number): ServiceSignals;
}

/** The service as the controller and a metrics source see it: checks, restarts and metrics with noise. */
function observe(
  service: SimulatedService,
  timeline: readonly Minute[],
  start: number,
  random: () => number,
): Observed {
  const checks: HealthSample[] = [];
  const restarts: { t: number }[] = [];
  const p95: MetricSample[] = [];
  const errorRate: MetricSample[] = [];
  const cpu: MetricSample[] = [];
  const checksPerMinute = MINUTE_MS / service.checkIntervalMs;
  timeline.forEach((minute, m) => {
    const t = start + m * MINUTE_MS;
    const load = dailyRate(timeOfDay(t / 1000));
    for (let k = 0; k < checksPerMinute; k++) {
      const ok = minute.down ? random() < DOWN_CHECK_SUCCESS : random() >= minute.failedCheckChance;
      const latencyMs =
        service.baseHealthMs * minute.healthLatencyFactor * (0.6 + 0.4 * load) * lognormal(random, 0.2);
      checks.push({ t: t + k * service.checkIntervalMs, ok, ...(ok ? { latencyMs } : {}) });
    }
    for (let n = poisson(random, minute.restartsPerMinute); n > 0; n--)
      restarts.push({ t: t + random() * MINUTE_MS });
    const gap = () => random() < METRIC_GAP_CHANCE;
    if (service.hasLatencyAndErrors && !gap()) {
      const own = service.baseP95Seconds / (1 - 0.5 * load * service.peakCpu);
      p95.push({ t, v: own * minute.latencyFactor * lognormal(random, 0.1) });
    }
    if (service.hasLatencyAndErrors && !gap()) {
      const base = service.baseErrorRate * lognormal(random, 0.4);
      errorRate.push({ t, v: Math.min(1, base + minute.extraErrorRate) });
    }
    if (service.hasCpu && !gap()) {
      const healthy = service.peakCpu * (0.3 + 0.7 * load) + 0.03 * gaussian(random);
      const pushed = healthy + (CPU_CEILING - healthy) * minute.cpuPush;
      cpu.push({ t, v: Math.min(CPU_CEILING, Math.max(0, pushed)) });
    }
  });
  restarts.sort((a, b) => a.t - b.t);
  return {
    signalsAt(at) {
      const hour = <T extends { t: number }>(items: readonly T[]) => between(items, at - HOUR_MS, at);
      return {
        service: service.name,
        environment: 'simulation',
        now: at,
        checks: hour(checks),
        restarts: hour(restarts).length,
        ...(service.hasLatencyAndErrors ? { latencyP95: hour(p95), errorRate: hour(errorRate) } : {}),
        ...(service.hasCpu ? { cpu: hour(cpu) } : {}),
      };
    },
  };
}

/** The items with from < t ≤ to, by binary search over items sorted by t. */
function between<T extends { t: number }>(items: readonly T[], from: number, to: number): T[] {
  return items.slice(firstAfter(items, from), firstAfter(items, to));
}

function firstAfter(items: readonly { t: number }[], t: number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((items[mid] as { t: number }).t <= t) low = mid + 1;
    else high = mid;
  }
  return low;
}

function uniform(random: () => number, min: number, max: number): number {
  return min + (max - min) * random();
}

function uniformInt(random: () => number, min: number, max: number): number {
  return Math.floor(uniform(random, min, max + 1));
}

function logUniform(random: () => number, min: number, max: number): number {
  return min * (max / min) ** random();
}

function exponential(random: () => number, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

/** A standard normal draw (Box–Muller). */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A multiplicative noise factor with median 1. */
function lognormal(random: () => number, sigma: number): number {
  return Math.exp(sigma * gaussian(random));
}

/** A Poisson draw by counting uniform products (Knuth): rates here are well under one per minute. */
function poisson(random: () => number, mean: number): number {
  if (mean <= 0) return 0;
  const limit = Math.exp(-mean);
  let count = 0;
  for (let product = random(); product > limit; product *= random()) count += 1;
  return count;
}
