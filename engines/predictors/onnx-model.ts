import { readFile } from 'node:fs/promises';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ErrorCode } from '../../bot/core/errors';
import {
  metadataFieldError,
  metadataPathFor,
  PredictorError,
  readModelMetadata,
  type MetadataFor,
  type ModelMetadata,
  type ModelTask,
} from './model-metadata';

/** One row of features: by name (exactly the declared features) or already in the metadata's feature order. */
export type FeatureInput = Readonly<Record<string, number>> | readonly number[];

export interface ClassificationResult {
  /** The label with the highest probability (the first such on a tie). */
  label: string;
  probabilities: Record<string, number>;
  /** The probabilities in label order, as the model wrote them. */
  scores: Float32Array;
}

export interface RegressionResult {
  value: number;
}

export interface BatchClassificationResult {
  /** The most probable label of each row. */
  labels: string[];
  /** count × labels.length probabilities, row-major, columns in the metadata's label order. */
  scores: Float32Array;
}

export interface BatchRegressionResult {
  values: Float32Array;
}

export type Prediction<T extends ModelTask> = T extends 'classification'
  ? ClassificationResult
  : RegressionResult;
export type BatchPrediction<T extends ModelTask> = T extends 'classification'
  ? BatchClassificationResult
  : BatchRegressionResult;

/** What `load` returns: narrow it on `task` to get the matching `predict` result type. */
export type AnyOnnxModel = OnnxModel<'classification'> | OnnxModel<'regression'>;

const SESSION_OPTIONS: InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  // Predictions are one row or a small batch, and several models share the process: more threads than one
  // only add hand-off cost and contend with the event loop.
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
};

// Two rows rather than one so loading also proves the batch axis is dynamic, which predictBatch relies on.
const WARM_UP_ROWS = 2;

/**
 * An ONNX model checked against its metadata. `load` refuses a model whose input, outputs or widths do not
 * match what the metadata promises, so a prediction never fails on the model's shape.
 *
 * Classifiers are always read from their probabilities output: onnxruntime's binary TreeEnsembleClassifier
 * can emit a `label` that disagrees with its own probabilities.
 */
export class OnnxModel<T extends ModelTask> {
  readonly task: T;
  private readonly featureNames: ReadonlySet<string>;
  private readonly outputName: string;
  private readonly labels: readonly string[];
  /** Output values per row: one probability per label, or the single regression value. */
  private readonly outputWidth: number;
  private running = 0;
  private released?: Promise<void>;
  private onIdle?: () => void;

  private constructor(
    readonly metadata: MetadataFor<T>,
    readonly file: string,
    readonly metadataFile: string,
    private readonly session: InferenceSession,
  ) {
    this.task = metadata.task;
    this.featureNames = new Set(metadata.input.features);
    const meta: ModelMetadata = metadata;
    this.outputName = meta.task === 'classification' ? meta.outputs.probabilities : meta.outputs.value;
    this.labels = meta.task === 'classification' ? meta.labels : [];
    this.outputWidth = meta.task === 'classification' ? meta.labels.length : 1;
  }

  /** Loads `onnxPath` with its metadata (`<name>.json` beside it unless given), validates and warms it up. */
  static async load(onnxPath: string, metadataPath = metadataPathFor(onnxPath)): Promise<AnyOnnxModel> {
    const metadata = await readModelMetadata(metadataPath);
    let session: InferenceSession;
    try {
      // From the bytes rather than the path, so the file checked here is the file that serves.
      session = await InferenceSession.create(await readFile(onnxPath), SESSION_OPTIONS);
    } catch (err) {
      throw new PredictorError(
        ErrorCode.ConfigInvalid,
        `cannot load ONNX model ${onnxPath}: ${oneLine(err)}`,
        { file: onnxPath },
        { cause: err },
      );
    }
    const model: AnyOnnxModel =
      metadata.task === 'classification'
        ? new OnnxModel<'classification'>(metadata, onnxPath, metadataPath, session)
        : new OnnxModel<'regression'>(metadata, onnxPath, metadataPath, session);
    try {
      model.checkNames();
      await model.warmUp();
    } catch (err) {
      await session.release();
      throw err;
    }
    return model;
  }

  get features(): readonly string[] {
    return this.metadata.input.features;
  }

  async predict(features: FeatureInput): Promise<Prediction<T>> {
    const batch: BatchClassificationResult | BatchRegressionResult = await this.predictBatch(
      this.toRow(features),
      1,
    );
    if ('values' in batch) {
      const result: RegressionResult = { value: batch.values[0] as number };
      return result as Prediction<T>;
    }
    const result: ClassificationResult = {
      label: batch.labels[0] as string,
      probabilities: Object.fromEntries(this.labels.map((label, i) => [label, batch.scores[i] as number])),
      scores: batch.scores,
    };
    return result as Prediction<T>;
  }

  /**
   * `rows` holds `count` rows of features in the metadata's order, row-major. It is handed to onnxruntime
   * without a copy or a per-value check: this is the path for wide inputs such as sentence embeddings.
   */
  async predictBatch(rows: Float32Array, count: number): Promise<BatchPrediction<T>> {
    const width = this.features.length;
    if (!Number.isInteger(count) || count < 1 || rows.length !== count * width) {
      throw new PredictorError(
        ErrorCode.InvalidRequest,
        `model ${this.metadata.name} takes rows of ${width} features: got ${rows.length} values for ${count} rows`,
      );
    }
    const output = await this.run(rows, count);
    if (this.metadata.task === 'regression') {
      const result: BatchRegressionResult = { values: output };
      return result as BatchPrediction<T>;
    }
    const result: BatchClassificationResult = { labels: this.argmaxLabels(output, count), scores: output };
    return result as BatchPrediction<T>;
  }

  /** Frees the session once predictions already running have finished; later predictions fail. */
  release(): Promise<void> {
    this.released ??= (async () => {
      if (this.running > 0) await new Promise<void>((resolve) => (this.onIdle = resolve));
      await this.session.release();
    })();
    return this.released;
  }

  private checkNames(): void {
    const { input, outputs } = this.metadata;
    const { inputNames, outputNames } = this.session;
    if (!inputNames.includes(input.name)) {
      throw metadataFieldError(
        this.metadataFile,
        'input.name',
        `"${input.name}" is not an input of ${this.file} (inputs: ${inputNames.join(', ')})`,
      );
    }
    if (inputNames.length > 1) {
      throw metadataFieldError(
        this.metadataFile,
        'input.name',
        `${this.file} also needs inputs ${inputNames.filter((n) => n !== input.name).join(', ')}; the runtime feeds one`,
      );
    }
    for (const [key, name] of Object.entries(outputs)) {
      if (!outputNames.includes(name)) {
        throw metadataFieldError(
          this.metadataFile,
          `outputs.${key}`,
          `"${name}" is not an output of ${this.file} (outputs: ${outputNames.join(', ')})`,
        );
      }
    }
  }

  private async warmUp(): Promise<void> {
    const width = this.features.length;
    let results: InferenceSession.ReturnType;
    try {
      results = await this.session.run({
        [this.metadata.input.name]: new Tensor('float32', new Float32Array(WARM_UP_ROWS * width), [
          WARM_UP_ROWS,
          width,
        ]),
      });
    } catch (err) {
      throw metadataFieldError(
        this.metadataFile,
        'input.features',
        `${this.file} does not accept float32 rows of ${width} features with a dynamic batch axis: ${oneLine(err)}`,
      );
    }
    this.readOutput(results, WARM_UP_ROWS);
  }

  private async run(rows: Float32Array, count: number): Promise<Float32Array> {
    if (this.released) {
      throw new PredictorError(
        ErrorCode.Internal,
        `model ${this.metadata.name} ${this.metadata.version} was released; get the current one from the registry for each prediction`,
      );
    }
    this.running++;
    try {
      // No `fetches` argument: onnxruntime-node 1.21 names a partial fetch's results after the model's first
      // outputs (asking for `probabilities` returns it keyed `label`), so run every output and pick by name.
      const results = await this.session.run({
        [this.metadata.input.name]: new Tensor('float32', rows, [count, this.features.length]),
      });
      return this.readOutput(results, count);
    } finally {
      this.running--;
      if (this.running === 0) this.onIdle?.();
    }
  }

  private readOutput(results: InferenceSession.ReturnType, count: number): Float32Array {
    const meta: ModelMetadata = this.metadata;
    const field = meta.task === 'classification' ? 'outputs.probabilities' : 'outputs.value';
    const output = results[this.outputName];
    if (!output || output.type !== 'float32' || !(output.data instanceof Float32Array)) {
      throw metadataFieldError(
        this.metadataFile,
        field,
        `"${this.outputName}" is a ${output?.type ?? 'missing'} output, not float32`,
      );
    }
    if (output.data.length !== count * this.outputWidth) {
      const perRow = output.data.length / count;
      throw meta.task === 'classification'
        ? metadataFieldError(
            this.metadataFile,
            'labels',
            `${meta.labels.length} labels but "${this.outputName}" has ${perRow} columns`,
          )
        : metadataFieldError(
            this.metadataFile,
            field,
            `"${this.outputName}" has ${perRow} values per row, not 1`,
          );
    }
    return output.data;
  }

  private argmaxLabels(scores: Float32Array, count: number): string[] {
    const labels = this.labels;
    const width = labels.length;
    const best: string[] = new Array<string>(count);
    for (let row = 0; row < count; row++) {
      let top = 0;
      for (let col = 1; col < width; col++) {
        if ((scores[row * width + col] as number) > (scores[row * width + top] as number)) top = col;
      }
      best[row] = labels[top] as string;
    }
    return best;
  }

  private toRow(features: FeatureInput): Float32Array {
    const names = this.features;
    if (isFeatureList(features)) {
      if (features.length !== names.length) {
        throw new PredictorError(
          ErrorCode.InvalidRequest,
          `model ${this.metadata.name} takes ${names.length} features (${names.join(', ')}): got ${features.length}`,
        );
      }
      features.forEach((value, i) => this.checkValue(names[i] as string, value));
      return Float32Array.from(features);
    }
    const unknown = Object.keys(features).filter((name) => !this.featureNames.has(name));
    if (unknown.length > 0) {
      throw new PredictorError(
        ErrorCode.InvalidRequest,
        `model ${this.metadata.name} has no feature ${quoteAll(unknown)} (features: ${names.join(', ')})`,
        { feature: unknown[0] },
      );
    }
    const missing = names.filter((name) => features[name] === undefined);
    if (missing.length > 0) {
      throw new PredictorError(
        ErrorCode.InvalidRequest,
        `model ${this.metadata.name} needs feature ${quoteAll(missing)}`,
        { feature: missing[0] },
      );
    }
    return Float32Array.from(names, (name) => this.checkValue(name, features[name]));
  }

  private checkValue(name: string, value: unknown): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new PredictorError(
        ErrorCode.InvalidRequest,
        `feature "${name}" of model ${this.metadata.name} must be a finite number, got ${String(value)}`,
        { feature: name },
      );
    }
    return value;
  }
}

function isFeatureList(features: FeatureInput): features is readonly number[] {
  return Array.isArray(features);
}

function quoteAll(names: readonly string[]): string {
  return names.map((name) => `"${name}"`).join(', ');
}

/** onnxruntime's messages span lines ("… for the following indices\n index: 1 Got: 3 Expected: 2"). */
function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
}
