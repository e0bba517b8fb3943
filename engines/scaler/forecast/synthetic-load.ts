import { seededRandom } from '../../../bot/core/seeded-random';
import { loadMultiplier, SECONDS_PER_DAY, type BurstOptions } from '../../../demo/fleet/load-pattern';

/**
 * Load traces with the demo fleet's traffic shape (demo/fleet/load-pattern.ts: a daily cycle with a midday
 * and an evening peak, plus bursts), sampled at a fixed step, for training and backtesting forecasters
 * before a service has real history. Each trace draws its own scale (1 to 10,000 requests/s at the peak),
 * time zone, growth, day-to-day variation, noise and sometimes a lasting level shift (a migration moving
 * traffic), so a model trained on them cannot lean on any one service's numbers.
 */

export interface LoadTrace {
  /** Requests per second, averaged over each step; oldest first. */
  values: number[];
  /** Steps per day. */
  seasonLength: number;
  /** Requests/s at the daily peak on the first day, before noise and bursts. */
  peakRate: number;
}

export interface LoadTraceOptions {
  seed: number;
  /** Steps per day: 96 is a sample every 15 minutes. */
  seasonLength: number;
  /** Days of history. */
  seasons: number;
}

const MIN_PEAK_LOG10 = 0;
const MAX_PEAK_LOG10 = 4;
/** Growth per day, as a share of the first day's traffic: from slow decline to strong growth. */
const MIN_GROWTH_PER_DAY = -0.05;
const MAX_GROWTH_PER_DAY = 0.15;
/** Each day's traffic differs from the day before's by about this share (weekday effects, weather, news). */
const DAY_TO_DAY_SPREAD = 0.05;
/** Noise beyond counting noise, as a share of the rate (uneven clients, retries, metric jitter). */
const MIN_NOISE = 0.01;
const MAX_NOISE = 0.1;
const LEVEL_SHIFT_CHANCE = 0.2;
const MIN_LEVEL_SHIFT = 0.6;
const MAX_LEVEL_SHIFT = 1.6;
/** Bursts, in steps: one slot in BURST_SLOT_STEPS may hold one, of one to four steps, 1.5 to 3 times the load. */
const BURST_SLOT_STEPS = 24;
const BURST_PROBABILITY = 0.25;
const BURST_MIN_STEPS = 1;
const BURST_MAX_STEPS = 4;
const MIN_BURST_FACTOR = 1.5;
const MAX_BURST_FACTOR = 3;
/** Points averaged within a step, so a burst shorter than a step still raises that step's mean. */
const SAMPLES_PER_STEP = 4;

export function generateLoadTrace({ seed, seasonLength, seasons }: LoadTraceOptions): LoadTrace {
  const random = seededRandom(seed);
  const uniform = (min: number, max: number) => min + random() * (max - min);
  const stepSeconds = SECONDS_PER_DAY / seasonLength;
  const length = seasonLength * seasons;

  const peakRate = 10 ** uniform(MIN_PEAK_LOG10, MAX_PEAK_LOG10);
  const zoneShiftSeconds = Math.floor(random() * 24) * 3600;
  const growthPerDay = uniform(MIN_GROWTH_PER_DAY, MAX_GROWTH_PER_DAY);
  const noise = uniform(MIN_NOISE, MAX_NOISE);
  const shiftAt = random() < LEVEL_SHIFT_CHANCE ? Math.floor(uniform(seasonLength, length)) : length;
  const shift = uniform(MIN_LEVEL_SHIFT, MAX_LEVEL_SHIFT);
  const bursts: BurstOptions = {
    seed: Math.floor(random() * 2 ** 32),
    slotSeconds: BURST_SLOT_STEPS * stepSeconds,
    probability: BURST_PROBABILITY,
    minDurationSeconds: BURST_MIN_STEPS * stepSeconds,
    maxDurationSeconds: BURST_MAX_STEPS * stepSeconds,
    factor: uniform(MIN_BURST_FACTOR, MAX_BURST_FACTOR),
  };
  // One factor per day boundary, interpolated in between, so days differ without a jump at midnight.
  const dayFactors = [1];
  for (let day = 1; day <= seasons; day++) {
    dayFactors.push((dayFactors[day - 1] as number) * (1 + DAY_TO_DAY_SPREAD * gaussian(random)));
  }

  const values = new Array<number>(length);
  for (let step = 0; step < length; step++) {
    let shape = 0;
    for (let sample = 0; sample < SAMPLES_PER_STEP; sample++) {
      const t = (step + (sample + 0.5) / SAMPLES_PER_STEP) * stepSeconds;
      shape += loadMultiplier(t + zoneShiftSeconds, { bursts }) / SAMPLES_PER_STEP;
    }
    const days = step / seasonLength;
    const day = Math.floor(days);
    const dayFactor =
      (dayFactors[day] as number) +
      ((dayFactors[day + 1] as number) - (dayFactors[day] as number)) * (days - day);
    const rate =
      peakRate * shape * dayFactor * Math.max(0, 1 + growthPerDay * days) * (step >= shiftAt ? shift : 1);
    // Counting noise: a rate of r over a step of s seconds is about r·s requests, give or take √(r·s).
    const countingSpread = Math.sqrt(rate / stepSeconds);
    values[step] = Math.max(0, rate * (1 + noise * gaussian(random)) + countingSpread * gaussian(random));
  }
  return { values, seasonLength, peakRate };
}

/** A standard normal draw (Box–Muller). */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
