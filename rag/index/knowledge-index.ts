import type { Chunk, DocumentFormat, DocumentKind, DocumentMeta } from '../documents/source-document';
import { Bm25Index, type FieldTexts } from './bm25';
import { VectorIndex } from './vector-index';

/** Lexical candidates (chunks) taken before documents are scored. */
const LEXICAL_CANDIDATES = 400;
/** Semantic candidates (chunks) from the HNSW graph. */
const SEMANTIC_CANDIDATES = 100;
/**
 * Weight of meaning against words in the fused score: score = lexical / best lexical + λ · cosine, where
 * cosine is the better of the document's lead vector and its best chunk. Scores, not ranks, are fused: the
 * lexical signal is much the stronger with the offline encoder, and ranks alone cannot tell a confident
 * lexical win from a near tie. λ is the grid value (0 to 3, steps of 0.25) with the best mean recall@1 over
 * the tuning halves bench/rag-eval/*-tune.jsonl, as bench/rag-eval/tune-semantic-weight.ts prints it; the
 * *-eval.jsonl halves, which eval:rag reports, were not used to choose it (split rule: bench/rag-eval/README.md).
 */
export const SEMANTIC_WEIGHT = 1.25;
/** A query that names a document's alert verbatim ("KubePodCrashLooping firing") is about that document. */
const ALERT_NAME_BONUS = 1;

export interface IndexedDocument {
  source: string;
  title: string;
  kind: DocumentKind;
  format: DocumentFormat;
  meta: DocumentMeta;
  contentHash: string;
  /** sha256 of the document's lead text (title, description, opening): the cache key of its lead vector. */
  leadHash: string;
}

export interface SearchFilter {
  service?: string;
  kind?: DocumentKind;
  tags?: string[];
}

export interface SearchOptions {
  k: number;
  filter?: SearchFilter;
  /** λ for this search instead of SEMANTIC_WEIGHT: only the sweep that chooses it (bench/rag-eval) sets it. */
  semanticWeight?: number;
}

export interface Passage {
  chunk: Chunk;
  /** Cosine similarity of the chunk to the query, when it was a semantic candidate. */
  similarity?: number;
  /** Share of the query's lexical (idf) mass found in the chunk, when it was a lexical candidate. */
  coverage?: number;
}

export interface SearchResult {
  source: string;
  title: string;
  kind: DocumentKind;
  meta: DocumentMeta;
  /** Fused score normalised to 0..1: 1 means the best lexical match and a perfect semantic one. */
  score: number;
  /** How well the best passage matches, 0..1, comparable across queries: the "do I know this" signal. */
  relevance: number;
  /** The document's best chunks, best first. */
  passages: Passage[];
}

/** A loaded index: chunks with their BM25F and HNSW structures, searched by fusing both. */
export class KnowledgeIndex {
  private readonly chunksBySource = new Map<string, number[]>();
  /** Chunk ordinal → document ordinal. */
  private readonly documentOfChunk: Int32Array;
  /** Lower-cased alert name → chunks of the documents that answer it. */
  private readonly chunksByAlert = new Map<string, number[]>();

  constructor(
    readonly documents: readonly IndexedDocument[],
    readonly chunks: readonly Chunk[],
    private readonly lexical: Bm25Index,
    private readonly semantic: VectorIndex,
    /** One lead vector per document, in `documents` order: few enough to compare exhaustively. */
    readonly leadVectors: readonly Float32Array[],
  ) {
    const documentIndex = new Map(documents.map((d, i) => [d.source, i]));
    this.documentOfChunk = new Int32Array(chunks.length);
    chunks.forEach((c, i) => {
      this.documentOfChunk[i] = documentIndex.get(c.source) ?? -1;
      const list = this.chunksBySource.get(c.source);
      if (list) list.push(i);
      else this.chunksBySource.set(c.source, [i]);
      for (const alert of c.alerts) {
        const key = alert.toLowerCase();
        const hits = this.chunksByAlert.get(key);
        if (hits) hits.push(i);
        else this.chunksByAlert.set(key, [i]);
      }
    });
  }

  static build(
    documents: readonly IndexedDocument[],
    chunks: readonly Chunk[],
    vectors: readonly Float32Array[],
    leadVectors: readonly Float32Array[],
    dimensions: number,
  ): KnowledgeIndex {
    return new KnowledgeIndex(
      documents,
      chunks,
      Bm25Index.build(chunks.map(fieldTexts)),
      VectorIndex.build(vectors, dimensions),
      leadVectors,
    );
  }

  get lexicalIndex(): Bm25Index {
    return this.lexical;
  }

  get vectorIndex(): VectorIndex {
    return this.semantic;
  }

  /**
   * Scores every document in flat arrays (lexical, semantic, alert name), keeps the best k, and only then
   * assembles their passages: a query costs the same whether 10 or 2,000 documents had some signal.
   */
  search(query: string, queryVector: Float32Array, options: SearchOptions): SearchResult[] {
    const accept = options.filter ? this.acceptor(options.filter) : undefined;
    const semanticWeight = options.semanticWeight ?? SEMANTIC_WEIGHT;
    const n = this.documents.length;
    const lexical = new Float64Array(n);
    const cosine = new Float64Array(n);
    const alert = new Uint8Array(n);
    const scored = new Map<number, Passage>();

    const lexicalHits = this.lexical.search(query, LEXICAL_CANDIDATES, accept);
    const bestLexical = lexicalHits[0]?.score ?? 0;
    for (const hit of lexicalHits) {
      scored.set(hit.doc, { chunk: this.chunks[hit.doc] as Chunk, coverage: hit.coverage });
      const d = this.documentOfChunk[hit.doc] as number;
      if (bestLexical > 0) lexical[d] = Math.max(lexical[d] as number, hit.score / bestLexical);
    }
    for (const hit of this.semantic.search(queryVector, SEMANTIC_CANDIDATES, accept)) {
      const p = scored.get(hit.doc);
      if (p) p.similarity = hit.similarity;
      else scored.set(hit.doc, { chunk: this.chunks[hit.doc] as Chunk, similarity: hit.similarity });
      const d = this.documentOfChunk[hit.doc] as number;
      cosine[d] = Math.max(cosine[d] as number, hit.similarity);
    }
    for (const chunk of this.alertNameHits(query, accept)) alert[this.documentOfChunk[chunk] as number] = 1;

    const fused = new Float64Array(n);
    const eligible: number[] = [];
    for (let d = 0; d < n; d++) {
      const doc = this.documents[d] as IndexedDocument;
      if (accept) {
        const first = this.chunksBySource.get(doc.source)?.[0];
        if (first === undefined || !accept(first)) continue;
      }
      cosine[d] = Math.max(cosine[d] as number, dot(queryVector, this.leadVectors[d] as Float32Array));
      fused[d] =
        (lexical[d] as number) +
        semanticWeight * Math.max(0, cosine[d] as number) +
        (alert[d] ? ALERT_NAME_BONUS : 0);
      if ((fused[d] as number) > 0) eligible.push(d);
    }
    eligible.sort((x, y) => (fused[y] as number) - (fused[x] as number) || x - y);

    const bestPossible = 1 + semanticWeight;
    return eligible.slice(0, options.k).map((d): SearchResult => {
      const doc = this.documents[d] as IndexedDocument;
      const own = this.chunksBySource.get(doc.source) ?? [];
      // Within a document, the passage that matches in both words and meaning is the one to quote.
      const passages = own
        .map((i) => scored.get(i))
        .filter((p): p is Passage => p !== undefined)
        .sort((x, y) => passageMatch(y) - passageMatch(x));
      // A runbook answer quotes its remedy even when the question matched elsewhere (its symptoms), and a
      // document found by its lead alone still needs a passage: carry the other chunks in document order.
      if (doc.kind === 'runbook' || passages.length === 0) {
        for (const i of own) if (!scored.has(i)) passages.push({ chunk: this.chunks[i] as Chunk });
      }
      const relevance = Math.max(...passages.map(passageStrength), cosine[d] as number, alert[d] ? 1 : 0);
      return {
        source: doc.source,
        title: doc.title,
        kind: doc.kind,
        meta: doc.meta,
        score: Math.min(1, (fused[d] as number) / bestPossible),
        relevance,
        passages,
      };
    });
  }

  /** Chunks of documents whose front matter names an alert that appears verbatim in the query. */
  private alertNameHits(query: string, accept?: (chunk: number) => boolean): number[] {
    const hits: number[] = [];
    for (const word of new Set(query.match(/[A-Za-z][A-Za-z0-9]+/g)?.map((w) => w.toLowerCase()) ?? [])) {
      for (const chunk of this.chunksByAlert.get(word) ?? []) if (!accept || accept(chunk)) hits.push(chunk);
    }
    return hits;
  }

  private acceptor(filter: SearchFilter): (doc: number) => boolean {
    return (i) => {
      const c = this.chunks[i];
      if (!c) return false;
      if (filter.kind && c.kind !== filter.kind) return false;
      if (filter.service && !c.services.includes(filter.service)) return false;
      if (filter.tags && !filter.tags.every((t) => c.tags.includes(t))) return false;
      return true;
    };
  }
}

/** What BM25F sees of a chunk: its text, and the fields whose matches count more. */
export function fieldTexts(chunk: Chunk): FieldTexts {
  return {
    text: chunk.text,
    headings: chunk.headings.join('\n'),
    title: chunk.title,
    alerts: chunk.alerts.join(' '),
  };
}

/**
 * One number for "how well does this passage answer": cosine similarity for meaning, lexical coverage for
 * the words, the better of the two. Both are 0..1 and mean the same on any query, unlike fused ranks.
 */
function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

function passageStrength(p: Passage): number {
  return Math.max(p.similarity ?? 0, p.coverage ?? 0);
}

function passageMatch(p: Passage): number {
  return (p.similarity ?? 0) + (p.coverage ?? 0);
}
