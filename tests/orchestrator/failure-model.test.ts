/** @jest-environment ./tests/support/onnx-environment.js */
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode } from '../../bot/core/errors';
import { seededRandom } from '../../bot/core/seeded-random';
import type { MetricKind, MetricQuery, MetricsSource } from '../../bot/metrics/metrics-source';
import {
  exportFailureModel,
  failureModelMetadata,
  failureProbability,
  importFailureModel,
  rocAuc,
  trainFailureModel,
  type FailureModel,
  type TrainingRow,
} from '../../engines/orchestrator/prediction/failure-model';
import {
  FileExecutionHistory,
  HISTORY_FILE,
  readHistory,
  RecentOutcomes,
} from '../../engines/orchestrator/prediction/file-execution-history';
import { OnnxRiskAssessor } from '../../engines/orchestrator/prediction/onnx-risk-assessor';
import {
  FAILURE_FEATURES,
  featureRecord,
  RunFeatureExtractor,
  slowShare,
  type RunOutcomes,
} from '../../engines/orchestrator/prediction/run-features';
import { simulateRuns } from '../../engines/orchestrator/prediction/simulated-history';
import type { RiskQuestion } from '../../engines/orchestrator/risk';
import type { RunStatus, WorkflowRun } from '../../engines/orchestrator/run';
import {
  DEFAULT_POLICY,
  DEFAULT_STEP_RETRY,
  type RiskLevel,
  type WorkflowDefinition,
} from '../../engines/orchestrator/workflow';
import { OnnxModel } from '../../engines/predictors';

const NOW = new Date('2026-03-02T06:00:00Z');

function sagaDefinition(id = 'order-fulfillment', risk: RiskLevel = 'medium'): WorkflowDefinition {
  const step = (stepId: string, mutating: boolean, timeoutMs: number) => ({
    id: stepId,
    action: 'http',
    with: {},
    mutating,
    timeoutMs,
    retry: DEFAULT_STEP_RETRY,
  });
  return {
    kind: 'saga',
    id,
    title: id,
    description: '',
    source: `sagas/${id}.yaml`,
    parameters: { type: 'object', properties: {} },
    policy: { ...DEFAULT_POLICY, risk },
    triggers: { alerts: [], intents: [], schedules: [] },
    steps: [step('reserve', true, 2000), step('charge', true, 1000), step('lookup', false, 5000)],
  };
}

function question(services: string[], definition = sagaDefinition(), now = NOW): RiskQuestion {
  return { definition, params: {}, services, now };
}

/** `latency` is the p95, `p50` the median. */
type Readings = (Partial<Record<MetricKind, number>> & { p50?: number }) | 'down';

/** Answers each metric with one point of a fixed value; a service marked 'down' fails every query. */
function fakeMetrics(readings: Record<string, Readings>): MetricsSource & { queries: MetricQuery[] } {
  const queries: MetricQuery[] = [];
  return {
    description: 'fake',
    queries,
    async query(query) {
      queries.push(query);
      const service = readings[query.service];
      if (service === 'down') throw new Error('connection refused');
      const v = query.metric === 'latency' && query.quantile === 0.5 ? service?.p50 : service?.[query.metric];
      return { metric: query.metric, unit: 'ratio', points: v === undefined ? [] : [{ t: query.end, v }] };
    },
  };
}

/** The definition's runs with these outcomes, oldest first, all ending in the seconds before NOW. */
function outcomesWith(definitionId: string, outcomes: boolean[]): RecentOutcomes {
  const recent = new RecentOutcomes();
  outcomes.forEach((failed, i) =>
    recent.add(definitionId, NOW.getTime() - (outcomes.length - i) * 1000, failed),
  );
  return recent;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Rows from a known relation: logit = −1 + 1.5 · (x0 − 5) / 2 − 0.8 · (x1 − 5) / 2.89; x2 is noise. */
function knownRelation(count: number, seed: number): { rows: TrainingRow[]; trueLogits: number[] } {
  const random = seededRandom(seed);
  const rows: TrainingRow[] = [];
  const trueLogits: number[] = [];
  for (let i = 0; i < count; i++) {
    const x = [5 + 2 * gaussian(random), 10 * random(), gaussian(random)];
    const logit = -1 + (1.5 * ((x[0] as number) - 5)) / 2 - (0.8 * ((x[1] as number) - 5)) / 2.89;
    trueLogits.push(logit);
    rows.push({ features: x, failed: random() < sigmoid(logit) });
  }
  return { rows, trueLogits };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'opsbot-failure-model-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeModel(model: FailureModel, name = 'saga-failure'): Promise<string> {
  const file = path.join(dir, `${name}.onnx`);
  const metadata = failureModelMetadata(model, {
    metrics: { auc: 0.9 },
    trainedAt: NOW.toISOString(),
    dataHash: 'test',
    description: 'test model',
  });
  await writeFile(path.join(dir, `${name}.json`), JSON.stringify(metadata));
  await writeFile(file, exportFailureModel(model));
  return file;
}

describe('rocAuc', () => {
  it('is 1 when every failure outscores every success, 0 when reversed, 0.5 when all tie', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [false, false, true, true])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [false, false, true, true])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5], [true, false, false])).toBe(0.5);
  });

  it('counts ordered pairs, ties as half', () => {
    // Failures 0.35 and 0.8 against successes 0.1 and 0.4: 3 of 4 pairs ordered.
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
    // Failures 0.5, 0.9 against successes 0.5, 0.2: 0.5 + 1 + 1 + 1 of 4.
    expect(rocAuc([0.5, 0.5, 0.2, 0.9], [true, false, false, true])).toBe(0.875);
  });

  it('is NaN with only one class', () => {
    expect(rocAuc([0.1, 0.9], [true, true])).toBeNaN();
  });
});

describe('trainFailureModel', () => {
  const { rows, trueLogits } = knownRelation(4000, 3);
  const train = rows.slice(0, 3000);
  const test = rows.slice(3000);
  const model = trainFailureModel(train, ['x0', 'x1', 'x2']);

  it('recovers the coefficients of a known logistic relation', () => {
    const [c0, c1, c2] = model.coefficients as [number, number, number];
    expect(c0).toBeGreaterThan(1.2);
    expect(c0).toBeLessThan(1.8);
    expect(c1).toBeLessThan(-0.5);
    expect(c1).toBeGreaterThan(-1.1);
    expect(Math.abs(c2)).toBeLessThan(0.15);
    expect(model.intercept).toBeCloseTo(-1, 0);
  });

  it('ranks held-out rows almost as well as the true relation does', () => {
    const labels = test.map((row) => row.failed);
    const trueAuc = rocAuc(trueLogits.slice(3000), labels);
    const auc = rocAuc(
      test.map((row) => failureProbability(model, row.features)),
      labels,
    );
    expect(auc).toBeGreaterThan(0.8);
    expect(auc).toBeGreaterThan(trueAuc - 0.01);
  });

  it('gives the same model for the same rows', () => {
    expect(trainFailureModel(train, ['x0', 'x1', 'x2'])).toEqual(model);
  });

  it('refuses rows of the wrong width with a coded error', () => {
    expect(() => trainFailureModel([{ features: [1, 2], failed: true }], ['x0', 'x1', 'x2'])).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidRequest }),
    );
  });

  it('exports an ONNX model that gives the same probabilities through the predictor runtime', async () => {
    const file = await writeModel(model, 'known');
    const loaded = await OnnxModel.load(file);
    try {
      if (loaded.task !== 'classification') throw new Error(`${file} loaded as a ${loaded.task} model`);
      const sample = test.slice(0, 50);
      const { scores } = await loaded.predictBatch(
        Float32Array.from(sample.flatMap((row) => row.features)),
        50,
      );
      sample.forEach((row, i) => {
        const fail = failureProbability(model, row.features);
        expect(scores[2 * i + 1]).toBeCloseTo(fail, 5);
        expect(scores[2 * i]).toBeCloseTo(1 - fail, 5);
      });
    } finally {
      await loaded.release();
    }
    const imported = importFailureModel(await readFile(file), model.features, file);
    imported.coefficients.forEach((c, i) => expect(c).toBeCloseTo(model.coefficients[i] as number, 5));
    expect(imported.intercept).toBeCloseTo(model.intercept, 5);
  });
});

describe('slowShare', () => {
  const health = {
    service: 'payments',
    errorRatio: 0,
    p50LatencySeconds: 0.2,
    p95LatencySeconds: 1,
    throughputPerSecond: 1,
  };

  it('reads the share of requests over a timeout off the p50 and p95', () => {
    expect(slowShare(health, 0.1)).toBeCloseTo(0.75, 10); // half way to the p50
    expect(slowShare(health, 0.2)).toBeCloseTo(0.5, 10);
    expect(slowShare(health, 0.6)).toBeCloseTo(0.275, 10); // half way from the p50 to the p95
    expect(slowShare(health, 1)).toBeCloseTo(0.05, 10);
    expect(slowShare(health, 1.5)).toBeCloseTo(0.025, 10);
    expect(slowShare(health, 2)).toBe(0);
  });

  it('is 0 for a service with no latency reading', () => {
    expect(slowShare({ ...health, p50LatencySeconds: 0, p95LatencySeconds: 0 }, 1)).toBe(0);
  });
});

describe('RunFeatureExtractor', () => {
  it('computes the features from the targets’ metrics and the history, a failing query as neutral', async () => {
    const metrics = fakeMetrics({
      payments: { error_rate: 0.31, latency: 0.4, throughput: 9 },
      orders: { error_rate: 0.05, latency: 1.5, p50: 0.3, throughput: 99 },
      inventory: 'down',
    });
    const outcomes = new RecentOutcomes();
    outcomes.add('other', NOW.getTime() - 7200_000, true); // ended two hours ago: not in the last hour
    [true, false, false, true, false, true, false, false, false, false].forEach((failed, i) =>
      outcomes.add('order-fulfillment', NOW.getTime() - (10 - i) * 1000, failed),
    );
    const extractor = new RunFeatureExtractor({ metrics, outcomes });
    const { values, inputs } = await extractor.extract(question(['payments', 'orders', 'inventory']));
    const features = featureRecord(values);
    expect(features).toMatchObject({
      steps: 3,
      mutating_steps: 2,
      services: 3,
      max_error_ratio: 0.31,
      max_p95_latency_seconds: 1.5,
      // Against the shortest step timeout, 1 s.
      p95_to_timeout_ratio: 1.5,
      p50_to_timeout_ratio: 0.3,
      max_throughput_log10: 2,
      definition_failure_ratio: 0.3,
      recent_failure_ratio: 0.3,
      declared_risk: 1,
    });
    expect(features.mean_error_ratio).toBeCloseTo(0.12, 10);
    // Attempts that fail: payments 31% (errors; 400 ms is under the 1 s timeout), orders 1 − 0.95 × (1 − 0.5 +
    // 0.45 × 0.7 / 1.2) = 29.9% (errors, and requests over 1 s between its p50 and p95); three attempts each.
    const ordersFail = 1 - 0.95 * (1 - (0.5 - (0.45 * 0.7) / 1.2));
    const compounded = 1 - (1 - 0.31 ** 3) * (1 - ordersFail ** 3);
    expect(features.compounded_failure_log_odds).toBeCloseTo(Math.log(compounded / (1 - compounded)), 10);
    // 06:00 UTC is a quarter of the way round the clock.
    expect(features.hour_sin).toBeCloseTo(1, 10);
    expect(features.hour_cos).toBeCloseTo(0, 10);
    expect(inputs.targets.find((t) => t.service === 'inventory')).toEqual({
      service: 'inventory',
      errorRatio: 0,
      p95LatencySeconds: 0,
      p50LatencySeconds: 0,
      throughputPerSecond: 0,
    });
    expect(metrics.queries[0]).toMatchObject({
      environment: 'production',
      start: NOW.getTime() - 300_000,
      end: NOW.getTime(),
      stepSeconds: 60,
    });
  });

  it('reads each service’s metrics once per cache period, even for runs that start together', async () => {
    const metrics = fakeMetrics({ payments: { error_rate: 0.1 } });
    const outcomes: RunOutcomes = new RecentOutcomes();
    const extractor = new RunFeatureExtractor({ metrics, outcomes, cacheMs: 5000 });
    await Promise.all([extractor.extract(question(['payments'])), extractor.extract(question(['payments']))]);
    await extractor.extract(question(['payments'], sagaDefinition(), new Date(NOW.getTime() + 4000)));
    expect(metrics.queries).toHaveLength(4); // error rate, p95, p50 and throughput, once
  });

  it('serves the previous reading while it reads the next, unless the previous one is old', async () => {
    const payments = { error_rate: 0.1 };
    const metrics = fakeMetrics({ payments });
    const extractor = new RunFeatureExtractor({ metrics, outcomes: new RecentOutcomes(), cacheMs: 5000 });
    const errorRatioAt = async (ms: number) => {
      const at = new Date(NOW.getTime() + ms);
      const { values } = await extractor.extract(question(['payments'], sagaDefinition(), at));
      return featureRecord(values).max_error_ratio;
    };
    expect(await errorRatioAt(0)).toBe(0.1);
    payments.error_rate = 0.4;
    // Past the cache period: the next read starts, and this run is scored on the previous one meanwhile.
    expect(await errorRatioAt(6000)).toBe(0.1);
    expect(metrics.queries).toHaveLength(8);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await errorRatioAt(7000)).toBe(0.4);
    payments.error_rate = 0.7;
    // Two periods after the last read began, the previous reading is too old to serve: the run waits.
    expect(await errorRatioAt(17_000)).toBe(0.7);
    expect(metrics.queries).toHaveLength(12);
  });
});

function finishedRun(
  id: string,
  status: RunStatus,
  endedAt: Date,
  definitionId = 'order-fulfillment',
): WorkflowRun {
  return {
    id,
    kind: 'saga',
    definitionId,
    title: definitionId,
    params: { service: 'payments' },
    status,
    steps: [
      {
        id: 'charge',
        action: 'http',
        mutating: true,
        status: 'succeeded',
        attempts: 1,
        idempotencyKey: `${id}:charge`,
        inputs: { service: 'orders' },
        startedAt: new Date(endedAt.getTime() - 2000).toISOString(),
      },
    ],
    actor: 'simulation',
    roles: [],
    trigger: { type: 'simulation' },
    correlationId: id,
    createdAt: new Date(endedAt.getTime() - 3000).toISOString(),
    updatedAt: endedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    version: 5,
  };
}

describe('FileExecutionHistory', () => {
  it('appends one line per run with an outcome and remembers recent outcomes across a restart', async () => {
    const history = new FileExecutionHistory({ stateDir: dir, perDefinition: 3 });
    const at = (minutesAgo: number) => new Date(NOW.getTime() - minutesAgo * 60_000);
    history.record(finishedRun('r1', 'compensated', at(90)), { max_error_ratio: 0.4 });
    history.record(finishedRun('r2', 'succeeded', at(30)));
    history.record(finishedRun('r3', 'cancelled', at(20)));
    history.record(finishedRun('r4', 'failed', at(10)));
    history.record(finishedRun('r5', 'succeeded', at(5)));
    history.record(finishedRun('r6', 'compensated', at(1), 'restart-service'));
    expect(history.ofDefinition('order-fulfillment')).toEqual({ failed: 1, total: 3 });
    await history.close();

    const records = await readHistory(path.join(dir, HISTORY_FILE));
    expect(records.map((r) => [r.runId, r.failed])).toEqual([
      ['r1', true],
      ['r2', false],
      ['r4', true],
      ['r5', false],
      ['r6', true],
    ]);
    expect(records[0]).toMatchObject({
      definitionId: 'order-fulfillment',
      kind: 'saga',
      status: 'compensated',
      steps: 1,
      services: ['payments', 'orders'],
      features: { max_error_ratio: 0.4 },
      startedAt: new Date(at(90).getTime() - 2000).toISOString(),
    });

    // A crash tore the last line; the next start skips it.
    await appendFile(path.join(dir, HISTORY_FILE), '{"runId":"r7","defin');
    const reopened = new FileExecutionHistory({ stateDir: dir, perDefinition: 3 });
    expect(reopened.ofDefinition('order-fulfillment')).toEqual({ failed: 1, total: 3 });
    expect(reopened.ofDefinition('restart-service')).toEqual({ failed: 1, total: 1 });
    // r1 ended 90 minutes ago; r2, r4, r5 and r6 within the hour.
    expect(reopened.inLastHour(NOW)).toEqual({ failed: 2, total: 4 });
    await reopened.close();
  });

  it('records the features the assessor returned with the run’s risk when given none', async () => {
    const history = new FileExecutionHistory({ stateDir: dir });
    const run = finishedRun('r1', 'succeeded', NOW);
    run.risk = {
      probability: 0.1,
      level: 'low',
      reasons: [],
      model: 'saga-failure@1.0.0',
      adjustments: [],
      ...{ features: { steps: 3, max_error_ratio: 0.02 } },
    };
    history.record(run);
    await history.close();
    const [record] = await readHistory(path.join(dir, HISTORY_FILE));
    expect(record?.features).toEqual({ steps: 3, max_error_ratio: 0.02 });
  });

  it('reads only the tail of a long file at start-up', async () => {
    const history = new FileExecutionHistory({ stateDir: dir });
    for (let i = 0; i < 50; i++) history.record(finishedRun(`r${i}`, 'failed', NOW));
    await history.close();
    const line = (await readFile(path.join(dir, HISTORY_FILE), 'utf8')).split('\n')[0] as string;
    const tail = new FileExecutionHistory({ stateDir: dir, tailBytes: (line.length + 1) * 5 + 10 });
    expect(tail.inLastHour(NOW)).toEqual({ failed: 5, total: 5 });
  });
});

describe('OnnxRiskAssessor', () => {
  /** Only error ratio and the definition's own failures matter: P = σ(−3 + 4 · max_error_ratio + 2 · definition_failure_ratio). */
  const handModel: FailureModel = {
    features: FAILURE_FEATURES,
    mean: FAILURE_FEATURES.map(() => 0),
    scale: FAILURE_FEATURES.map(() => 1),
    coefficients: FAILURE_FEATURES.map((name) =>
      name === 'max_error_ratio' ? 4 : name === 'definition_failure_ratio' ? 2 : 0,
    ),
    intercept: -3,
  };

  async function assessor(readings: Record<string, Readings>, outcomes: RunOutcomes) {
    const features = new RunFeatureExtractor({ metrics: fakeMetrics(readings), outcomes });
    return OnnxRiskAssessor.load(await writeModel(handModel), {
      features,
      thresholds: { highRisk: 0.5, mediumRisk: 0.2 },
    });
  }

  it('scores a run, rates its level and names the service and the history behind the score', async () => {
    const outcomes = outcomesWith('order-fulfillment', [
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    const risk = await assessor({ payments: { error_rate: 0.31 }, orders: { error_rate: 0.02 } }, outcomes);
    try {
      const assessment = await risk.assess(question(['orders', 'payments']));
      expect(assessment.probability).toBeCloseTo(sigmoid(-3 + 4 * 0.31 + 2 * 0.3), 5);
      expect(assessment.level).toBe('medium');
      expect(assessment.reasons).toEqual([
        'payments 31% errors in the last 5 min',
        '3 of the last 10 order-fulfillment runs failed',
      ]);
      expect(assessment.model).toBe('saga-failure@1.0.0');
      expect(assessment.features.max_error_ratio).toBe(0.31);
      expect(risk.description).toMatch(/^saga-failure@1\.0\.0 .*AUC 0\.90/);
    } finally {
      await risk.release();
    }
  });

  it('explains a latency-driven score by the share of requests over the step timeout', async () => {
    // P = σ(−5 + (compounded − (−5))) = the compounded estimate itself; the average run's estimate is −5.
    const byAttempts: FailureModel = {
      ...handModel,
      mean: FAILURE_FEATURES.map((name) => (name === 'compounded_failure_log_odds' ? -5 : 0)),
      coefficients: FAILURE_FEATURES.map((name) => (name === 'compounded_failure_log_odds' ? 1 : 0)),
      intercept: -5,
    };
    const features = new RunFeatureExtractor({
      metrics: fakeMetrics({ checkout: { error_rate: 0.01, latency: 3, p50: 1.2 }, orders: {} }),
      outcomes: new RecentOutcomes(),
    });
    const risk = await OnnxRiskAssessor.load(await writeModel(byAttempts), {
      features,
      thresholds: { highRisk: 0.5, mediumRisk: 0.2 },
    });
    try {
      const assessment = await risk.assess(question(['orders', 'checkout']));
      // Requests over the 1 s timeout: 1 − 0.5 · 1 / 1.2 of them; with 1% errors, 3 attempts must all fail.
      const attemptFails = 1 - 0.99 * (0.5 / 1.2);
      expect(assessment.probability).toBeCloseTo(attemptFails ** 3, 5);
      expect(assessment.level).toBe('medium');
      expect(assessment.reasons).toEqual([
        'checkout 58% of requests slower than the 1 s step timeout in the last 5 min',
      ]);
    } finally {
      await risk.release();
    }
  });

  it('gives each of many concurrent runs its own score', async () => {
    const readings = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [`service-${i}`, { error_rate: i / 12 }]),
    );
    const risk = await assessor(readings, new RecentOutcomes());
    try {
      const assessments = await Promise.all(
        Object.keys(readings).map((service) => risk.assess(question([service]))),
      );
      assessments.forEach((assessment, i) => {
        expect(assessment.probability).toBeCloseTo(sigmoid(-3 + (4 * i) / 12), 5);
      });
      expect(assessments.map((a) => a.level)).toContain('high');
      expect(assessments.map((a) => a.level)).toContain('low');
    } finally {
      await risk.release();
    }
  });

  it('refuses a model trained on other features', async () => {
    const other = trainFailureModel(knownRelation(200, 1).rows, ['x0', 'x1', 'x2']);
    const file = await writeModel(other, 'other');
    await expect(
      OnnxRiskAssessor.load(file, {
        features: new RunFeatureExtractor({ metrics: fakeMetrics({}), outcomes: new RecentOutcomes() }),
        thresholds: { highRisk: 0.5, mediumRisk: 0.2 },
      }),
    ).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid, message: expect.stringMatching(/train:saga/) });
  });
});

describe('simulateRuns', () => {
  const runs = simulateRuns({ runs: 3000, seed: 5 });

  it('repeats for a seed and fails a plausible share of runs', () => {
    expect(simulateRuns({ runs: 200, seed: 5 })).toEqual(simulateRuns({ runs: 200, seed: 5 }));
    expect(simulateRuns({ runs: 200, seed: 6 })).not.toEqual(simulateRuns({ runs: 200, seed: 5 }));
    const failureRate = runs.filter((run) => run.failed).length / runs.length;
    expect(failureRate).toBeGreaterThan(0.03);
    expect(failureRate).toBeLessThan(0.3);
  });

  it('hides a process the failure model can learn, led by failed attempts compounded over retries', () => {
    const model = trainFailureModel(runs.slice(0, 2400), FAILURE_FEATURES);
    const test = runs.slice(2400);
    const auc = rocAuc(
      test.map((run) => failureProbability(model, run.features)),
      test.map((run) => run.failed),
    );
    expect(auc).toBeGreaterThan(0.75);
    const strongest = model.coefficients.reduce(
      (best, c, i, all) => (Math.abs(c) > Math.abs(all[best] as number) ? i : best),
      0,
    );
    expect(FAILURE_FEATURES[strongest]).toBe('compounded_failure_log_odds');
    expect(model.coefficients[strongest]).toBeGreaterThan(0);
  });
});
