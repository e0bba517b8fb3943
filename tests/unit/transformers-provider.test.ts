/** @jest-environment ./tests/support/onnx-environment.js */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { normalise } from '../../rag/embeddings/embedding-provider';
import {
  createFeatureExtractionPipeline,
  TransformersEmbeddingProvider,
} from '../../rag/embeddings/transformers-provider';
import {
  TINY_MODEL_DIMENSIONS,
  TINY_MODEL_NAME,
  tinyEmbeddingRow,
  tinyTokenId,
  writeTinyTransformerModel,
} from '../support/tiny-transformer-model';

/** What the tiny model must produce: the normalised mean of the rows of [CLS], the words and [SEP]. */
function expectedMeanEmbedding(text: string): Float32Array {
  const tokens = ['[CLS]', ...text.toLowerCase().split(' '), '[SEP]'];
  const sum = new Float64Array(TINY_MODEL_DIMENSIONS);
  for (const token of tokens) {
    tinyEmbeddingRow(tinyTokenId(token)).forEach((value, i) => (sum[i] = (sum[i] as number) + value));
  }
  return normalise(Float32Array.from(sum, (value) => value / tokens.length));
}

function length(vector: Float32Array): number {
  return Math.hypot(...vector);
}

function expectClose(actual: Float32Array | undefined, expected: Float32Array): void {
  expect(actual).toBeInstanceOf(Float32Array);
  expect(actual).toHaveLength(expected.length);
  expected.forEach((value, i) => expect(actual?.[i]).toBeCloseTo(value, 5));
}

describe('transformers embedding provider', () => {
  let modelRoot: string;
  let provider: TransformersEmbeddingProvider;

  beforeAll(async () => {
    modelRoot = await mkdtemp(path.join(tmpdir(), 'opsbot-transformers-'));
    await writeTinyTransformerModel(modelRoot);
    provider = new TransformersEmbeddingProvider({ model: TINY_MODEL_NAME, localModelPath: modelRoot });
    await provider.ready();
  });
  afterAll(() => rm(modelRoot, { recursive: true, force: true }));

  it('names the model and learns its dimensions from the first output', () => {
    expect(provider.id).toBe('transformers:tiny-bert');
    expect(provider.dimensions).toBe(TINY_MODEL_DIMENSIONS);
  });

  it('returns one unit-length vector per text from a single batch', async () => {
    const texts = ['disk is full', 'restart the service on host', 'redis cache miss'];
    const vectors = await provider.embed(texts);
    expect(vectors).toHaveLength(texts.length);
    for (const vector of vectors) {
      expect(vector).toHaveLength(TINY_MODEL_DIMENSIONS);
      expect(length(vector)).toBeCloseTo(1, 5);
    }
  });

  it('mean-pools the ONNX model output over real tokens only, ignoring padding', async () => {
    // Different lengths in one batch: the shorter text is padded, and padding must not shift its mean.
    const texts = ['Disk is full', 'database connection pool exhausted on host'];
    const [short, long] = await provider.embed(texts);
    expectClose(short, expectedMeanEmbedding(texts[0] as string));
    expectClose(long, expectedMeanEmbedding(texts[1] as string));
  });

  it('embeds texts made of the same words identically and different words differently', async () => {
    const [first, sameWords, otherWords] = await provider.embed([
      'disk full on host',
      'host on full disk',
      'kafka consumer lag',
    ]);
    expectClose(sameWords, first as Float32Array);
    expect(otherWords).not.toEqual(first);
  });

  it('pools the [CLS] position when asked to', async () => {
    const clsProvider = new TransformersEmbeddingProvider({
      model: TINY_MODEL_NAME,
      localModelPath: modelRoot,
      pooling: 'cls',
    });
    const [vector] = await clsProvider.embed(['dns lookup failed']);
    expectClose(vector, normalise(tinyEmbeddingRow(tinyTokenId('[CLS]'))));
  });

  it('reads onnx/model_quantized.onnx instead of onnx/model.onnx when quantized', async () => {
    const quantized = new TransformersEmbeddingProvider({
      model: TINY_MODEL_NAME,
      localModelPath: modelRoot,
      quantized: true,
    });
    await expect(quantized.ready()).rejects.toThrow(
      path.join(TINY_MODEL_NAME, 'onnx', 'model_quantized.onnx'),
    );
  });

  it('loads the model once for concurrent ready() calls', async () => {
    const createPipeline = jest.fn(createFeatureExtractionPipeline);
    const sharedProvider = new TransformersEmbeddingProvider(
      { model: TINY_MODEL_NAME, localModelPath: modelRoot },
      createPipeline,
    );
    await Promise.all([sharedProvider.ready(), sharedProvider.ready(), sharedProvider.embed(['page'])]);
    await sharedProvider.ready();
    expect(createPipeline).toHaveBeenCalledTimes(1);
    expect(createPipeline).toHaveBeenCalledWith(TINY_MODEL_NAME, { dtype: 'fp32', local_files_only: true });
  });

  it('says how to fix a missing model when remote models are off', async () => {
    const missing = new TransformersEmbeddingProvider({ model: 'absent-model', localModelPath: modelRoot });
    await expect(missing.ready()).rejects.toThrow(
      new Error(
        `embedding model "absent-model" not found under ${modelRoot} and remote models are disabled ` +
          '(set allowRemoteModels or download it)',
      ),
    );
  });

  it('retries a failed load once the model has been put in place', async () => {
    const laterRoot = await mkdtemp(path.join(tmpdir(), 'opsbot-transformers-later-'));
    try {
      const later = new TransformersEmbeddingProvider({ model: TINY_MODEL_NAME, localModelPath: laterRoot });
      await expect(later.ready()).rejects.toThrow('not found under');
      await writeTinyTransformerModel(laterRoot);
      await later.ready();
      expect(later.dimensions).toBe(TINY_MODEL_DIMENSIONS);
    } finally {
      await rm(laterRoot, { recursive: true, force: true });
    }
  });
});
