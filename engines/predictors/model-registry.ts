import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '../../bot/core/errors';
import type { Component } from '../../bot/core/health';
import type { Logger } from '../../bot/core/logger';
import { metadataFieldError, metadataPathFor, PredictorError, type ModelTask } from './model-metadata';
import { OnnxModel, type AnyOnnxModel } from './onnx-model';

export interface ModelRegistryOptions {
  logger?: Logger;
  /** How often to compare the folder's files with what is loaded, for filesystems whose events never arrive. */
  pollMs?: number;
}

export type ModelListing =
  | {
      state: 'loaded';
      name: string;
      version: string;
      task: ModelTask;
      file: string;
      /** ISO timestamp of the load that is serving. */
      loadedAt: string;
      metrics: Record<string, number>;
      /** Why the files on disk now could not replace the serving model. */
      error?: string;
    }
  | { state: 'error'; name: string; file: string; error: string };

const DEFAULT_POLL_MS = 2000;
// A write reaches the watcher as several events (truncate, then chunks); loading after the burst settles
// avoids reading a half-written file.
const WATCH_SETTLE_MS = 100;

interface Entry {
  name: string;
  file: string;
  model?: AnyOnnxModel;
  loadedAt?: Date;
  error?: string;
  /** Stat of the model and metadata files at the last load attempt: a different one means they changed. */
  signature?: string;
}

/**
 * The models in one folder, each `<name>.onnx` with its `<name>.json`, kept current: when either file
 * changes the registry loads the new pair in the background and swaps it in only if it loads and validates,
 * so a bad upload leaves the previous model serving. A model file that disappears also keeps its last model
 * serving (with an error listed) until the process restarts.
 *
 * Hold a model only for one prediction (`registry.get(name).predict(...)`): a reload releases the old one.
 */
export class ModelRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly logger?: Logger;
  private readonly pollMs: number;
  private watcher?: FSWatcher;
  private pollTimer?: NodeJS.Timeout;
  private settleTimer?: NodeJS.Timeout;
  private scans: Promise<void> = Promise.resolve();
  private scanQueued = false;
  private started = false;
  private closed = false;

  constructor(
    readonly dir: string,
    options: ModelRegistryOptions = {},
  ) {
    this.logger = options.logger;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  }

  /** Loads every model in the folder, then watches it. Fails only if the folder cannot be read. */
  async loadAll(): Promise<void> {
    if (this.closed) throw new PredictorError(ErrorCode.Internal, 'the model registry is closed');
    try {
      await readdir(this.dir);
    } catch (err) {
      throw new PredictorError(
        ErrorCode.ConfigInvalid,
        `cannot read the model folder ${this.dir}: ${(err as Error).message}`,
        { file: this.dir },
        { cause: err },
      );
    }
    await this.queueScan();
    this.started = true;
    this.watch();
  }

  get(name: string): AnyOnnxModel;
  get<T extends ModelTask>(name: string, task: T): OnnxModel<T>;
  get(name: string, task?: ModelTask): AnyOnnxModel {
    const entry = this.entries.get(name);
    if (!entry?.model) {
      const why = entry?.error ? `: ${entry.error}` : '';
      throw new PredictorError(ErrorCode.NotFound, `no model "${name}" is loaded from ${this.dir}${why}`);
    }
    const { model } = entry;
    if (task && model.task !== task) {
      throw new PredictorError(
        ErrorCode.ConfigInvalid,
        `model "${name}" is a ${model.metadata.task} model, not ${task}`,
        { file: model.metadataFile, field: 'task' },
      );
    }
    return model;
  }

  list(): ModelListing[] {
    return [...this.entries.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((entry): ModelListing => {
        const { model, loadedAt } = entry;
        if (!model || !loadedAt) {
          return { state: 'error', name: entry.name, file: entry.file, error: entry.error ?? 'not loaded' };
        }
        const { name, version, task, metrics } = model.metadata;
        return {
          state: 'loaded',
          name,
          version,
          task,
          file: entry.file,
          loadedAt: loadedAt.toISOString(),
          metrics,
          ...(entry.error ? { error: entry.error } : {}),
        };
      });
  }

  /** Not required for readiness: opsbot answers chat without its predictors. */
  component(): Component {
    return {
      name: 'predictors',
      requiredForReadiness: false,
      check: async () => {
        if (!this.started) return { state: 'unknown', detail: 'models not loaded yet' };
        const listing = this.list();
        const loaded = listing.filter((m) => m.state === 'loaded').length;
        const summary = `${loaded} ${loaded === 1 ? 'model' : 'models'} loaded`;
        const errors = listing.flatMap((m) => (m.error ? [`${m.name}: ${m.error}`] : []));
        if (errors.length > 0) return { state: 'warning', detail: `${summary}; ${errors.join('; ')}` };
        if (loaded === 0) return { state: 'warning', detail: `no models in ${this.dir}` };
        return { state: 'ok', detail: summary };
      },
    };
  }

  /** Stops watching, waits for a reload in progress, and releases every model. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    clearInterval(this.pollTimer);
    clearTimeout(this.settleTimer);
    await this.scans;
    const models = [...this.entries.values()].flatMap((entry) => (entry.model ? [entry.model] : []));
    this.entries.clear();
    await Promise.all(models.map((model) => model.release()));
  }

  private watch(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => void this.queueScan(), this.pollMs).unref();
    try {
      this.watcher = watch(this.dir, (_event, filename) => {
        if (filename && !/\.(onnx|json)$/.test(filename)) return;
        clearTimeout(this.settleTimer);
        this.settleTimer = setTimeout(() => void this.queueScan(), WATCH_SETTLE_MS).unref();
      });
      this.watcher.on('error', (err) => {
        this.logger?.warn({ err, dir: this.dir }, 'model folder watch failed; polling only');
        this.watcher?.close();
      });
      this.watcher.unref();
    } catch (err) {
      // Out of inotify watches, or a filesystem without events: the poll still sees every change.
      this.logger?.warn({ err, dir: this.dir }, 'cannot watch the model folder; polling only');
    }
  }

  /** Scans run one at a time, and requests made while one waits to start share it. */
  private queueScan(): Promise<void> {
    if (this.closed) return this.scans;
    if (!this.scanQueued) {
      this.scanQueued = true;
      this.scans = this.scans
        .then(() => {
          this.scanQueued = false;
          return this.closed ? undefined : this.scan();
        })
        .catch((err: unknown) => this.logger?.error({ err, dir: this.dir }, 'model folder scan failed'));
    }
    return this.scans;
  }

  private async scan(): Promise<void> {
    let files: string[];
    try {
      files = await readdir(this.dir);
    } catch (err) {
      this.logger?.warn({ err, dir: this.dir }, 'cannot read the model folder');
      return;
    }
    const names = new Set(files.filter((f) => f.endsWith('.onnx')).map((f) => f.slice(0, -5)));
    for (const name of names) {
      if (this.closed) return;
      const file = path.join(this.dir, `${name}.onnx`);
      const signature = await fileSignature(file);
      if (this.entries.get(name)?.signature !== signature) await this.load(name, file, signature);
    }
    for (const entry of this.entries.values()) {
      if (names.has(entry.name)) continue;
      if (!entry.model) {
        this.entries.delete(entry.name);
      } else if (entry.signature !== undefined) {
        entry.signature = undefined;
        entry.error = `${entry.file} was removed; the model loaded before keeps serving`;
        this.logger?.warn(
          { model: entry.name, file: entry.file },
          'model file removed; keeping the loaded model',
        );
      }
    }
  }

  private async load(name: string, file: string, signature: string): Promise<void> {
    // Listed only once this attempt has an outcome, so list() never shows a model as half-loaded.
    const entry: Entry = this.entries.get(name) ?? { name, file };
    let model: AnyOnnxModel | undefined;
    try {
      model = await OnnxModel.load(file);
      if (model.metadata.name !== name) {
        throw metadataFieldError(
          model.metadataFile,
          'name',
          `"${model.metadata.name}" must match the model file's name "${name}"`,
        );
      }
    } catch (err) {
      await model?.release();
      entry.signature = signature;
      entry.error = err instanceof Error ? err.message : String(err);
      this.entries.set(name, entry);
      this.logger?.error(
        { err, model: name, file, serving: entry.model?.metadata.version ?? null },
        entry.model ? 'model reload failed; the previous model keeps serving' : 'model failed to load',
      );
      return;
    }
    const previous = entry.model;
    entry.model = model;
    entry.signature = signature;
    entry.loadedAt = new Date();
    entry.error = undefined;
    this.entries.set(name, entry);
    this.logger?.info(
      {
        model: name,
        version: model.metadata.version,
        task: model.metadata.task,
        file,
        replaced: previous?.metadata.version,
      },
      previous ? 'model reloaded' : 'model loaded',
    );
    await previous?.release();
  }
}

/** Identity, size and both timestamps of the model and its metadata: a copy with preserved mtime still differs. */
async function fileSignature(file: string): Promise<string> {
  const parts = await Promise.all(
    [file, metadataPathFor(file)].map(async (f) => {
      try {
        const s = await stat(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
      } catch {
        return 'missing';
      }
    }),
  );
  return parts.join('|');
}
