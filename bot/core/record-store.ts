import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { replaceFile } from './durable-files';

/**
 * A small keyed store of JSON records that must outlive the process: Teams conversation references (so
 * opsbot can post into a conversation later), and similar bookkeeping of later engines.
 */
export interface RecordStore<T> {
  get(key: string): Promise<T | undefined>;
  put(key: string, value: T): Promise<void>;
  delete(key: string): Promise<void>;
  list(): Promise<{ key: string; value: T }[]>;
  /** How many records there are, without reading them. */
  size(): Promise<number>;
}

/**
 * The embedded default: every record in memory, the whole set written to `<dir>/<name>.json` after each
 * change (to a temporary file first, then renamed, so a crash never leaves half a file). Limits, by design:
 * one process owns the file, and it suits hundreds to a few thousand records, not millions.
 */
export class FileRecordStore<T> implements RecordStore<T> {
  private readonly file: string;
  private readonly records: Map<string, T>;

  constructor(dir: string, name: string) {
    this.file = path.join(dir, `${name}.json`);
    this.records = new Map(Object.entries(readRecords<T>(this.file)));
  }

  async get(key: string): Promise<T | undefined> {
    return this.records.get(key);
  }

  async put(key: string, value: T): Promise<void> {
    this.records.set(key, value);
    this.flush();
  }

  async delete(key: string): Promise<void> {
    if (this.records.delete(key)) this.flush();
  }

  async list(): Promise<{ key: string; value: T }[]> {
    return [...this.records].map(([key, value]) => ({ key, value }));
  }

  async size(): Promise<number> {
    return this.records.size;
  }

  private flush(): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    replaceFile(this.file, JSON.stringify(Object.fromEntries(this.records), null, 1));
  }
}

function readRecords<T>(file: string): Record<string, T> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file} is not a JSON object of records`);
  }
  return parsed as Record<string, T>;
}
