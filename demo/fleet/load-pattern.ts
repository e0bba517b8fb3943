import { seededRandom } from '../../bot/core/seeded-random';

/**
 * The demo fleet's traffic shape as pure functions of time, so the load generator and a scaler simulation
 * see the same curve: a daily cycle times occasional bursts. Time `t` is in seconds on any timeline whose
 * zero is a midnight (epoch seconds work: their zero is midnight UTC).
 */

export const SECONDS_PER_DAY = 86_400;
const SECONDS_PER_HOUR = 3600;
const HOURS_PER_DAY = 24;

/** Night traffic as a share of the midday peak. */
const NIGHT_FLOOR = 0.2;
const DAY_PEAK_HOUR = 13;
const DAY_AMPLITUDE = 1 - NIGHT_FLOOR;
const DAY_WIDTH_HOURS = 3;
/** After-dinner shopping: smaller than the day peak but a peak of its own, with a dip before it. */
const EVENING_PEAK_HOUR = 20;
const EVENING_AMPLITUDE = 0.35;
const EVENING_WIDTH_HOURS = 1.2;

/** A bell centred on `centreHour`, measured around the clock so 23:00 and 01:00 are two hours apart. */
function bump(hour: number, centreHour: number, widthHours: number): number {
  const apart = Math.abs(hour - centreHour) % HOURS_PER_DAY;
  const distance = Math.min(apart, HOURS_PER_DAY - apart);
  return Math.exp(-(distance * distance) / (2 * widthHours * widthHours));
}

/**
 * Traffic multiplier for a time of day on a real clock (0..86400 s): about 0.2 at night, 1.0 at the
 * early-afternoon peak, a smaller bump around 20:00.
 */
export function dailyRate(timeOfDaySeconds: number): number {
  const hour = timeOfDaySeconds / SECONDS_PER_HOUR;
  return (
    NIGHT_FLOOR +
    DAY_AMPLITUDE * bump(hour, DAY_PEAK_HOUR, DAY_WIDTH_HOURS) +
    EVENING_AMPLITUDE * bump(hour, EVENING_PEAK_HOUR, EVENING_WIDTH_HOURS)
  );
}

/** The real-clock time of day at `t` when a whole day passes in `dayLengthSeconds`. */
export function timeOfDay(t: number, dayLengthSeconds = SECONDS_PER_DAY): number {
  const phase = (((t % dayLengthSeconds) + dayLengthSeconds) % dayLengthSeconds) / dayLengthSeconds;
  return phase * SECONDS_PER_DAY;
}

/** A stretch of extra traffic: `factor` times the daily rate from `start` for `duration` seconds. */
export interface Burst {
  start: number;
  duration: number;
  factor: number;
}

export interface BurstOptions {
  seed: number;
  /** Time is cut into slots of this length; each holds at most one burst, so bursts never overlap. */
  slotSeconds?: number;
  /** Chance that a slot holds a burst. */
  probability?: number;
  minDurationSeconds?: number;
  maxDurationSeconds?: number;
  factor?: number;
}

/** A burst every twelve and a half minutes on average: a few per demo, yet rare enough to stand out. */
export const DEFAULT_BURST_SLOT_SECONDS = 300;
export const DEFAULT_BURST_PROBABILITY = 0.4;
export const DEFAULT_BURST_MIN_SECONDS = 30;
export const DEFAULT_BURST_MAX_SECONDS = 120;
export const DEFAULT_BURST_FACTOR = 3;

/** The burst in slot `slot`, if it has one; a function of the seed and the slot alone. */
function burstInSlot(slot: number, options: BurstOptions): Burst | undefined {
  const slotSeconds = options.slotSeconds ?? DEFAULT_BURST_SLOT_SECONDS;
  const minDuration = options.minDurationSeconds ?? DEFAULT_BURST_MIN_SECONDS;
  const maxDuration = Math.min(options.maxDurationSeconds ?? DEFAULT_BURST_MAX_SECONDS, slotSeconds);
  const random = seededRandom(
    (Math.imul(options.seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(slot, 0xc2b2ae35)) >>> 0,
  );
  if (random() >= (options.probability ?? DEFAULT_BURST_PROBABILITY)) return undefined;
  const duration = minDuration + random() * (maxDuration - minDuration);
  return {
    start: slot * slotSeconds + random() * (slotSeconds - duration),
    duration,
    factor: options.factor ?? DEFAULT_BURST_FACTOR,
  };
}

/** The bursts that start in [fromSeconds, toSeconds), in order; the same seed always gives the same ones. */
export function burstSchedule(fromSeconds: number, toSeconds: number, options: BurstOptions): Burst[] {
  const slotSeconds = options.slotSeconds ?? DEFAULT_BURST_SLOT_SECONDS;
  const bursts: Burst[] = [];
  for (let slot = Math.floor(fromSeconds / slotSeconds); slot * slotSeconds < toSeconds; slot += 1) {
    const burst = burstInSlot(slot, options);
    if (burst && burst.start >= fromSeconds && burst.start < toSeconds) bursts.push(burst);
  }
  return bursts;
}

/** The burst factor in force at `t`: 1 outside bursts. */
export function burstFactorAt(t: number, options: BurstOptions): number {
  const burst = burstInSlot(Math.floor(t / (options.slotSeconds ?? DEFAULT_BURST_SLOT_SECONDS)), options);
  return burst && t >= burst.start && t < burst.start + burst.duration ? burst.factor : 1;
}

export interface LoadPatternOptions {
  /** Real seconds one simulated day lasts: 86400 follows the clock, 600 shows a whole day in ten minutes. */
  dayLengthSeconds?: number;
  /** Leave out for the daily cycle alone. Bursts last real seconds, whatever the day length. */
  bursts?: BurstOptions;
}

/** The traffic multiplier at `t`: the daily rate at that time of day, times any burst in force. */
export function loadMultiplier(t: number, options: LoadPatternOptions = {}): number {
  const daily = dailyRate(timeOfDay(t, options.dayLengthSeconds));
  return options.bursts ? daily * burstFactorAt(t, options.bursts) : daily;
}
