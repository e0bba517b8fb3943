import { HierarchicalNSW } from 'hnswlib-node';

/** HNSW graph parameters: M and efConstruction at the common defaults, a fixed seed so builds repeat. */
const HNSW_M = 16;
const HNSW_EF_CONSTRUCTION = 200;
const HNSW_SEED = 42;
/** Search breadth: enough candidates that the top 50 are exact on indexes of tens of thousands of chunks. */
const HNSW_EF_SEARCH = 100;

export interface VectorHit {
  doc: number;
  /** Cosine similarity (vectors are unit length), -1..1. */
  similarity: number;
}

/** Approximate nearest neighbours over unit vectors (inner product = cosine), by chunk ordinal. */
export class VectorIndex {
  private constructor(
    private readonly hnsw: HierarchicalNSW,
    readonly dimensions: number,
  ) {
    hnsw.setEf(HNSW_EF_SEARCH);
  }

  static build(vectors: readonly Float32Array[], dimensions: number): VectorIndex {
    const hnsw = new HierarchicalNSW('ip', dimensions);
    hnsw.initIndex(Math.max(1, vectors.length), HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_SEED);
    vectors.forEach((v, i) => hnsw.addPoint(Array.from(v), i));
    return new VectorIndex(hnsw, dimensions);
  }

  static read(file: string, dimensions: number): VectorIndex {
    const hnsw = new HierarchicalNSW('ip', dimensions);
    hnsw.readIndexSync(file);
    return new VectorIndex(hnsw, dimensions);
  }

  write(file: string): void {
    this.hnsw.writeIndexSync(file);
  }

  get size(): number {
    return this.hnsw.getCurrentCount();
  }

  search(query: Float32Array, limit: number, accept?: (doc: number) => boolean): VectorHit[] {
    const k = Math.min(limit, this.size);
    if (k === 0) return [];
    const { neighbors, distances } = this.hnsw.searchKnn(Array.from(query), k, accept);
    // hnswlib's inner-product "distance" is 1 - dot product.
    return neighbors.map((doc, i) => ({ doc, similarity: 1 - (distances[i] as number) }));
  }
}
