import { seededRandom } from '../../../bot/core/seeded-random';
import { DEFAULT_CAPACITY_RPS } from '../../../demo/fleet/demo-service';
import { dailyRate, timeOfDay } from '../../../demo/fleet/load-pattern';
import { SERVICE_NAMES } from '../../../demo/fleet/service-names';
import type { RiskLevel } from '../workflow';
import type { TrainingRow } from './failure-model';
import { RecentOutcomes } from './file-execution-history';
import { DEFAULT_METRICS_WINDOW_MS, failureFeatureValues, type ServiceHealth } from './run-features';

/**
 * Labelled runs for the failure model before real history exists: saga and runbook runs against a simulated
 * fleet whose services suffer faults, each run's features observed the way RunFeatureExtractor observes them
 * (means over the metrics window, so they lag and blur the truth), its outcome drawn from a hidden process
 * the model never sees:
 *
 * - each service alternates between healthy stretches and fault episodes (more of them in working hours,
 *   when changes ship): 5xx at some rate, latency added to some share of requests, or overload;
 * - every attempt of a step fails on a 5xx with the service's error rate at that moment, times out when it
 *   is delayed past the step's timeout, or flakes; a step fails when all its attempts fail, or on a
 *   permanent error (bad input, a conflict) that retrying cannot fix; a run fails when any step fails, so
 *   error rates compound over steps and are damped by retries;
 * - load follows the demo fleet's daily curve; past capacity a service sheds requests (5xx) and slows down.
 *
 * The simulated catalog mirrors the demo fleet: its eight services, its daily load curve.
 */

export interface SimulationOptions {
  runs: number;
  seed?: number;
  /** Simulated time starts here; a fixed Monday midnight unless set, so the same seed gives the same rows. */
  start?: Date;
  /** Mean time between run starts (at the daily average); runs are rarer at night. */
  meanGapMs?: number;
  windowMs?: number;
}

export interface SimulatedRun extends TrainingRow {
  definitionId: string;
  startedAt: Date;
}

const DEFAULT_SEED = 8;
const DEFAULT_START = Date.UTC(2025, 0, 6);
const DEFAULT_MEAN_GAP_MS = 3 * 60_000;

const MINUTE_MS = 60_000;
/** Mean healthy stretch of a service between faults, outside working hours; a third of it inside them. */
const MEAN_HEALTHY_MS = 120 * MINUTE_MS;
const WORKING_HOURS_FAULT_FACTOR = 3;
const MEAN_FAULT_MS = 30 * MINUTE_MS;
const MIN_FAULT_MS = 2 * MINUTE_MS;

/** Requests answered with a 5xx by a healthy service. */
const BASE_ERROR_RATE = 0.002;
/** A healthy service's p95 at no load, seconds; it grows as 1 / (1 − load), as the demo services' does. */
const BASE_P95_SECONDS = 0.008;
const MAX_LOAD_FOR_LATENCY = 0.95;
/** Past this share of capacity a service starts shedding requests. */
const SHEDDING_LOAD = 0.9;
/** Chance per attempt of a failure no metric shows (a dropped connection). */
const FLAKE_RATE = 0.002;
/** Chance per step of an error retrying cannot fix, higher for steps that change something. */
const PERMANENT_FAILURE = { mutating: 0.004, readOnly: 0.001 } as const;
/** Chance that a service's metrics cannot be read for a run: the extractor then reads neutral values. */
const METRICS_OUTAGE_RATE = 0.01;
/** Points the extractor averages over its window. */
const WINDOW_POINTS = 5;
/** A healthy service's median as a share of its p95. */
const P50_OF_P95 = 0.4;

const DEFINITION_COUNT = 24;
const STEP_TIMEOUTS_MS = [500, 1000, 2000, 5000, 10_000, 30_000] as const;
const MAX_ATTEMPTS = [1, 2, 3, 3, 4] as const;

interface SimulatedService {
  name: string;
  /** Requests per second at the daily peak. */
  peakRps: number;
  capacityRps: number;
  episodes: FaultEpisode[];
}

type Fault =
  | { kind: 'errors'; rate: number }
  | { kind: 'latency'; rate: number; latencyMs: number }
  | { kind: 'overload'; factor: number };

interface FaultEpisode {
  start: number;
  end: number;
  fault: Fault;
}

interface SimulatedDefinition {
  id: string;
  steps: { service: string; mutating: boolean }[];
  services: string[];
  timeoutMs: number;
  maxAttempts: number;
  risk: RiskLevel;
  /** Relative frequency: a few definitions run most of the time, as in a real catalog. */
  weight: number;
}

/** What a service is doing at one instant. */
interface Conditions {
  rps: number;
  errorRate: number;
  /** Share of requests delayed by `delayMs`. */
  delayedShare: number;
  delayMs: number;
  load: number;
}

export function simulateRuns(options: SimulationOptions): SimulatedRun[] {
  const random = seededRandom(options.seed ?? DEFAULT_SEED);
  const start = options.start?.getTime() ?? DEFAULT_START;
  const meanGapMs = options.meanGapMs ?? DEFAULT_MEAN_GAP_MS;
  const windowMs = options.windowMs ?? DEFAULT_METRICS_WINDOW_MS;
  // Generous: the gaps shrink by day and grow by night, and the window looks back from the first run.
  const end = start + options.runs * meanGapMs * 3;
  const services = SERVICE_NAMES.map((name) => simulatedService(name, start - windowMs, end, random));
  const byName = new Map(services.map((service) => [service.name, service]));
  const definitions = simulatedDefinitions(random);
  const totalWeight = definitions.reduce((sum, d) => sum + d.weight, 0);
  const outcomes = new RecentOutcomes();
  const averageRate = averageDailyRate();
  const runs: SimulatedRun[] = [];
  let t = start;
  while (runs.length < options.runs) {
    t += (exponential(random, meanGapMs) * averageRate) / dailyRate(timeOfDay(t / 1000));
    const definition = pick(definitions, random() * totalWeight);
    const now = new Date(t);
    const targets = definition.services.map((name) =>
      observe(byName.get(name) as SimulatedService, t, windowMs, random),
    );
    const features = failureFeatureValues({
      definitionId: definition.id,
      steps: definition.steps.length,
      mutatingSteps: definition.steps.filter((step) => step.mutating).length,
      targets,
      shortestTimeoutSeconds: definition.timeoutMs / 1000,
      fewestAttempts: definition.maxAttempts,
      definitionOutcomes: outcomes.ofDefinition(definition.id),
      lastHourOutcomes: outcomes.inLastHour(now),
      now,
      declaredRisk: definition.risk,
    });
    const failed = definition.steps.some(
      (step) =>
        random() < stepFailure(definition, step, conditions(byName.get(step.service) as SimulatedService, t)),
    );
    outcomes.add(definition.id, t, failed);
    runs.push({ definitionId: definition.id, startedAt: now, features, failed });
  }
  return runs;
}

/** The chance that one step fails, given what its service is doing now. */
function stepFailure(definition: SimulatedDefinition, step: { mutating: boolean }, now: Conditions): number {
  const timesOut = now.delayMs > definition.timeoutMs ? now.delayedShare : 0;
  const overloadTimeouts = now.load > 1 && definition.timeoutMs <= 2000 ? Math.min(0.5, now.load - 1) : 0;
  const attemptFails = 1 - (1 - now.errorRate) * (1 - timesOut) * (1 - overloadTimeouts) * (1 - FLAKE_RATE);
  const permanent = step.mutating ? PERMANENT_FAILURE.mutating : PERMANENT_FAILURE.readOnly;
  return 1 - (1 - attemptFails ** definition.maxAttempts) * (1 - permanent);
}

function conditions(service: SimulatedService, t: number): Conditions {
  const fault = faultAt(service, t);
  const rps =
    service.peakRps * dailyRate(timeOfDay(t / 1000)) * (fault?.kind === 'overload' ? fault.factor : 1);
  const load = rps / service.capacityRps;
  const shedding = Math.max(0, load - SHEDDING_LOAD) / load;
  return {
    rps,
    load,
    errorRate: Math.min(1, BASE_ERROR_RATE + (fault?.kind === 'errors' ? fault.rate : 0) + shedding),
    delayedShare: fault?.kind === 'latency' ? fault.rate : 0,
    delayMs: fault?.kind === 'latency' ? fault.latencyMs : 0,
  };
}

/** The service as the metrics window saw it before `t`: means of WINDOW_POINTS points, with sampling noise. */
function observe(
  service: SimulatedService,
  t: number,
  windowMs: number,
  random: () => number,
): ServiceHealth {
  if (random() < METRICS_OUTAGE_RATE) {
    return {
      service: service.name,
      errorRatio: 0,
      p95LatencySeconds: 0,
      p50LatencySeconds: 0,
      throughputPerSecond: 0,
    };
  }
  let errors = 0;
  let p95 = 0;
  let p50 = 0;
  let rps = 0;
  for (let k = 0; k < WINDOW_POINTS; k++) {
    const at = conditions(service, t - (windowMs * k) / (WINDOW_POINTS - 1));
    const requests = Math.max(1, (at.rps * windowMs) / WINDOW_POINTS / 1000);
    const noise = Math.sqrt((at.errorRate * (1 - at.errorRate)) / requests) * gaussian(random);
    errors += Math.min(1, Math.max(0, at.errorRate + noise));
    const base = BASE_P95_SECONDS / (1 - Math.min(at.load, MAX_LOAD_FOR_LATENCY));
    p95 += quantile(0.95, base, at) * (1 + 0.1 * gaussian(random));
    p50 += quantile(0.5, base * P50_OF_P95, at) * (1 + 0.1 * gaussian(random));
    rps += at.rps * (1 + 0.03 * gaussian(random));
  }
  return {
    service: service.name,
    errorRatio: errors / WINDOW_POINTS,
    p95LatencySeconds: Math.max(0, p95 / WINDOW_POINTS),
    p50LatencySeconds: Math.max(0, p50 / WINDOW_POINTS),
    throughputPerSecond: Math.max(0, rps / WINDOW_POINTS),
  };
}

/** The q-quantile of latency: the added delay once more than 1 − q of the requests get it, else the service's own. */
function quantile(q: number, own: number, at: Conditions): number {
  return at.delayedShare >= 1 - q ? Math.max(own, at.delayMs / 1000) : own;
}

function simulatedService(name: string, from: number, to: number, random: () => number): SimulatedService {
  const capacityRps = DEFAULT_CAPACITY_RPS;
  const peakRps = capacityRps * (0.3 + 0.5 * random());
  const episodes: FaultEpisode[] = [];
  let t = from;
  while (t < to) {
    const hour = timeOfDay(t / 1000) / 3600;
    const working = hour >= 9 && hour < 17;
    t += exponential(random, MEAN_HEALTHY_MS / (working ? WORKING_HOURS_FAULT_FACTOR : 1));
    const length = MIN_FAULT_MS + exponential(random, MEAN_FAULT_MS);
    episodes.push({ start: t, end: t + length, fault: randomFault(random) });
    t += length;
  }
  return { name, peakRps, capacityRps, episodes };
}

function randomFault(random: () => number): Fault {
  const kind = random();
  if (kind < 0.45) return { kind: 'errors', rate: 0.03 + 0.6 * random() };
  // Log-uniform from 200 ms to 10 s: some delays stay under a step's timeout, some go far past it.
  if (kind < 0.85) return { kind: 'latency', rate: 0.1 + 0.9 * random(), latencyMs: 200 * 50 ** random() };
  return { kind: 'overload', factor: 1.5 + 1.5 * random() };
}

/** The episode in force at `t`, by binary search over the service's sorted, disjoint episodes. */
function faultAt(service: SimulatedService, t: number): Fault | undefined {
  const { episodes } = service;
  let low = 0;
  let high = episodes.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const episode = episodes[mid] as FaultEpisode;
    if (t < episode.start) high = mid - 1;
    else if (t >= episode.end) low = mid + 1;
    else return episode.fault;
  }
  return undefined;
}

function simulatedDefinitions(random: () => number): SimulatedDefinition[] {
  return Array.from({ length: DEFINITION_COUNT }, (_, i) => {
    const saga = random() < 0.7;
    const stepCount = 2 + Math.floor(random() * 7);
    const services = shuffled([...SERVICE_NAMES], random).slice(
      0,
      1 + Math.floor(random() * Math.min(4, stepCount)),
    );
    const steps = Array.from({ length: stepCount }, (_, s) => ({
      // Every service of the definition gets a step; the rest go anywhere among them.
      service: services[s < services.length ? s : Math.floor(random() * services.length)] as string,
      mutating: random() < (saga ? 0.6 : 0.3),
    }));
    const mutating = steps.filter((step) => step.mutating).length;
    const risk: RiskLevel = mutating >= 4 && random() < 0.7 ? 'high' : random() < 0.3 ? 'medium' : 'low';
    return {
      id: `${saga ? 'saga' : 'runbook'}-${i + 1}`,
      steps,
      services,
      timeoutMs: STEP_TIMEOUTS_MS[Math.floor(random() * STEP_TIMEOUTS_MS.length)] as number,
      maxAttempts: MAX_ATTEMPTS[Math.floor(random() * MAX_ATTEMPTS.length)] as number,
      risk,
      weight: 1 / (i + 1),
    };
  });
}

function pick(definitions: readonly SimulatedDefinition[], at: number): SimulatedDefinition {
  let left = at;
  for (const definition of definitions) {
    left -= definition.weight;
    if (left < 0) return definition;
  }
  return definitions[definitions.length - 1] as SimulatedDefinition;
}

/** The daily curve's mean over a day, so the mean gap holds on average whatever its shape. */
function averageDailyRate(): number {
  let sum = 0;
  for (let minute = 0; minute < 1440; minute++) sum += dailyRate(minute * 60);
  return sum / 1440;
}

function exponential(random: () => number, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

/** A standard normal draw (Box–Muller). */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function shuffled<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
