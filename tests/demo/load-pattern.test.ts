import {
  burstFactorAt,
  burstSchedule,
  dailyRate,
  DEFAULT_BURST_FACTOR,
  DEFAULT_BURST_MAX_SECONDS,
  DEFAULT_BURST_MIN_SECONDS,
  DEFAULT_BURST_PROBABILITY,
  DEFAULT_BURST_SLOT_SECONDS,
  loadMultiplier,
  SECONDS_PER_DAY,
  timeOfDay,
} from '../../demo/fleet/load-pattern';

const hour = (h: number) => h * 3600;
const WEEK = 7 * SECONDS_PER_DAY;

describe('load pattern', () => {
  it('has a night trough near 0.2, a midday peak near 1 and an evening bump', () => {
    const samples = Array.from({ length: 24 * 60 }, (_, minute) => dailyRate(minute * 60));
    const trough = Math.min(...samples);
    const peak = Math.max(...samples);
    expect(trough).toBeGreaterThanOrEqual(0.18);
    expect(trough).toBeLessThan(0.25);
    expect(peak).toBeGreaterThan(0.95);
    expect(peak).toBeLessThanOrEqual(1.05);
    expect(dailyRate(hour(4))).toBeLessThan(0.3);
    expect(dailyRate(hour(13))).toBeGreaterThan(0.95);
    // A bump of its own: higher than the late afternoon before it and the night after it, lower than midday.
    expect(dailyRate(hour(20))).toBeGreaterThan(dailyRate(hour(18)));
    expect(dailyRate(hour(20))).toBeGreaterThan(dailyRate(hour(22)));
    expect(dailyRate(hour(20))).toBeLessThan(dailyRate(hour(13)));
  });

  it('wraps smoothly around midnight', () => {
    expect(Math.abs(dailyRate(0) - dailyRate(SECONDS_PER_DAY - 1))).toBeLessThan(0.001);
    expect(dailyRate(SECONDS_PER_DAY)).toBeCloseTo(dailyRate(0), 10);
  });

  it('compresses a day into dayLengthSeconds', () => {
    expect(timeOfDay(300, 600)).toBeCloseTo(hour(12), 6);
    expect(timeOfDay(900, 600)).toBeCloseTo(hour(12), 6);
    expect(timeOfDay(-150, 600)).toBeCloseTo(hour(18), 6);
    expect(loadMultiplier(325, { dayLengthSeconds: 600 })).toBeCloseTo(dailyRate(hour(13)), 10);
    expect(loadMultiplier(hour(13))).toBeCloseTo(dailyRate(hour(13)), 10);
  });

  it('gives the same bursts for the same seed and different ones for another', () => {
    const a = burstSchedule(0, WEEK, { seed: 42 });
    expect(burstSchedule(0, WEEK, { seed: 42 })).toEqual(a);
    expect(burstSchedule(0, WEEK, { seed: 43 })).not.toEqual(a);
  });

  it('keeps bursts within their bounds, apart and about as frequent as asked', () => {
    const bursts = burstSchedule(0, WEEK, { seed: 7 });
    for (const burst of bursts) {
      expect(burst.duration).toBeGreaterThanOrEqual(DEFAULT_BURST_MIN_SECONDS);
      expect(burst.duration).toBeLessThanOrEqual(DEFAULT_BURST_MAX_SECONDS);
      expect(burst.factor).toBe(DEFAULT_BURST_FACTOR);
      expect(burst.start).toBeGreaterThanOrEqual(0);
      expect(burst.start).toBeLessThan(WEEK);
    }
    for (let i = 1; i < bursts.length; i += 1) {
      expect(bursts[i]!.start).toBeGreaterThanOrEqual(bursts[i - 1]!.start + bursts[i - 1]!.duration);
    }
    const expected = (WEEK / DEFAULT_BURST_SLOT_SECONDS) * DEFAULT_BURST_PROBABILITY;
    expect(bursts.length).toBeGreaterThan(expected * 0.8);
    expect(bursts.length).toBeLessThan(expected * 1.2);
  });

  it('multiplies the daily rate by the burst factor inside a burst and only there', () => {
    const options = { dayLengthSeconds: 600, bursts: { seed: 3 } };
    const [burst] = burstSchedule(0, WEEK, options.bursts);
    expect(burst).toBeDefined();
    const inside = burst!.start + burst!.duration / 2;
    const after = burst!.start + burst!.duration + 1;
    expect(burstFactorAt(inside, options.bursts)).toBe(DEFAULT_BURST_FACTOR);
    expect(loadMultiplier(inside, options)).toBeCloseTo(
      DEFAULT_BURST_FACTOR * loadMultiplier(inside, { dayLengthSeconds: 600 }),
      10,
    );
    expect(burstFactorAt(after, options.bursts)).toBe(1);
    expect(loadMultiplier(after, options)).toBeCloseTo(loadMultiplier(after, { dayLengthSeconds: 600 }), 10);
  });

  it('agrees between the schedule and the factor at any time', () => {
    const options = { seed: 11 };
    const bursts = burstSchedule(0, SECONDS_PER_DAY, options);
    const inBurst = (t: number) => bursts.some((b) => t >= b.start && t < b.start + b.duration);
    for (let t = 0; t < SECONDS_PER_DAY; t += 7) {
      expect(burstFactorAt(t, options)).toBe(inBurst(t) ? DEFAULT_BURST_FACTOR : 1);
    }
  });
});
