import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ForecastErrorBand } from '../../engines/scaler/forecast-error-band';
import { HpaAutoscaler } from '../../bench/scaler-sim/hpa-autoscaler';
import type { LoadTrace } from '../../bench/scaler-sim/load-trace';
import { PredictiveAutoscaler } from '../../bench/scaler-sim/predictive-autoscaler';
import { simulate, type SimulationSetup } from '../../bench/scaler-sim/simulation';
import { StaticAutoscaler } from '../../bench/scaler-sim/static-autoscaler';
import { readTraceFile } from '../../bench/scaler-sim/trace-file';
import { InsufficientHistoryError } from '../../engines/scaler/forecast/forecast-input';
import type { Forecaster } from '../../engines/scaler/forecast/forecaster';
import type { ScalingPolicy } from '../../engines/scaler/replica-planner';

const STEP = 15;
const BUCKET = 300;
const STARTUP = 60;
/** A midnight, so buckets and minutes line up with the steps. */
const START = 1_767_571_200;
/** One replica serves 10/s: 5 at the 50% target, 9 at the 90% SLA ceiling. */
const CAPACITY = 10;
const TARGET = 0.5;
const LOW = 20;
const HIGH = 50;
const RISE = START + 3600;

const SETUP: SimulationSetup = {
  capacityPerReplica: CAPACITY,
  startupSeconds: STARTUP,
  utilisationCeiling: 0.9,
  costPerReplicaHour: 0.25,
  warmUpSteps: 0,
};

const POLICY: ScalingPolicy = {
  minReplicas: 1,
  maxReplicas: 100,
  targetUtilisation: TARGET,
  utilisationCeiling: 0.9,
  capacityPerReplica: CAPACITY,
  scaleUpCooldownSeconds: 0,
  scaleDownCooldownSeconds: 300,
  startupSeconds: STARTUP,
  intervalSeconds: STEP,
};

/** Two hours: LOW until RISE, HIGH after it. */
function stepTrace(): LoadTrace {
  const rates = Float64Array.from({ length: (2 * 3600) / STEP }, (_, i) =>
    START + i * STEP < RISE ? LOW : HIGH,
  );
  return { name: 'step', source: 'test', start: START, stepSeconds: STEP, rates };
}

/** Knows the trace: forecasts the true mean of each bucket after the history it is given. */
class PerfectForecaster implements Forecaster {
  readonly name = 'perfect';

  constructor(private readonly trace: LoadTrace) {}

  async forecast(history: readonly number[], horizon: number): Promise<number[]> {
    if (history.length === 0) throw new InsufficientHistoryError(this.name, 1, 0, 'one bucket');
    const perBucket = BUCKET / STEP;
    return Array.from({ length: horizon }, (_, h) => {
      const first = (history.length + h) * perBucket;
      const bucket = this.trace.rates.slice(first, first + perBucket);
      return bucket.length === 0
        ? (this.trace.rates.at(-1) as number)
        : bucket.reduce((a, b) => a + b) / bucket.length;
    });
  }
}

describe('scaler simulation on a step change', () => {
  const trace = stepTrace();

  it('reactive (HPA) violates for the start-up delay plus the sync that sees the step', async () => {
    const hpa = new HpaAutoscaler({
      targetUtilisation: TARGET,
      capacityPerReplica: CAPACITY,
      minReplicas: 1,
      maxReplicas: 100,
    });
    const result = await simulate(trace, hpa, SETUP);
    // The step at RISE is seen at RISE + 15 s; replicas asked for then serve from RISE + 75 s.
    expect(result.violationSeconds).toBe(STARTUP + STEP);
    // RISE is on a minute: its minute and the next one (RISE + 60 s is still short) are in violation.
    expect(result.violationMinutes).toBe(2);
    expect(result.minutes).toBe(120);
  });

  it('predictive with a perfect forecast is ready before the step', async () => {
    const predictive = new PredictiveAutoscaler({
      policy: POLICY,
      candidates: [new PerfectForecaster(trace)],
      bucketSeconds: BUCKET,
      historyBuckets: 1000,
      reselectSeconds: 86_400,
      backtestSeconds: 600,
      bandQuantile: 0.999,
      bandNeighbourShare: 0.2,
      bandSeconds: 86_400,
      bandMinSamples: 40,
      bandRefreshSeconds: 3600,
    });
    const result = await simulate(trace, predictive, SETUP);
    expect(result.violationMinutes).toBe(0);
    expect(result.peakReplicas).toBe(HIGH / (CAPACITY * TARGET));
    // Four replicas for LOW the first hour (plus the 75 s of look-ahead at ten), ten for HIGH the second.
    const expected = (4 * (3600 - STARTUP - STEP) + 10 * (3600 + STARTUP + STEP)) / 3600;
    expect(result.replicaHours).toBeCloseTo(expected, 6);
    expect(predictive.selections.map((s) => s.chosen)).toContain('perfect');
  });

  it('static peak never violates and costs its replicas for every hour', async () => {
    const fixed = StaticAutoscaler.forPeak(HIGH, CAPACITY, TARGET);
    const result = await simulate(trace, fixed, SETUP);
    expect(fixed.replicas).toBe(10);
    expect(result).toMatchObject({ violationMinutes: 0, violationSeconds: 0, scaleActions: 0 });
    expect(result.replicaHours).toBeCloseTo(10 * 2, 9);
    expect(result.cost).toBeCloseTo(10 * 2 * SETUP.costPerReplicaHour, 9);
  });

  it('leaves the warm-up unscored', async () => {
    const hpa = new HpaAutoscaler({
      targetUtilisation: TARGET,
      capacityPerReplica: CAPACITY,
      minReplicas: 1,
      maxReplicas: 100,
    });
    const result = await simulate(trace, hpa, { ...SETUP, warmUpSteps: (RISE + 3600 - 1800 - START) / STEP });
    expect(result).toMatchObject({ minutes: 30, violationMinutes: 0, scaleActions: 0 });
    expect(result.replicaHours).toBeCloseTo(10 * 0.5, 9);
  });
});

describe('HpaAutoscaler', () => {
  const options = {
    targetUtilisation: TARGET,
    capacityPerReplica: CAPACITY,
    minReplicas: 1,
    maxReplicas: 100,
  };
  const sync = (hpa: HpaAutoscaler, now: number, observed: number, replicas: number, ready = replicas) =>
    hpa.desiredReplicas({ now, observed, stepSeconds: STEP, replicas, readyReplicas: ready });

  it('ignores changes within the 10% tolerance', () => {
    const hpa = new HpaAutoscaler(options);
    expect(sync(hpa, START, 21.9, 4)).toBe(4);
    expect(sync(hpa, START + 15, 18.1, 4)).toBe(4);
    expect(sync(hpa, START + 30, 22.1, 4)).toBe(5);
  });

  it('adds at most max(100%, 4 pods) per sync, counting starting pods as idle', () => {
    const hpa = new HpaAutoscaler(options);
    expect(sync(hpa, START, 100, 2)).toBe(6);
    // 6 asked for, 2 ready: the 4 starting count as idle, so 100 over 6 pods still wants 20.
    expect(sync(hpa, START + 15, 100, 6, 2)).toBe(12);
  });

  it('scales down only to the highest recommendation of the last five minutes', () => {
    const hpa = new HpaAutoscaler(options);
    expect(sync(hpa, START, 50, 10)).toBe(10);
    for (let t = START + 15; t < START + 300; t += 15) expect(sync(hpa, t, 20, 10)).toBe(10);
    expect(sync(hpa, START + 300, 20, 10)).toBe(4);
  });
});

describe('ForecastErrorBand', () => {
  it('widens each level by what was missed at that level', () => {
    // A spike of +30 on a forecast of 10 (×4) and of 100 (×1.3): the ratios differ by level.
    const band = new ForecastErrorBand(1000, 0.99, 0.5);
    for (let i = 0; i < 100; i += 1) {
      band.record(i === 50 ? 40 : 10, 10);
      band.record(i === 50 ? 130 : 100, 100);
    }
    const upper = band.snapshot(200);
    expect(upper?.(10)).toBeCloseTo(40);
    expect(upper?.(100)).toBeCloseTo(130);
    expect(band.snapshot(201)).toBeUndefined();
  });

  it('never narrows below the forecast', () => {
    const band = new ForecastErrorBand(10, 0.9, 1);
    for (let i = 0; i < 10; i += 1) band.record(5, 10);
    expect(band.snapshot(1)?.(10)).toBe(10);
  });
});

describe('readTraceFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'opsbot-scaler-sim-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads CSV with a header and holds each sample until the next', () => {
    const file = path.join(dir, 'trace.csv');
    writeFileSync(file, 'timestamp,rate\n1000,10\n1060,20\n1120,30\n');
    const trace = readTraceFile(file, STEP);
    expect(trace.start).toBe(1000);
    // Three samples a minute apart, the last holding a median spacing: 12 steps of 15 s.
    expect(Array.from(trace.rates)).toEqual([10, 10, 10, 10, 20, 20, 20, 20, 30, 30, 30, 30]);
  });

  it('reads JSON objects or pairs, with ISO dates or epoch milliseconds', () => {
    const objects = path.join(dir, 'objects.json');
    writeFileSync(
      objects,
      JSON.stringify([
        { timestamp: '2026-01-05T00:00:30Z', rate: 2 },
        { timestamp: '2026-01-05T00:00:00Z', rate: 1 },
      ]),
    );
    expect(Array.from(readTraceFile(objects, STEP).rates)).toEqual([1, 1, 2, 2]);
    const pairs = path.join(dir, 'pairs.json');
    writeFileSync(
      pairs,
      JSON.stringify([
        [START * 1000, 5],
        [(START + 30) * 1000, 6],
      ]),
    );
    const trace = readTraceFile(pairs, STEP);
    expect(trace.start).toBe(START);
    expect(Array.from(trace.rates)).toEqual([5, 5, 6, 6]);
  });

  it('rejects a sample it cannot read, naming where it is', () => {
    const file = path.join(dir, 'bad.csv');
    writeFileSync(file, '1000,10\n1060,-3\n');
    expect(() => readTraceFile(file, STEP)).toThrow(/bad\.csv:2/);
  });
});
