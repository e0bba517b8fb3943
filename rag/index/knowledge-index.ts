import type { Chunk, DocumentFormat, DocumentKind, DocumentMeta } from '../documents/source-document';
import { Bm25Index, type FieldTexts } from './bm25';
import { VectorIndex } from './vector-index';

/** Lexical candidates (chunks) taken before documents are scored. */
const LEXICAL_CANDIDATES = 400;
/** Semantic candidates (chunks) from the HNSW graph. */
const SEMANTIC_CANDIDATES = 100;
/**
 * Weight of meaning against words in the fused score: score = lexical / best lexical + λ · cosine, where
 * cosine is the better of the document's lead vector and its best chunk. Score-level fusion beat reciprocal
 * rank fusion on alert-style queries (recall@1 0.69 against 0.56): the lexical signal is much the stronger
 * with the offline encoder, and ranks alone cannot tell a confident lexical win from a near tie. λ is the
 * value with the best mean recall@1 over the two query sets in bench/rag-eval (alert-style 0.69, team 0.63).
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

  constructor(
    readonly documents: readonly IndexedDocument[],
    readonly chunks: readonly Chunk[],
    private readonly lexical: Bm25Index,
    private readonly semantic: VectorIndex,
    /** One lead vector per document, in `documents` order: few enough to compare exhaustively. */
    readonly leadVectors: readonly Float32Array[],
  ) {
    chunks.forEach((c, i) => {
      const list = this.chunksBySource.get(c.source);
      if (list) list.push(i);
      else this.chunksBySource.set(c.source, [i]);
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

  search(query: string, queryVector: Float32Array, options: SearchOptions): SearchResult[] {
    const accept = options.filter ? this.acceptor(options.filter) : undefined;
    type Candidate = { lexical: number; cosine: number; alert: boolean; passages: Map<number, Passage> };
    const candidates = new Map<string, Candidate>();
    const candidate = (source: string): Candidate => {
      let c = candidates.get(source);
      if (!c) candidates.set(source, (c = { lexical: 0, cosine: 0, alert: false, passages: new Map() }));
      return c;
    };
    const passage = (chunk: number): Passage => {
      const passages = candidate((this.chunks[chunk] as Chunk).source).passages;
      let p = passages.get(chunk);
      if (!p) passages.set(chunk, (p = { chunk: this.chunks[chunk] as Chunk }));
      return p;
    };

    const lexicalHits = this.lexical.search(query, LEXICAL_CANDIDATES, accept);
    const bestLexical = lexicalHits[0]?.score ?? 0;
    for (const hit of lexicalHits) {
      passage(hit.doc).coverage = hit.coverage;
      const c = candidate((this.chunks[hit.doc] as Chunk).source);
      c.lexical = Math.max(c.lexical, bestLexical > 0 ? hit.score / bestLexical : 0);
    }
    for (const hit of this.semantic.search(queryVector, SEMANTIC_CANDIDATES, accept)) {
      passage(hit.doc).similarity = hit.similarity;
      const c = candidate((this.chunks[hit.doc] as Chunk).source);
      c.cosine = Math.max(c.cosine, hit.similarity);
    }
    this.documents.forEach((doc, i) => {
      const first = this.chunksBySource.get(doc.source)?.[0];
      if (first === undefined || (accept && !accept(first))) return;
      const lead = dot(queryVector, this.leadVectors[i] as Float32Array);
      const existing = candidates.get(doc.source);
      if (existing) existing.cosine = Math.max(existing.cosine, lead);
      else if (lead > 0) {
        // A document found by its lead alone still needs a passage to quote: its opening chunk.
        passage(first);
        candidate(doc.source).cosine = lead;
      }
    });
    for (const chunk of this.alertNameHits(query, accept)) {
      passage(chunk);
      candidate((this.chunks[chunk] as Chunk).source).alert = true;
    }

    const bestPossible = 1 + SEMANTIC_WEIGHT;
    const byDocument = new Map(this.documents.map((d) => [d.source, d]));
    return [...candidates]
      .map(([source, c]): SearchResult => {
        const doc = byDocument.get(source) as IndexedDocument;
        // Within a document, the passage that matches in both words and meaning is the one to quote.
        const passages = [...c.passages.values()].sort((a, b) => passageMatch(b) - passageMatch(a));
        if (doc.kind === 'runbook') {
          // A runbook answer quotes its remedy even when the question matched elsewhere (its symptoms):
          // carry the rest of its chunks, in document order, after the ones that matched.
          for (const i of this.chunksBySource.get(source) ?? []) {
            if (!c.passages.has(i)) passages.push({ chunk: this.chunks[i] as Chunk });
          }
        }
        const fused = c.lexical + SEMANTIC_WEIGHT * Math.max(0, c.cosine) + (c.alert ? ALERT_NAME_BONUS : 0);
        const relevance = Math.max(...passages.map(passageStrength), c.alert ? 1 : 0);
        return {
          source,
          title: doc.title,
          kind: doc.kind,
          meta: doc.meta,
          score: Math.min(1, fused / bestPossible),
          relevance,
          passages,
        };
      })
      .sort((a, b) => b.score - a.score || b.relevance - a.relevance || a.source.localeCompare(b.source))
      .slice(0, options.k);
  }

  /** Chunks of documents whose front matter names an alert that appears verbatim in the query. */
  private alertNameHits(query: string, accept?: (doc: number) => boolean): number[] {
    const words = new Set(query.match(/[A-Za-z][A-Za-z0-9]+/g)?.map((w) => w.toLowerCase()) ?? []);
    if (words.size === 0) return [];
    const hits: number[] = [];
    this.chunks.forEach((c, i) => {
      if (c.alerts.some((a) => words.has(a.toLowerCase())) && (!accept || accept(i))) hits.push(i);
    });
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
