/** The request rate is measured over this many seconds, long enough to ride out a single quiet second. */
const CPU_RATE_WINDOW_SECONDS = 10;
/** Time constant of the smoothing: a load change shows fully after a few scrapes, as a real CPU graph does. */
const SMOOTHING_SECONDS = 3;
/** What an idle process burns on timers and GC; with the noise it reads 0.02–0.04. */
const IDLE_UTILISATION = 0.03;
const NOISE_AMPLITUDE = 0.01;

/**
 * A CPU utilisation driven by the request rate instead of real work, so one laptop can run the whole fleet
 * yet each service looks loaded in proportion to its traffic: rate / capacity, smoothed, plus a little noise.
 */
export class SimulatedCpu {
  /** Requests per second for the last CPU_RATE_WINDOW_SECONDS seconds, indexed by epoch second mod window. */
  private readonly counts = new Array<number>(CPU_RATE_WINDOW_SECONDS).fill(0);
  private countsSecond: number;
  private readonly startedAt: number;
  private smoothedLoad = 0;
  private smoothedAt: number;

  constructor(
    private readonly capacityRps: number,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    if (!(capacityRps > 0)) throw new RangeError('capacityRps must be positive');
    this.startedAt = now();
    this.smoothedAt = this.startedAt;
    this.countsSecond = Math.floor(this.startedAt / 1000);
  }

  recordRequest(): void {
    this.advance();
    this.counts[this.countsSecond % CPU_RATE_WINDOW_SECONDS]! += 1;
  }

  /** Smoothed load without noise, 0..1: what slows requests down. */
  load(): number {
    this.advance();
    const now = this.now();
    const target = Math.min(1, this.rate(now) / this.capacityRps);
    const elapsedSeconds = (now - this.smoothedAt) / 1000;
    this.smoothedLoad += (target - this.smoothedLoad) * (1 - Math.exp(-elapsedSeconds / SMOOTHING_SECONDS));
    this.smoothedAt = now;
    return this.smoothedLoad;
  }

  /** The gauge value, 0..1. */
  utilisation(): number {
    const noise = (this.random() * 2 - 1) * NOISE_AMPLITUDE;
    const value = IDLE_UTILISATION + (1 - IDLE_UTILISATION) * this.load() + noise;
    return Math.min(1, Math.max(0, value));
  }

  private rate(now: number): number {
    const total = this.counts.reduce((sum, n) => sum + n, 0);
    // A process younger than the window has seen fewer seconds; dividing by the full window would under-read.
    const seconds = Math.min(CPU_RATE_WINDOW_SECONDS, Math.max(1, (now - this.startedAt) / 1000));
    return total / seconds;
  }

  /** Zeroes the slots of the seconds that passed since the last request or read. */
  private advance(): void {
    const second = Math.floor(this.now() / 1000);
    const passed = Math.min(second - this.countsSecond, CPU_RATE_WINDOW_SECONDS);
    for (let i = 1; i <= passed; i += 1) this.counts[(this.countsSecond + i) % CPU_RATE_WINDOW_SECONDS] = 0;
    this.countsSecond = Math.max(second, this.countsSecond);
  }
}
