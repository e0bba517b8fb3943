/** @jest-environment ./tests/support/onnx-environment.js */
import fs from 'node:fs';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ErrorCode } from '../../bot/core/errors';
import { ModelRegistry, OnnxModel, PredictorError, type AnyOnnxModel } from '../../engines/predictors';
import {
  binaryTreeClassifierModel,
  linearRegressionModel,
  softmaxRegressionModel,
  writeModelFiles,
} from '../support/onnx-models';

const HEALTH = {
  features: ['cpu', 'memory', 'errors'],
  labels: ['healthy', 'degraded', 'down'],
  weights: [
    [-1, 0.5, 1.5],
    [-0.5, 1, 0.25],
    [-2, 0.75, 3],
  ],
  bias: [1, 0, -1],
};

const healthModel = () =>
  softmaxRegressionModel({ input: 'x', output: 'probs', weights: HEALTH.weights, bias: HEALTH.bias });

const healthMetadata = (overrides: object = {}) => ({
  name: 'health',
  version: '1.0.0',
  task: 'classification',
  input: { name: 'x', features: HEALTH.features },
  outputs: { probabilities: 'probs' },
  labels: HEALTH.labels,
  metrics: { accuracy: 0.93, f1: 0.91 },
  trainedAt: '2026-11-20T10:00:00Z',
  dataHash: 'sha256:abc',
  ...overrides,
});

/** The same model worked out by hand: softmax(x · W + b). */
function healthProbabilities(x: number[]): number[] {
  const logits = HEALTH.bias.map((b, c) => b + x.reduce((sum, v, f) => sum + v * HEALTH.weights[f]![c]!, 0));
  const top = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

const DISK = { left: [0.8, 0.2] as [number, number], right: [0.1, 0.9] as [number, number] };
const diskModel = () =>
  binaryTreeClassifierModel({
    input: 'features',
    features: 2,
    threshold: 0.5,
    left: DISK.left,
    right: DISK.right,
  });
const diskMetadata = {
  name: 'disk',
  version: '2',
  task: 'classification',
  input: { name: 'features', features: ['usage', 'growth'] },
  outputs: { probabilities: 'probabilities', label: 'label' },
  labels: ['ok', 'full'],
};

const latencyModel = (intercept = 3) =>
  linearRegressionModel({ input: 'load', output: 'variable', coefficients: [2, -1, 0.5], intercept });
const latencyMetadata = (overrides: object = {}) => ({
  name: 'latency',
  version: '0.3.1',
  task: 'regression',
  input: { name: 'load', features: ['rps', 'cacheHit', 'pods'] },
  outputs: { value: 'variable' },
  metrics: { mae: 1.5 },
  ...overrides,
});

let dir: string;
const opened: { release(): Promise<void> }[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'opsbot-predictors-'));
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((m) => m.release()));
  await rm(dir, { recursive: true, force: true });
  jest.restoreAllMocks();
});

async function load(name: string, model: Uint8Array, metadata: object): Promise<AnyOnnxModel> {
  const loaded = await OnnxModel.load(await writeModelFiles(dir, name, model, metadata));
  opened.push(loaded);
  return loaded;
}

/** The PredictorError `work` fails with, for a test to look at its code and details. */
async function predictorError(work: () => Promise<unknown>): Promise<PredictorError> {
  try {
    await work();
  } catch (err) {
    expect(err).toBeInstanceOf(PredictorError);
    return err as PredictorError;
  }
  throw new Error('expected a PredictorError');
}

/** Retries an assertion until it holds, for changes a file watcher or poll picks up in the background. */
async function eventually(assertion: () => unknown, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('OnnxModel', () => {
  it('predicts a softmax classifier like the hand computation, from a list or a record in any key order', async () => {
    const model = await load('health', healthModel(), healthMetadata());
    if (model.task !== 'classification') throw new Error('expected a classifier');

    const row = [0.9, 0.4, 0.7];
    const expected = healthProbabilities(row);
    const fromList = await model.predict(row);
    const fromRecord = await model.predict({ errors: 0.7, cpu: 0.9, memory: 0.4 });

    for (const result of [fromList, fromRecord]) {
      HEALTH.labels.forEach((label, i) => {
        expect(result.probabilities[label]).toBeCloseTo(expected[i]!, 5);
        expect(result.scores[i]).toBeCloseTo(expected[i]!, 5);
      });
      expect(result.label).toBe('down');
    }
    expect(await model.predict({ cpu: 0, memory: 0, errors: 0 })).toMatchObject({ label: 'healthy' });
  });

  it('predicts a batch of rows at once', async () => {
    const model = await load('health', healthModel(), healthMetadata());
    if (model.task !== 'classification') throw new Error('expected a classifier');
    const rows = [
      [0, 0, 0],
      [0.2, 0.9, 0.1],
      [1, 1, 1],
    ];
    const { labels, scores } = await model.predictBatch(Float32Array.from(rows.flat()), rows.length);

    expect(scores).toHaveLength(9);
    rows.forEach((row, r) => {
      const expected = healthProbabilities(row);
      expected.forEach((p, c) => expect(scores[r * 3 + c]).toBeCloseTo(p, 5));
      expect(labels[r]).toBe(HEALTH.labels[expected.indexOf(Math.max(...expected))]);
    });
  });

  it('reads a tree classifier from its probabilities, not from the label output onnxruntime gets wrong', async () => {
    const file = await writeModelFiles(dir, 'disk', diskModel(), diskMetadata);
    const session = await InferenceSession.create(file);
    const raw = await session.run({ features: new Tensor('float32', Float32Array.from([0.2, 0]), [1, 2]) });
    await session.release();
    // The premise: for a row in the left leaf (P(ok) = 0.8) onnxruntime's own label says class 1, "full".
    expect(Array.from(raw.label!.data as BigInt64Array)).toEqual([1n]);

    const model = await OnnxModel.load(file);
    opened.push(model);
    if (model.task !== 'classification') throw new Error('expected a classifier');
    const low = await model.predict({ usage: 0.2, growth: 0 });
    const high = await model.predict({ usage: 0.95, growth: 0.1 });

    expect(low.label).toBe('ok');
    expect(high.label).toBe('full');
    expect(low.probabilities.ok).toBeCloseTo(0.8, 6);
    expect(low.probabilities.full).toBeCloseTo(0.2, 6);
    expect(high.probabilities.full).toBeCloseTo(0.9, 6);
  });

  it('predicts a linear regressor like the hand computation', async () => {
    const model = await load('latency', latencyModel(), latencyMetadata());
    if (model.task !== 'regression') throw new Error('expected a regressor');

    expect((await model.predict({ rps: 10, cacheHit: 0.5, pods: 4 })).value).toBeCloseTo(3 + 20 - 0.5 + 2, 4);
    const { values } = await model.predictBatch(Float32Array.from([1, 0, 0, 0, 1, 2]), 2);
    expect(Array.from(values)).toEqual([5, 3]);
    expect(model.metadata.metrics).toEqual({ mae: 1.5 });
  });

  it('names a missing, unknown, non-numeric or miscounted feature', async () => {
    const model = await load('health', healthModel(), healthMetadata());

    const missing = await predictorError(() => model.predict({ cpu: 1, errors: 0 }));
    expect(missing.code).toBe(ErrorCode.InvalidRequest);
    expect(missing.details.feature).toBe('memory');
    expect(missing.message).toContain('"memory"');

    const unknown = await predictorError(() => model.predict({ cpu: 1, memory: 0, errors: 0, disk: 3 }));
    expect(unknown.code).toBe(ErrorCode.InvalidRequest);
    expect(unknown.details.feature).toBe('disk');
    expect(unknown.message).toContain('"disk"');

    const notFinite = await predictorError(() => model.predict({ cpu: 1, memory: NaN, errors: 0 }));
    expect(notFinite.details.feature).toBe('memory');

    const short = await predictorError(() => model.predict([1, 2]));
    expect(short.code).toBe(ErrorCode.InvalidRequest);
    expect(short.message).toContain('takes 3 features (cpu, memory, errors): got 2');

    const ragged = await predictorError(() => model.predictBatch(new Float32Array(7), 2));
    expect(ragged.code).toBe(ErrorCode.InvalidRequest);
  });

  describe('refuses a model its metadata does not describe, naming the file and field', () => {
    async function loadError(model: Uint8Array, metadata: object | string): Promise<PredictorError> {
      const file = path.join(dir, 'm.onnx');
      await writeFile(file, model);
      await writeFile(
        path.join(dir, 'm.json'),
        typeof metadata === 'string' ? metadata : JSON.stringify(metadata),
      );
      const err = await predictorError(() => OnnxModel.load(file));
      expect(err.code).toBe(ErrorCode.ConfigInvalid);
      return err;
    }
    const metadataFile = () => path.join(dir, 'm.json');

    it('metadata that is not JSON', async () => {
      const err = await loadError(healthModel(), '{"name": "health",');
      expect(err.details.file).toBe(metadataFile());
      expect(err.message).toContain(`invalid model metadata in ${metadataFile()}: not valid JSON`);
    });

    it.each([
      ['labels', healthMetadata({ labels: undefined }), 'labels: is required'],
      ['version', healthMetadata({ version: 'v1' }), 'version: must look like 1.2.3'],
      ['task', healthMetadata({ task: 'ranking' }), 'task: must be one of classification, regression'],
      [
        'input.features.2',
        healthMetadata({ input: { name: 'x', features: ['a', 'b', 'a'] } }),
        '"a" is listed twice',
      ],
      ['trainedAt', healthMetadata({ trainedAt: 'yesterday' }), 'trainedAt:'],
      ['metrics.accuracy', healthMetadata({ metrics: { accuracy: 'high' } }), 'metrics.accuracy:'],
      ['lables', healthMetadata({ lables: HEALTH.labels }), 'lables: unknown field'],
    ])('a bad field: %s', async (field, metadata, message) => {
      const err = await loadError(healthModel(), metadata);
      expect(err.details).toEqual({ file: metadataFile(), field });
      expect(err.message).toContain(`invalid model metadata in ${metadataFile()}`);
      expect(err.message).toContain(message);
    });

    it('an input name the model does not have', async () => {
      const err = await loadError(
        healthModel(),
        healthMetadata({ input: { name: 'features', features: HEALTH.features } }),
      );
      expect(err.details).toEqual({ file: metadataFile(), field: 'input.name' });
      expect(err.message).toContain('input.name: "features" is not an input of');
      expect(err.message).toContain('(inputs: x)');
    });

    it('an output name the model does not have', async () => {
      const err = await loadError(healthModel(), healthMetadata({ outputs: { probabilities: 'scores' } }));
      expect(err.details).toEqual({ file: metadataFile(), field: 'outputs.probabilities' });
      expect(err.message).toContain('(outputs: probs)');
    });

    it('more labels than the model has probability columns', async () => {
      const err = await loadError(diskModel(), { ...diskMetadata, labels: ['ok', 'full', 'unknown'] });
      expect(err.details).toEqual({ file: metadataFile(), field: 'labels' });
      expect(err.message).toContain('labels: 3 labels but "probabilities" has 2 columns');
    });

    it('more features than the model takes', async () => {
      const err = await loadError(
        healthModel(),
        healthMetadata({ input: { name: 'x', features: [...HEALTH.features, 'disk'] } }),
      );
      expect(err.details).toEqual({ file: metadataFile(), field: 'input.features' });
      expect(err.message).toContain('does not accept float32 rows of 4 features');
    });

    it('a file that is not an ONNX model', async () => {
      const err = await loadError(Buffer.from('not a model'), healthMetadata());
      expect(err.details).toEqual({ file: path.join(dir, 'm.onnx') });
      expect(err.message).toContain(`cannot load ONNX model ${path.join(dir, 'm.onnx')}`);
    });

    it('a model without metadata', async () => {
      const file = path.join(dir, 'alone.onnx');
      await writeFile(file, healthModel());
      const err = await predictorError(() => OnnxModel.load(file));
      expect(err.code).toBe(ErrorCode.ConfigInvalid);
      expect(err.details).toEqual({ file: path.join(dir, 'alone.json') });
    });
  });

  it('finishes predictions already running before it releases the session, and refuses later ones', async () => {
    const model = await OnnxModel.load(
      await writeModelFiles(dir, 'latency', latencyModel(), latencyMetadata()),
    );
    const running = model.predict([1, 1, 1]);
    await model.release();

    expect(await running).toEqual({ value: expect.closeTo(4.5, 5) });
    const late = await predictorError(() => model.predict([1, 1, 1]));
    expect(late.code).toBe(ErrorCode.Internal);
  });
});

describe('ModelRegistry', () => {
  let registry: ModelRegistry | undefined;

  afterEach(async () => {
    await registry?.close();
    registry = undefined;
  });

  function loadedAt(reg: ModelRegistry): string {
    const [listing] = reg.list();
    if (listing?.state !== 'loaded') throw new Error('expected a loaded model');
    return listing.loadedAt;
  }

  async function predictLatency(reg: ModelRegistry): Promise<number> {
    return (await reg.get('latency', 'regression').predict({ rps: 0, cacheHit: 0, pods: 0 })).value;
  }

  it('loads every model in the folder and lists the ones that failed beside them', async () => {
    await writeModelFiles(dir, 'health', healthModel(), healthMetadata());
    await writeModelFiles(dir, 'latency', latencyModel(), latencyMetadata());
    await writeModelFiles(dir, 'broken', Buffer.from('garbage'), { ...latencyMetadata(), name: 'broken' });
    await writeModelFiles(dir, 'misnamed', latencyModel(), latencyMetadata());
    await writeFile(path.join(dir, 'orphan.onnx'), latencyModel());
    await writeFile(path.join(dir, 'notes.json'), '{}');

    registry = new ModelRegistry(dir, { pollMs: 60_000 });
    expect(await registry.component().check()).toEqual({ state: 'unknown', detail: 'models not loaded yet' });
    await registry.loadAll();

    const listing = registry.list();
    expect(listing.map((m) => [m.name, m.state])).toEqual([
      ['broken', 'error'],
      ['health', 'loaded'],
      ['latency', 'loaded'],
      ['misnamed', 'error'],
      ['orphan', 'error'],
    ]);
    expect(listing[1]).toEqual({
      state: 'loaded',
      name: 'health',
      version: '1.0.0',
      task: 'classification',
      file: path.join(dir, 'health.onnx'),
      loadedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      metrics: { accuracy: 0.93, f1: 0.91 },
    });
    expect(listing[0]).toMatchObject({
      file: path.join(dir, 'broken.onnx'),
      error: expect.stringContaining('cannot load ONNX model'),
    });
    expect(listing[3]).toMatchObject({
      error: expect.stringContaining(`name: "latency" must match the model file's name "misnamed"`),
    });
    expect(listing[4]).toMatchObject({ error: expect.stringContaining('orphan.json') });

    expect((await registry.get('health', 'classification').predict([0, 0, 0])).label).toBe('healthy');
    expect(await predictLatency(registry)).toBeCloseTo(3, 5);

    const notLoaded = await predictorError(async () => registry!.get('broken'));
    expect(notLoaded.code).toBe(ErrorCode.NotFound);
    expect(notLoaded.message).toContain('cannot load ONNX model');
    expect((await predictorError(async () => registry!.get('nope'))).code).toBe(ErrorCode.NotFound);
    const wrongTask = await predictorError(async () => registry!.get('latency', 'classification'));
    expect(wrongTask.details).toEqual({ file: path.join(dir, 'latency.json'), field: 'task' });

    const health = await registry.component().check();
    expect(health.state).toBe('warning');
    expect(health.detail).toMatch(/^2 models loaded; broken: cannot load ONNX model/);
  });

  it('reports an empty folder and a folder that cannot be read', async () => {
    registry = new ModelRegistry(dir);
    await registry.loadAll();
    expect(await registry.component().check()).toEqual({ state: 'warning', detail: `no models in ${dir}` });

    const missing = new ModelRegistry(path.join(dir, 'nowhere'));
    const err = await predictorError(() => missing.loadAll());
    expect(err.code).toBe(ErrorCode.ConfigInvalid);
    expect(err.details.file).toBe(path.join(dir, 'nowhere'));
  });

  it('hot-reloads a changed model, keeps the old one serving when the new file is bad, and picks up new models', async () => {
    await writeModelFiles(dir, 'latency', latencyModel(3), latencyMetadata());
    registry = new ModelRegistry(dir, { pollMs: 200 });
    await registry.loadAll();
    expect(await predictLatency(registry)).toBeCloseTo(3, 5);
    const firstLoadedAt = loadedAt(registry);
    expect(await registry.component().check()).toEqual({ state: 'ok', detail: '1 model loaded' });

    await writeFile(path.join(dir, 'latency.onnx'), latencyModel(7));
    await eventually(async () => expect(await predictLatency(registry!)).toBeCloseTo(7, 5));
    expect(registry.list()[0]).not.toHaveProperty('error');
    expect(loadedAt(registry) > firstLoadedAt).toBe(true);

    await writeFile(path.join(dir, 'latency.onnx'), 'garbage');
    await eventually(() => expect(registry!.list()[0]).toHaveProperty('error'));
    expect(registry.list()[0]).toMatchObject({
      state: 'loaded',
      version: '0.3.1',
      error: expect.stringContaining('cannot load ONNX model'),
    });
    expect(await predictLatency(registry)).toBeCloseTo(7, 5);
    const degraded = await registry.component().check();
    expect(degraded).toEqual({
      state: 'warning',
      detail: expect.stringMatching(/^1 model loaded; latency: cannot load ONNX model/),
    });

    await writeFile(path.join(dir, 'latency.onnx'), latencyModel(11));
    await eventually(async () => expect(await predictLatency(registry!)).toBeCloseTo(11, 5));
    expect(registry.list()[0]).not.toHaveProperty('error');

    await writeFile(path.join(dir, 'latency.json'), JSON.stringify(latencyMetadata({ version: '0.4.0' })));
    await eventually(() => expect(registry!.list()[0]).toMatchObject({ state: 'loaded', version: '0.4.0' }));

    await writeModelFiles(dir, 'health', healthModel(), healthMetadata());
    await eventually(() => expect(registry!.list().map((m) => m.name)).toEqual(['health', 'latency']));
    expect(await registry.component().check()).toEqual({ state: 'ok', detail: '2 models loaded' });
  });

  it('keeps serving a model whose file was removed', async () => {
    await writeModelFiles(dir, 'latency', latencyModel(3), latencyMetadata());
    registry = new ModelRegistry(dir, { pollMs: 200 });
    await registry.loadAll();

    await unlink(path.join(dir, 'latency.onnx'));
    await eventually(() => expect(registry!.list()[0]).toHaveProperty('error'));
    expect(registry.list()[0]).toMatchObject({
      state: 'loaded',
      error: expect.stringContaining('was removed'),
    });
    expect(await predictLatency(registry)).toBeCloseTo(3, 5);
  });

  it('polls for changes where the folder cannot be watched', async () => {
    jest.spyOn(fs, 'watch').mockImplementation(() => {
      throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), {
        code: 'ENOSPC',
      });
    });
    await writeModelFiles(dir, 'latency', latencyModel(3), latencyMetadata());
    registry = new ModelRegistry(dir, { pollMs: 50 });
    await registry.loadAll();
    expect(fs.watch).toHaveBeenCalled();

    await writeFile(path.join(dir, 'latency.onnx'), latencyModel(5));
    await eventually(async () => expect(await predictLatency(registry!)).toBeCloseTo(5, 5));
  });

  it('stops watching and releases its models on close', async () => {
    await writeModelFiles(dir, 'latency', latencyModel(3), latencyMetadata());
    registry = new ModelRegistry(dir, { pollMs: 50 });
    await registry.loadAll();
    const model = registry.get('latency');
    await registry.close();

    expect((await predictorError(() => model.predict([0, 0, 0]))).code).toBe(ErrorCode.Internal);
    expect((await predictorError(async () => registry!.get('latency'))).code).toBe(ErrorCode.NotFound);
    expect(registry.list()).toEqual([]);

    const loads = jest.spyOn(OnnxModel, 'load');
    await writeFile(path.join(dir, 'latency.onnx'), latencyModel(5));
    // Long enough for several polls and a watch event to have fired had they still been running.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(loads).not.toHaveBeenCalled();
  });
});
