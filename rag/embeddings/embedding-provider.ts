/**
 * The port every embedding model sits behind. Vectors are L2-normalised, so cosine similarity is a dot
 * product and indexes can use inner-product space.
 */
export interface EmbeddingProvider {
  /** Names the model exactly ("use-lite", "transformers:Xenova/all-MiniLM-L6-v2"): part of every cache key
   * and recorded in the index manifest, so vectors from different models are never mixed. */
  readonly id: string;
  /** Known after `ready()`. */
  readonly dimensions: number;
  /** Loads the model. Idempotent: the first call loads, later calls share that load. */
  ready(): Promise<void>;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

/** Scales a vector to unit length in place and returns it; a zero vector stays zero. */
export function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const x of vector) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) / norm;
  return vector;
}
