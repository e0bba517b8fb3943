import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { ErrorCode, OpsbotError } from '../bot/core/errors';
import { loadDocuments } from './documents/load-documents';
import type { EmbeddingProvider } from './embeddings/embedding-provider';
import { buildIndex, type BuildProgress, type BuildReport } from './index/index-builder';
import { indexExists, readIndex, readManifest, type IndexManifest } from './index/index-files';
import type { KnowledgeIndex, SearchOptions, SearchResult } from './index/knowledge-index';

/** Recently asked questions keep their query vector: chat repeats itself, and embedding is the slow part. */
const QUERY_CACHE_SIZE = 512;

export type KnowledgeState =
  | { state: 'ready'; manifest: IndexManifest }
  | { state: 'building'; progress?: BuildProgress; manifest?: IndexManifest }
  | { state: 'missing' }
  | { state: 'error'; message: string; manifest?: IndexManifest };

/**
 * The knowledge index as the running assistant sees it. Searches always go to a complete, loaded
 * generation: a rebuild or a reload prepares the next one on the side and swaps it in when it is whole.
 */
export class KnowledgeBase {
  private live: { manifest: IndexManifest; index: KnowledgeIndex } | undefined;
  private building: Promise<BuildReport> | undefined;
  private progress: BuildProgress | undefined;
  private lastError: string | undefined;
  private readonly queryVectors = new Map<string, Float32Array>();

  constructor(
    readonly indexDir: string,
    readonly provider: EmbeddingProvider,
    private readonly logger?: Logger,
    /** The PII firewall's knowledge path, applied to documents before they are chunked. */
    private readonly redact?: (text: string) => string,
  ) {}

  /** Loads the live generation if there is one. A corrupt or old-format index is reported, not thrown. */
  load(): this {
    if (!indexExists(this.indexDir)) return this;
    try {
      this.swapIn();
    } catch (err) {
      this.lastError = (err as Error).message;
      this.logger?.warn({ err: this.lastError }, 'knowledge index not loaded');
    }
    return this;
  }

  status(): KnowledgeState {
    if (this.building) return { state: 'building', progress: this.progress, manifest: this.live?.manifest };
    if (this.live) return { state: 'ready', manifest: this.live.manifest };
    if (this.lastError) return { state: 'error', message: this.lastError };
    return { state: 'missing' };
  }

  async search(query: string, options: SearchOptions): Promise<SearchResult[]> {
    const live = this.live;
    if (!live) {
      const why = this.building
        ? 'is still being built'
        : this.lastError
          ? `could not be loaded: ${this.lastError}`
          : 'has not been built';
      throw new OpsbotError(ErrorCode.IndexMissing, `the knowledge index ${why}`);
    }
    if (live.manifest.embedding.provider !== this.provider.id) {
      throw new OpsbotError(
        ErrorCode.IndexVersionMismatch,
        `the knowledge index was embedded with ${live.manifest.embedding.provider} but this opsbot uses ${this.provider.id}: rebuild it with "opsbot index build"`,
      );
    }
    return live.index.search(query, await this.queryVector(query), options);
  }

  /** Swaps in a newer generation written by another process (`opsbot index build`), if there is one. */
  reloadIfChanged(): boolean {
    try {
      const manifest = readManifest(this.indexDir);
      if (manifest.generation === this.live?.manifest.generation) return false;
      this.swapIn();
      this.logger?.info({ generation: manifest.generation }, 'knowledge index reloaded');
      return true;
    } catch (err) {
      this.logger?.warn(
        { err: (err as Error).message },
        'knowledge index reload failed; still serving the previous one',
      );
      return false;
    }
  }

  /**
   * Rebuilds from `sources` when they differ from what the live index was built from (or there is none),
   * in the background; queries keep using the previous generation until the new one is swapped in.
   */
  refresh(sources: string[], base: string): Promise<BuildReport | undefined> {
    if (this.building) return this.building;
    if (this.live && !this.sourcesChanged(sources, base)) return Promise.resolve(undefined);
    this.building = buildIndex({
      sources,
      base,
      out: this.indexDir,
      provider: this.provider,
      onProgress: (p) => (this.progress = p),
      redact: this.redact,
    })
      .then((report) => {
        this.swapIn();
        this.lastError = undefined;
        this.logger?.info(
          {
            documents: report.documents,
            chunks: report.chunks,
            embedded: report.embedded,
            reused: report.reused,
            seconds: report.seconds,
          },
          'knowledge index built',
        );
        return report;
      })
      .catch((err: Error) => {
        this.lastError = err.message;
        this.logger?.error({ err: err.message }, 'knowledge index build failed');
        throw err;
      })
      .finally(() => {
        this.building = undefined;
        this.progress = undefined;
      });
    return this.building;
  }

  /** True when a file was added, removed or edited since the live index was built. */
  sourcesChanged(sources: string[], base: string): boolean {
    const live = this.live;
    if (!live) return true;
    const indexed = new Map(live.index.documents.map((d) => [d.source, d.contentHash]));
    let count = 0;
    for (const source of sources) {
      for (const doc of loadDocuments(source, base).documents) {
        count += 1;
        if (indexed.get(doc.source) !== doc.contentHash) return true;
      }
    }
    return count !== indexed.size;
  }

  private swapIn(): void {
    const stored = readIndex(this.indexDir);
    this.live = { manifest: stored.manifest, index: stored.index };
    this.lastError = undefined;
  }

  private async queryVector(query: string): Promise<Float32Array> {
    const key = createHash('sha256').update(query).digest('base64');
    const cached = this.queryVectors.get(key);
    if (cached) {
      this.queryVectors.delete(key);
      this.queryVectors.set(key, cached);
      return cached;
    }
    const [vector] = await this.provider.embed([query]);
    if (!vector) throw new Error('the embedding provider returned no vector');
    this.queryVectors.set(key, vector);
    if (this.queryVectors.size > QUERY_CACHE_SIZE)
      this.queryVectors.delete(this.queryVectors.keys().next().value as string);
    return vector;
  }
}
