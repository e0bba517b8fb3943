/** @jest-environment ./tests/support/onnx-environment.js */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SERVICE_FAILURE_MODEL_FILE } from '../../engines/maintenance/failure-prediction/service-failure-model';
import {
  loadFailurePrediction,
  ServiceFailurePredictor,
} from '../../engines/maintenance/failure-prediction/service-failure-predictor';
import {
  exportFailureModel,
  failureModelMetadata,
  type FailureModel,
} from '../../engines/orchestrator/prediction/failure-model';
import { failingSoon, healthy, serviceSignals } from './service-signals-fixture';

const SHIPPED_MODEL = path.resolve(__dirname, '../..', SERVICE_FAILURE_MODEL_FILE);

describe('ServiceFailurePredictor with the shipped model', () => {
  let predictor: ServiceFailurePredictor;
  beforeAll(async () => {
    predictor = await ServiceFailurePredictor.load(SHIPPED_MODEL);
  });
  afterAll(() => predictor.release());

  it('names the model it runs and how well it did on held-out timelines', () => {
    expect(predictor.description).toMatch(
      /^service-failure@1\.0\.0 \(.*service-failure\.onnx, held-out AUC 0\.\d\d\)$/,
    );
  });

  it('ranks a service with clear precursors above a healthy one, highest risk first', async () => {
    const risks = await predictor.predict([healthy('payments'), failingSoon('checkout')]);
    expect(risks.map((r) => r.service)).toEqual(['checkout', 'payments']);
    const [sick, well] = risks;
    expect(sick?.level).toBe('high');
    expect(well?.level).toBe('low');
    expect(well?.risk).toBeLessThan(0.1);
    expect(sick?.environment).toBe('production');
  });

  it('explains a risk by the signals that raised it, in plain words', async () => {
    const [sick] = await predictor.predict([failingSoon()]);
    expect(sick?.reasons.length).toBeGreaterThan(0);
    expect(sick?.reasons.length).toBeLessThanOrEqual(3);
    for (const reason of sick?.reasons ?? []) {
      expect(reason).toMatch(/health|latency|error rate|CPU|restart/);
    }

    const [slow] = await predictor.predict([
      serviceSignals({ p95Seconds: (m) => (m < 10 ? 0.6 : 0.15), healthMs: (m) => (m < 10 ? 80 : 20) }),
    ]);
    expect(slow?.reasons).toContain('health checks 4× slower than usual (80 ms vs 20 ms)');
    expect(slow?.reasons).toContain('p95 latency 4× its usual (600 ms vs 150 ms)');

    const [restarting] = await predictor.predict([serviceSignals({ restarts: 5 })]);
    expect(restarting?.reasons[0]).toBe('5 replica restarts in the last hour');

    const failedAgo = new Set([2, 15, 16, 30, 44, 58]);
    const [flapping] = await predictor.predict([serviceSignals({ failed: (m) => failedAgo.has(m) })]);
    expect(flapping?.reasons.join('; ')).toMatch(/health checks failed|health check failed|health flipped/);
    expect(flapping?.risk).toBeGreaterThan((await predictor.predict([serviceSignals()]))[0]?.risk as number);
  });

  it('ranks a service failing right now as high risk, not as a recovery', async () => {
    const [down] = await predictor.predict([
      serviceSignals({
        failed: (m) => m < 5,
        p95Seconds: (m) => (m < 5 ? 2 : 0.15),
        errorRate: (m) => (m < 5 ? 0.8 : 0.002),
        cpu: () => 0.35,
      }),
    ]);
    expect(down?.level).toBe('high');
    expect(down?.reasons.join('; ')).toMatch(/error rate 40% in the last 10 min/);
  });

  it('gives no reason for a missing metric', async () => {
    const [bare] = await predictor.predict([serviceSignals()]);
    expect(bare?.reasons.join(' ')).not.toMatch(/missing|metric/);
  });

  it('predicts nothing for no services', async () => {
    await expect(predictor.predict([])).resolves.toEqual([]);
  });
});

describe('loadFailurePrediction', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'opsbot-failures-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('turns prediction on with the shipped model', async () => {
    const prediction = await loadFailurePrediction();
    expect(prediction.on).toBe(true);
    if (prediction.on) await prediction.predictor.release?.();
  });

  it('turns prediction off, saying why, when the model is missing', async () => {
    const missing = path.join(dir, 'service-failure.onnx');
    const prediction = await loadFailurePrediction(missing);
    expect(prediction).toEqual({ on: false, reason: expect.stringContaining('service-failure.json') });
  });

  it('turns prediction off for a model trained on other features', async () => {
    const features = ['failed_checks_recent', 'restarts_hour'];
    const model: FailureModel = {
      features,
      mean: [0, 0],
      scale: [1, 1],
      coefficients: [1, 1],
      intercept: 0,
    };
    const file = path.join(dir, 'service-failure.onnx');
    await writeFile(file, exportFailureModel(model));
    const card = failureModelMetadata(model, {
      metrics: {},
      trainedAt: new Date(0).toISOString(),
      dataHash: 'x',
      description: '',
    });
    await writeFile(file.replace(/\.onnx$/, '.json'), JSON.stringify(card));
    const prediction = await loadFailurePrediction(file);
    expect(prediction).toEqual({ on: false, reason: expect.stringContaining('npm run train:failures') });
  });
});
