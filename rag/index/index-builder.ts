import { createHash } from 'node:crypto';
import path from 'node:path';
import { chunkDocument } from '../documents/chunker';
import { loadDocuments } from '../documents/load-documents';
import type { Chunk, SourceDocument } from '../documents/source-document';
import type { EmbeddingProvider } from '../embeddings/embedding-provider';
import { indexExists, readIndex, writeIndex, type IndexManifest } from './index-files';
import { KnowledgeIndex, type IndexedDocument } from './knowledge-index';

/** Texts per embedding call: large enough to amortise the call, small enough for smooth progress. */
const EMBED_BATCH = 16;
/**
 * What of a chunk is embedded: its title, headings and the start of its text. The vector captures what the
 * passage is about; every word still counts lexically through BM25, and long inputs cost the encoder more.
 */
export const EMBED_MAX_CHARS = 1000;
/** A document's lead — title, description, opening — embedded on its own: what the document is about. */
export const LEAD_MAX_CHARS = 400;

export interface BuildProgress {
  phase: 'reading' | 'embedding' | 'indexing' | 'writing';
  done: number;
  total: number;
}

export interface BuildReport {
  manifest: IndexManifest;
  documents: number;
  chunks: number;
  /** Texts embedded in this build: changed chunks and document leads. */
  embedded: number;
  /** Vectors taken from the previous generation because their text was unchanged (by content hash). */
  reused: number;
  skipped: { file: string; reason: string }[];
  seconds: number;
}

export interface BuildRequest {
  /** Folders to index. */
  sources: string[];
  /** Citations are relative to this folder (default: the single source, or the current directory). */
  base?: string;
  out: string;
  provider: EmbeddingProvider;
  onProgress?: (progress: BuildProgress) => void;
  /** The PII firewall's knowledge path: what it finds never reaches a chunk, a vector or a lead. */
  redact?: (text: string) => string;
}

/**
 * Builds a new index generation. Incremental: chunk vectors of the live generation are reused by content
 * hash, so a rebuild after editing one runbook embeds only that runbook's changed chunks.
 */
export async function buildIndex(request: BuildRequest): Promise<BuildReport> {
  const started = performance.now();
  const { provider, onProgress } = request;
  const base =
    request.base ?? (request.sources.length === 1 ? (request.sources[0] as string) : process.cwd());
  onProgress?.({ phase: 'reading', done: 0, total: request.sources.length });

  const documents: SourceDocument[] = [];
  const skipped: BuildReport['skipped'] = [];
  for (const source of request.sources) {
    const loaded = loadDocuments(source, base);
    documents.push(...loaded.documents);
    skipped.push(...loaded.skipped);
  }
  const { redact } = request;
  const chunks = (redact ? documents.map((d) => redactDocument(d, redact)) : documents).flatMap(
    chunkDocument,
  );

  const previous = reusableVectors(request.out, provider.id);
  await provider.ready();
  const vectors: (Float32Array | undefined)[] = chunks.map((c) => previous.get(c.contentHash));
  const missing = chunks.map((_, i) => i).filter((i) => vectors[i] === undefined);
  for (let start = 0; start < missing.length; start += EMBED_BATCH) {
    const batch = missing.slice(start, start + EMBED_BATCH);
    const embedded = await provider.embed(batch.map((i) => embeddingText(chunks[i] as Chunk)));
    batch.forEach((chunkIndex, j) => (vectors[chunkIndex] = embedded[j]));
    onProgress?.({
      phase: 'embedding',
      done: Math.min(start + EMBED_BATCH, missing.length),
      total: missing.length,
    });
  }

  const firstChunk = new Map<string, Chunk>();
  for (const c of chunks) if (!firstChunk.has(c.source)) firstChunk.set(c.source, c);
  const leads = documents.map((d) => leadText(d, firstChunk.get(d.source)));
  const leadHashes = leads.map((t) => sha256(`lead\n${t}`));
  const leadVectors: (Float32Array | undefined)[] = leadHashes.map((h) => previous.get(h));
  const missingLeads = leadVectors.map((v, i) => (v ? -1 : i)).filter((i) => i >= 0);
  for (let start = 0; start < missingLeads.length; start += EMBED_BATCH) {
    const batch = missingLeads.slice(start, start + EMBED_BATCH);
    const embedded = await provider.embed(batch.map((i) => leads[i] as string));
    batch.forEach((docIndex, j) => (leadVectors[docIndex] = embedded[j]));
  }

  onProgress?.({ phase: 'indexing', done: 0, total: chunks.length });
  const indexed: IndexedDocument[] = documents.map(
    ({ source, title, kind, format, meta, contentHash }, i) => ({
      source,
      title,
      kind,
      format,
      meta,
      contentHash,
      leadHash: leadHashes[i] as string,
    }),
  );
  const complete = vectors as Float32Array[];
  const completeLeads = leadVectors as Float32Array[];
  const index = KnowledgeIndex.build(indexed, chunks, complete, completeLeads, provider.dimensions);
  onProgress?.({ phase: 'writing', done: 0, total: 1 });
  const manifest = writeIndex(
    request.out,
    { documents: indexed, chunks, vectors: complete, leadVectors: completeLeads, index },
    {
      provider: provider.id,
      dimensions: provider.dimensions,
      sources: request.sources.map((s) => path.resolve(s)),
    },
  );
  return {
    manifest,
    documents: documents.length,
    chunks: chunks.length,
    embedded: missing.length + missingLeads.length,
    reused: chunks.length - missing.length + documents.length - missingLeads.length,
    skipped,
    seconds: (performance.now() - started) / 1000,
  };
}

function leadText(doc: SourceDocument, first: Chunk | undefined): string {
  return [doc.title, doc.meta.description, first?.text].filter(Boolean).join('. ').slice(0, LEAD_MAX_CHARS);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function embeddingText(chunk: Chunk): string {
  const headings = chunk.headings.filter((h) => h !== chunk.title && !chunk.alerts.includes(h));
  return [chunk.title, ...headings, chunk.text].join('\n').slice(0, EMBED_MAX_CHARS);
}

/** Vectors of the live generation, if it was embedded by the same model; an unreadable one reuses nothing. */
function reusableVectors(out: string, providerId: string): Map<string, Float32Array> {
  if (!indexExists(out)) return new Map();
  try {
    const stored = readIndex(out);
    return stored.manifest.embedding.provider === providerId ? stored.vectorsByHash : new Map();
  } catch {
    return new Map();
  }
}

/** The document with its title, headings and text screened; `contentHash` stays the file's, for change checks. */
function redactDocument(document: SourceDocument, redact: (text: string) => string): SourceDocument {
  return {
    ...document,
    title: redact(document.title),
    sections: document.sections.map((section) => ({
      headings: section.headings.map(redact),
      text: redact(section.text),
    })),
  };
}
