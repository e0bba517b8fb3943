import { seededRandom } from '../../bot/core/seeded-random';
import { loadMultiplier, SECONDS_PER_DAY } from '../../demo/fleet/load-pattern';
import { SIM_STEP_SECONDS, type LoadTrace } from './load-trace';

export interface DemoTraceOptions {
  days: number;
  seed: number;
  /** Requests/s at the daily peak, outside bursts and noise. */
  peakRate: number;
  /** Epoch seconds of the first step, a midnight (UTC) so the daily cycle lines up. */
  start: number;
  stepSeconds?: number;
}

/** Step-to-step jitter: the standard deviation of the multiplicative noise on each step's rate. */
const STEP_NOISE = 0.05;
/** Day-to-day swing of the whole curve (a busy Monday, a quiet Sunday): each day's level is 1 ± this. */
const DAY_LEVEL_SWING = 0.1;

/**
 * The demo fleet's traffic, as its load generator sends it on a real clock (a day lasts a day): the daily
 * cycle of load-pattern.ts with its default bursts (three times the traffic for 30–120 s, in about 40% of
 * five-minute slots), times a level for each day and noise on each step, all from `seed`.
 */
export function demoFleetTrace(options: DemoTraceOptions): LoadTrace {
  const stepSeconds = options.stepSeconds ?? SIM_STEP_SECONDS;
  const random = seededRandom(options.seed);
  const steps = Math.round((options.days * SECONDS_PER_DAY) / stepSeconds);
  const dayLevels = Array.from({ length: options.days }, () => 1 + (random() * 2 - 1) * DAY_LEVEL_SWING);
  const pattern = { dayLengthSeconds: SECONDS_PER_DAY, bursts: { seed: options.seed } };
  const rates = new Float64Array(steps);
  for (let i = 0; i < steps; i += 1) {
    const t = options.start + i * stepSeconds;
    const level = dayLevels[Math.floor((i * stepSeconds) / SECONDS_PER_DAY)] as number;
    const noise = Math.max(0, 1 + STEP_NOISE * gaussian(random));
    rates[i] = options.peakRate * level * loadMultiplier(t, pattern) * noise;
  }
  return {
    name: 'demo fleet',
    source:
      `demo/fleet/load-pattern.ts daily cycle with its default bursts, ${options.days} days, ` +
      `±${DAY_LEVEL_SWING * 100}% day level, ${STEP_NOISE * 100}% step noise, seed ${options.seed}`,
    start: options.start,
    stepSeconds,
    rates,
  };
}

/** A standard normal draw (Box–Muller). */
function gaussian(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
