import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import path from 'node:path';
import { replaceFile, writeDurably } from '../../bot/core/durable-files';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import type { Chunk } from '../documents/source-document';
import { Bm25Index, type Bm25Data } from './bm25';
import { KnowledgeIndex, type IndexedDocument } from './knowledge-index';
import { VectorIndex } from './vector-index';

/**
 * On disk an index is a folder of generations and a CURRENT file naming the live one:
 *
 *   out/CURRENT           "gen-000004"
 *   out/gen-000004/       manifest.json corpus.json vectors.f32 leads.f32 bm25.json hnsw.bin
 *
 * A build writes a whole new generation under a temporary name, renames it into place, then replaces
 * CURRENT through a temporary file and rename — each step atomic — so a reader sees the old index or the
 * new one, never half of either. The previous generation is kept for readers that loaded it.
 */
export const INDEX_FORMAT = 'opsbot-knowledge-index';
export const INDEX_FORMAT_VERSION = 1;
const CURRENT = 'CURRENT';
const FILES = ['corpus.json', 'vectors.f32', 'leads.f32', 'bm25.json', 'hnsw.bin'] as const;

export interface IndexManifest {
  format: typeof INDEX_FORMAT;
  version: number;
  generation: string;
  createdAt: string;
  embedding: { provider: string; dimensions: number };
  /** The folders indexed, as given to the build. */
  sources: string[];
  documents: number;
  chunks: number;
  /** sha256 of each data file: a changed byte is caught at load, not served as wrong answers. */
  checksums: Record<string, string>;
}

export interface StoredIndex {
  manifest: IndexManifest;
  index: KnowledgeIndex;
  /** Chunk vectors by content hash: what an incremental rebuild reuses. */
  vectorsByHash: Map<string, Float32Array>;
}

export function writeIndex(
  out: string,
  content: {
    documents: IndexedDocument[];
    chunks: Chunk[];
    vectors: Float32Array[];
    leadVectors: Float32Array[];
    index: KnowledgeIndex;
  },
  meta: { provider: string; dimensions: number; sources: string[] },
): IndexManifest {
  mkdirSync(out, { recursive: true });
  const generation = nextGeneration(out);
  const staging = path.join(out, `.${generation}.tmp-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);

  writeDurably(
    path.join(staging, 'corpus.json'),
    JSON.stringify({ documents: content.documents, chunks: content.chunks }),
  );
  writeDurably(path.join(staging, 'vectors.f32'), packVectors(content.vectors, meta.dimensions));
  writeDurably(path.join(staging, 'leads.f32'), packVectors(content.leadVectors, meta.dimensions));
  writeDurably(path.join(staging, 'bm25.json'), JSON.stringify(content.index.lexicalIndex.toData()));
  content.index.vectorIndex.write(path.join(staging, 'hnsw.bin'));
  fsyncFile(path.join(staging, 'hnsw.bin'));

  const manifest: IndexManifest = {
    format: INDEX_FORMAT,
    version: INDEX_FORMAT_VERSION,
    generation,
    createdAt: new Date().toISOString(),
    embedding: { provider: meta.provider, dimensions: meta.dimensions },
    sources: meta.sources,
    documents: content.documents.length,
    chunks: content.chunks.length,
    checksums: Object.fromEntries(FILES.map((f) => [f, sha256(readFileSync(path.join(staging, f)))])),
  };
  writeDurably(path.join(staging, 'manifest.json'), JSON.stringify(manifest, null, 2));
  renameSync(staging, path.join(out, generation));
  replaceFile(path.join(out, CURRENT), `${generation}\n`);
  pruneGenerations(out, generation);
  return manifest;
}

/** Reads the live generation. Missing, corrupt and older-format indexes are coded errors that say what to do. */
export function readIndex(dir: string): StoredIndex {
  const manifest = readManifest(dir);
  const genDir = path.join(dir, manifest.generation);
  const files = Object.fromEntries(
    FILES.map((f) => {
      let bytes: Buffer;
      try {
        bytes = readFileSync(path.join(genDir, f));
      } catch {
        throw corrupt(dir, `${f} is missing`);
      }
      if (sha256(bytes) !== manifest.checksums[f]) throw corrupt(dir, `${f} does not match its checksum`);
      return [f, bytes];
    }),
  ) as Record<(typeof FILES)[number], Buffer>;

  try {
    const corpus = JSON.parse(files['corpus.json'].toString('utf8')) as {
      documents: IndexedDocument[];
      chunks: Chunk[];
    };
    const dims = manifest.embedding.dimensions;
    const chunkVectors = unpackVectors(files['vectors.f32'], dims, corpus.chunks.length, 'chunk');
    const leadVectors = unpackVectors(files['leads.f32'], dims, corpus.documents.length, 'document');
    const vectorsByHash = new Map<string, Float32Array>();
    corpus.chunks.forEach((c, i) => vectorsByHash.set(c.contentHash, chunkVectors[i] as Float32Array));
    corpus.documents.forEach((d, i) => vectorsByHash.set(d.leadHash, leadVectors[i] as Float32Array));
    const index = new KnowledgeIndex(
      corpus.documents,
      corpus.chunks,
      Bm25Index.fromData(JSON.parse(files['bm25.json'].toString('utf8')) as Bm25Data),
      VectorIndex.read(path.join(genDir, 'hnsw.bin'), dims),
      leadVectors,
    );
    return { manifest, index, vectorsByHash };
  } catch (err) {
    if (err instanceof OpsbotError) throw err;
    throw corrupt(dir, (err as Error).message);
  }
}

export function readManifest(dir: string): IndexManifest {
  let generation: string;
  try {
    generation = readFileSync(path.join(dir, CURRENT), 'utf8').trim();
  } catch {
    throw new OpsbotError(
      ErrorCode.IndexMissing,
      `no knowledge index at ${dir}: build one with "opsbot index build"`,
    );
  }
  let manifest: IndexManifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, generation, 'manifest.json'), 'utf8')) as IndexManifest;
  } catch (err) {
    throw corrupt(dir, `its manifest cannot be read (${(err as Error).message.split('\n')[0]})`);
  }
  if (manifest.format !== INDEX_FORMAT || manifest.version !== INDEX_FORMAT_VERSION) {
    throw new OpsbotError(
      ErrorCode.IndexVersionMismatch,
      `the knowledge index at ${dir} has format ${manifest.format ?? '?'} v${manifest.version ?? '?'}, this opsbot reads ${INDEX_FORMAT} v${INDEX_FORMAT_VERSION}: rebuild it with "opsbot index build"`,
    );
  }
  return manifest;
}

function packVectors(vectors: readonly Float32Array[], dimensions: number): Buffer {
  const packed = new Float32Array(vectors.length * dimensions);
  vectors.forEach((v, i) => packed.set(v, i * dimensions));
  return Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
}

function unpackVectors(raw: Buffer, dimensions: number, count: number, what: string): Float32Array[] {
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  if (all.length !== count * dimensions) throw new Error(`${what} vector count does not match the ${what}s`);
  return Array.from({ length: count }, (_, i) => all.subarray(i * dimensions, (i + 1) * dimensions));
}

function corrupt(dir: string, why: string): OpsbotError {
  return new OpsbotError(
    ErrorCode.IndexCorrupt,
    `the knowledge index at ${dir} is corrupt: ${why}; rebuild it with "opsbot index build"`,
  );
}

function nextGeneration(out: string): string {
  const numbers = readdirSync(out)
    .map((name) => /^gen-(\d+)$/.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number);
  return `gen-${String(Math.max(0, ...numbers) + 1).padStart(6, '0')}`;
}

/** Keeps the live generation and the one before it; removes older ones and abandoned staging folders. */
function pruneGenerations(out: string, live: string): void {
  const generations = readdirSync(out)
    .filter((n) => /^gen-\d+$/.test(n))
    .sort();
  const keep = new Set([live, generations[generations.indexOf(live) - 1]]);
  for (const name of readdirSync(out)) {
    const stale =
      (/^gen-\d+$/.test(name) && !keep.has(name)) ||
      (/^\.gen-\d+\.tmp-(\d+)$/.exec(name) && !isRunning(Number(/tmp-(\d+)$/.exec(name)?.[1])));
    if (stale) rmSync(path.join(out, name), { recursive: true, force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function indexExists(dir: string): boolean {
  return existsSync(path.join(dir, CURRENT));
}
