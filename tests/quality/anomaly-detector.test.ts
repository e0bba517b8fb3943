import { seededRandom } from '../../bot/core/seeded-random';
import {
  AnomalyDetector,
  detectAnomalies,
  type SeriesPoint,
} from '../../engines/quality/data/anomaly-detector';

const HOUR = 3_600_000;
const START = Date.parse('2026-11-01T00:00:00Z');
const NOISE = 4;

/** Standard normal noise from a seeded generator (Box–Muller), so every run sees the same series. */
function gaussian(seed: number): () => number {
  const random = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** The noiseless daily cycle: 40 at 02:00, 160 at 14:00. */
function expected(index: number): number {
  return 100 + 60 * Math.sin((2 * Math.PI * ((index % 24) - 8)) / 24);
}

/** Hourly points over `days` days with a daily cycle and normal noise of σ = 4; `shifts` adds to some hours. */
function hourly(days: number, seed: number, shifts: Record<number, number> = {}): SeriesPoint[] {
  const noise = gaussian(seed);
  return Array.from({ length: days * 24 }, (_, i) => ({
    t: START + i * HOUR,
    v: expected(i) + NOISE * noise() + (shifts[i] ?? 0),
  }));
}

function indexOf(t: number): number {
  return Math.round((t - START) / HOUR);
}

describe('AnomalyDetector on a daily cycle', () => {
  const spikes = [175, 205, 260, 290];
  const drops = [190, 250, 317];
  const shifts = Object.fromEntries([
    ...spikes.map((i) => [i, 45] as const),
    ...drops.map((i) => [i, -40] as const),
  ]);

  it.each([1, 2, 3, 4, 5])('finds every planted spike and drop, and little else (seed %i)', (seed) => {
    const found = detectAnomalies(hourly(14, seed, shifts), { season: 24 });
    const byIndex = new Map(found.map((a) => [indexOf(a.t), a]));
    for (const i of spikes) expect(byIndex.get(i)?.direction).toBe('spike');
    for (const i of drops) expect(byIndex.get(i)?.direction).toBe('drop');
    const planted = new Set([...spikes, ...drops]);
    expect(found.filter((a) => !planted.has(indexOf(a.t))).length).toBeLessThanOrEqual(2);
  });

  it('raises false alarms on pure noise at about the rate of its threshold', () => {
    // 3.5σ: 4.7 in 10,000 for exactly known normal noise; a spread estimated from 100 residuals adds some.
    let alarms = 0;
    for (let seed = 100; seed < 110; seed++)
      alarms += detectAnomalies(hourly(84, seed), { season: 24 }).length;
    expect(alarms / (10 * 84 * 24)).toBeLessThan(20 / 10_000);
  });

  it('judges a busy hour by the spread of busy hours, when noise grows with the level', () => {
    // Requests per second: 5% noise on a 40–185 cycle is ±2 at night and ±9 at the peak.
    const noise = gaussian(21);
    const points = Array.from({ length: 14 * 24 }, (_, i) => ({
      t: START + i * HOUR,
      v:
        (110 + 75 * Math.sin((2 * Math.PI * ((i % 24) - 8)) / 24)) * (1 + 0.05 * noise()) +
        (i === 290 ? 60 : 0),
    }));
    const found = detectAnomalies(points, { season: 24 });
    expect(found.map((a) => indexOf(a.t))).toContain(290);
    expect(found.length).toBeLessThanOrEqual(2);
  });

  it('explains an anomaly: value, time, robust σ, direction and the seasonal baseline it came from', () => {
    const found = detectAnomalies(hourly(14, 1, { [206]: 150 }), { season: 24 });
    const spike = found.find((a) => indexOf(a.t) === 206);
    expect(spike).toBeDefined();
    const { value, baseline, score, explanation } = spike!;
    expect(baseline).toBeGreaterThan(expected(206) - 3 * NOISE);
    expect(baseline).toBeLessThan(expected(206) + 3 * NOISE);
    expect(score).toBeGreaterThan(10);
    expect(explanation).toBe(
      `${Math.round(value)} at 2026-11-09T14:00:00Z is ${score.toFixed(1)} robust σ above its seasonal baseline ` +
        `${Math.round(baseline)} (median of the last 4 values at this hour of the cycle)`,
    );
  });

  it('says "below" for a drop, and names the one value a one-season history has', () => {
    // Half-hourly points with a daily cycle: a step with no name of its own is "this point of the cycle".
    const noise = gaussian(2);
    const points = Array.from({ length: 48 * 4 }, (_, i) => ({
      t: START + i * (HOUR / 2),
      v: expected(i / 2) + NOISE * noise() - (i === 160 ? 70 : 0),
    }));
    const [drop] = detectAnomalies(points, { season: 48, seasons: 1 });
    expect(drop).toMatchObject({ t: START + 80 * HOUR, direction: 'drop' });
    expect(drop!.score).toBeLessThan(-3.5);
    expect(drop!.explanation).toMatch(
      /^\d+(\.\d+)? at 2026-11-04T08:00:00Z is \d+\.\d robust σ below its seasonal baseline \d+(\.\d+)? \(the value at this point of the cycle one season earlier\)$/,
    );
  });

  it('is not poisoned by a sustained run: the run is found whole, and the baseline after it is the old one', () => {
    const run = Array.from({ length: 8 }, (_, k) => 200 + k);
    const points = hourly(14, 3, Object.fromEntries(run.map((i) => [i, 50])));
    const detector = new AnomalyDetector({ season: 24 });
    const found = points.map((p) => detector.observe(p.t, p.v));
    for (const i of run) expect(found[i]?.direction).toBe('spike');
    // The day after, at the same hours: no drops from a baseline dragged up, and a probe spike's baseline is
    // still the cycle's value there.
    expect(found.slice(208).filter((a) => a !== undefined)).toHaveLength(0);
    const probe = detectAnomalies(
      hourly(14, 3, { ...Object.fromEntries(run.map((i) => [i, 50])), [227]: 60 }),
      { season: 24 },
    ).find((a) => indexOf(a.t) === 227);
    expect(probe).toBeDefined();
    expect(Math.abs(probe!.baseline - expected(227))).toBeLessThan(2 * NOISE);
  });

  it('follows a lasting change of level in the end, instead of flagging it forever', () => {
    const shifts = Object.fromEntries(Array.from({ length: 24 * 7 }, (_, k) => [24 * 7 + k, 30]));
    const found = detectAnomalies(hourly(14, 4, shifts), { season: 24 });
    expect(found.filter((a) => indexOf(a.t) >= 24 * 12)).toHaveLength(0);
  });

  it('keeps the phase across a missing point', () => {
    const points = hourly(14, 5, { [250]: 45 }).filter((_, i) => i !== 100);
    const found = detectAnomalies(points, { season: 24 });
    expect(found.map((a) => indexOf(a.t))).toContain(250);
    const spike = found.find((a) => indexOf(a.t) === 250)!;
    expect(Math.abs(spike.baseline - expected(250))).toBeLessThan(2 * NOISE);
  });

  it('judges nothing during the warm-up, and an odd value then does not become a baseline', () => {
    const found = detectAnomalies(hourly(14, 6, { [40]: 80 }), { season: 24 });
    // The odd value is at 16:00; a baseline made of it would turn every later 16:00 into a drop.
    expect(found.filter((a) => indexOf(a.t) % 24 === 16)).toEqual([]);
  });

  it('streams: observe point by point gives what the batch gives', () => {
    const points = hourly(10, 7, { [150]: 50 });
    const detector = new AnomalyDetector({ season: 24 });
    const streamed = points.flatMap((p) => detector.observe(p.t, p.v) ?? []);
    expect(streamed).toEqual(detectAnomalies(points, { season: 24 }));
  });
});

describe('AnomalyDetector without a season', () => {
  function level(count: number, seed: number, shifts: Record<number, number> = {}): SeriesPoint[] {
    const noise = gaussian(seed);
    return Array.from({ length: count }, (_, i) => ({
      t: START + i * 60_000,
      v: 50 + 2 * noise() + (shifts[i] ?? 0),
    }));
  }

  it.each([0, 1, 2, 3, 4])('scores against the smoothed level and says so (seed %i)', (seed) => {
    const found = detectAnomalies(level(200, seed, { [120]: 30, [160]: -25 }));
    expect(found.map((a) => [(a.t - START) / 60_000, a.direction])).toEqual([
      [120, 'spike'],
      [160, 'drop'],
    ]);
    expect(found[0]!.explanation).toMatch(
      /^\d+(\.\d+)? at 2026-11-01T02:00:00Z is \d+\.\d robust σ above its baseline \d+(\.\d+)? \(the smoothed level of the values before it\)$/,
    );
  });

  it('keeps the level through a short run of outliers', () => {
    const run = Object.fromEntries(Array.from({ length: 6 }, (_, k) => [100 + k, 40]));
    const detector = new AnomalyDetector();
    const found = level(200, 9, run).map((p) => detector.observe(p.t, p.v));
    expect(found.slice(100, 106).every((a) => a?.direction === 'spike')).toBe(true);
    expect(found.slice(106).filter((a) => a !== undefined)).toHaveLength(0);
  });

  it('measures a change of a series that never moved, with a finite score', () => {
    const points = Array.from({ length: 60 }, (_, i) => ({ t: START + i * HOUR, v: i === 45 ? 11 : 10 }));
    const found = detectAnomalies(points);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ value: 11, baseline: 10, direction: 'spike' });
    expect(Number.isFinite(found[0]!.score)).toBe(true);
  });
});

describe('AnomalyDetector input', () => {
  it('refuses bad options', () => {
    expect(() => new AnomalyDetector({ season: 1.5 })).toThrow('season');
    expect(() => new AnomalyDetector({ threshold: 0 })).toThrow('threshold');
    expect(() => new AnomalyDetector({ alpha: 2 })).toThrow('alpha');
    expect(() => new AnomalyDetector({ warmup: -1 })).toThrow('warmup');
    expect(() => new AnomalyDetector({ seasons: 0 })).toThrow('seasons');
  });

  it('refuses points out of time order and values that are not numbers', () => {
    const detector = new AnomalyDetector();
    detector.observe(2000, 1);
    expect(() => detector.observe(1000, 1)).toThrow('time order');
    expect(() => detector.observe(3000, Number.NaN)).toThrow('finite');
  });
});
