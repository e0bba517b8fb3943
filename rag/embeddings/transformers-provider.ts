import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FeatureExtractionPipeline, PretrainedModelOptions } from '@huggingface/transformers' with {
  'resolution-mode': 'import',
};
import { normalise, type EmbeddingProvider } from './embedding-provider';

type TransformersModule = typeof import('@huggingface/transformers', {
  with: { 'resolution-mode': 'import' },
});

export interface TransformersEmbeddingOptions {
  /** A Hugging Face model id ("Xenova/all-MiniLM-L6-v2"), which is also its folder under `localModelPath`. */
  model: string;
  /** Folder holding one sub-folder per model; defaults to transformers.js's own `models/` folder. */
  localModelPath?: string;
  /** Off by default so a deployment never downloads a model it was not configured to. */
  allowRemoteModels?: boolean;
  pooling?: 'mean' | 'cls';
  /** Loads `onnx/model_quantized.onnx` (q8) instead of `onnx/model.onnx` (fp32). */
  quantized?: boolean;
}

/** Builds the feature-extraction pipeline. A parameter so tests can observe how often a model is loaded. */
export type FeatureExtractionPipelineFactory = (
  model: string,
  options: PretrainedModelOptions,
) => Promise<FeatureExtractionPipeline>;

export const createFeatureExtractionPipeline: FeatureExtractionPipelineFactory = (model, options) =>
  loadTransformers().pipeline('feature-extraction', model, options);

/** Sentence embeddings from a local (or, when allowed, downloaded) ONNX model run by transformers.js. */
export class TransformersEmbeddingProvider implements EmbeddingProvider {
  readonly id: string;
  private readonly options: TransformersEmbeddingOptions;
  private readonly createPipeline: FeatureExtractionPipelineFactory;
  private loading: Promise<FeatureExtractionPipeline> | undefined;
  private measuredDimensions = 0;

  constructor(
    options: TransformersEmbeddingOptions,
    createPipeline: FeatureExtractionPipelineFactory = createFeatureExtractionPipeline,
  ) {
    this.options = options;
    this.createPipeline = createPipeline;
    this.id = `transformers:${options.model}`;
  }

  /** 0 until `ready()` has run the model once. */
  get dimensions(): number {
    return this.measuredDimensions;
  }

  async ready(): Promise<void> {
    await this.extractor();
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    return this.run(await this.extractor(), texts);
  }

  private extractor(): Promise<FeatureExtractionPipeline> {
    // A failed load is forgotten, so a later call can succeed once the model has been put in place.
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async load(): Promise<FeatureExtractionPipeline> {
    const { model, localModelPath, allowRemoteModels = false, quantized = false } = this.options;
    const { env } = loadTransformers();
    // transformers.js reads these from its process-wide `env` rather than per call.
    env.allowRemoteModels = allowRemoteModels;
    if (localModelPath !== undefined) env.localModelPath = localModelPath;
    if (!allowRemoteModels) await assertModelFolderExists(model, localModelPath ?? env.localModelPath);

    const extractor = await this.createPipeline(model, {
      // Without an explicit dtype transformers.js warns and picks per device; naming it fixes the file name.
      dtype: quantized ? 'q8' : 'fp32',
      local_files_only: !allowRemoteModels,
    });
    const [probe] = await this.run(extractor, ['dimension probe']);
    this.measuredDimensions = probe?.length ?? 0;
    return extractor;
  }

  /** Embeds all texts in one batched model call and splits the [texts, dimensions] result into rows. */
  private async run(extractor: FeatureExtractionPipeline, texts: readonly string[]): Promise<Float32Array[]> {
    const pooled = await extractor([...texts], { pooling: this.options.pooling ?? 'mean', normalize: false });
    if (pooled.type !== 'float32') {
      throw new Error(`${this.id} produced ${pooled.type} embeddings, not float32`);
    }
    const values = pooled.data as Float32Array;
    const width = values.length / texts.length;
    return texts.map((_, row) => normalise(values.slice(row * width, (row + 1) * width)));
  }
}

/**
 * The package is ESM with a CommonJS build behind its "require" export condition. TypeScript sees only its ESM
 * typings, so a static import from this CommonJS module is rejected (TS1479); requiring the CommonJS build with
 * the ESM typings is the same module without a dynamic import. It is loaded lazily because it pulls in
 * onnxruntime's native binding, which only deployments that choose this provider should pay for.
 */
function loadTransformers(): TransformersModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@huggingface/transformers') as TransformersModule;
}

async function assertModelFolderExists(model: string, localModelPath: string): Promise<void> {
  const root = path.resolve(localModelPath);
  const isFolder = await stat(path.join(root, model)).then(
    (entry) => entry.isDirectory(),
    () => false,
  );
  if (!isFolder) {
    throw new Error(
      `embedding model "${model}" not found under ${root} and remote models are disabled ` +
        '(set allowRemoteModels or download it)',
    );
  }
}
