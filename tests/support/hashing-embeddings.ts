import { createHash } from 'node:crypto';
import { normalise, type EmbeddingProvider } from '../../rag/embeddings/embedding-provider';
import { tokenize } from '../../rag/text/tokenize';

/**
 * A deterministic embedding provider for tests of indexing, fusion and persistence: feature-hashed bags of
 * words, so texts sharing words are close. It implements the same port as the real models, counts its calls
 * (to prove caching), and can be slowed down (to test queries served during a rebuild).
 */
export class HashingEmbeddingProvider implements EmbeddingProvider {
  readonly id: string;
  readonly dimensions = 64;
  embeddedTexts = 0;

  constructor(
    private readonly delayMs = 0,
    id = 'test-hashing',
  ) {
    this.id = id;
  }

  async ready(): Promise<void> {}

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    this.embeddedTexts += texts.length;
    return texts.map((text) => {
      const v = new Float32Array(this.dimensions);
      for (const token of tokenize(text)) {
        const h = createHash('md5').update(token).digest();
        const slot = h.readUInt16LE(0) % this.dimensions;
        v[slot] = (v[slot] as number) + ((h[2] as number) & 1 ? 1 : -1);
      }
      return normalise(v);
    });
  }
}
