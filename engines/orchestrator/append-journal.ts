import { closeSync, fdatasync, ftruncateSync, mkdirSync, openSync, readFileSync, write } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { replaceFile } from '../../bot/core/durable-files';

const writeInBackground = promisify(write);
const fdatasyncInBackground = promisify(fdatasync);

/**
 * When appends reach the disk. SIGKILL safety needs only write(2), which every policy waits for; 'always'
 * also waits for fdatasync (power-loss safe), concurrent appends sharing one.
 */
export type JournalSync = 'always' | 'never';

/**
 * An append-only file of JSON lines with group commit: appends made while a write is in flight go out together
 * in the next one, so a thousand transitions a second cost a few hundred writes, not a thousand. The owner
 * replays it on open and compacts it (rewrite with its live state) when it has grown.
 */
export class AppendJournal {
  private fd: number;
  private pending: string[] = [];
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  private flushing = false;
  private bytes: number;
  private failure?: Error;
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly sync: JournalSync,
    bytes: number,
  ) {
    this.fd = openSync(file, 'a');
    this.bytes = bytes;
  }

  /**
   * Opens `file` (created with its directory), hands every complete line to `replay` in order and returns the
   * journal. A last line without its newline is the write a crash interrupted: it is cut off.
   */
  static open(file: string, sync: JournalSync, replay: (line: string) => void): AppendJournal {
    mkdirSync(path.dirname(file), { recursive: true });
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const complete = text.lastIndexOf('\n') + 1;
    if (complete < text.length) {
      const fd = openSync(file, 'r+');
      try {
        ftruncateSync(fd, Buffer.byteLength(text.slice(0, complete)));
      } finally {
        closeSync(fd);
      }
    }
    for (const line of text.slice(0, complete).split('\n')) if (line !== '') replay(line);
    return new AppendJournal(file, sync, Buffer.byteLength(text.slice(0, complete)));
  }

  get size(): number {
    return this.bytes;
  }

  /** Resolves once the line is written (and fdatasynced with 'always'). */
  append(line: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.pending.push(line);
      this.waiters.push({ resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /**
   * Replaces the file with `lines` (the live state), atomically. Called between group commits by the owner, who
   * must pass state that includes everything appended so far.
   */
  async compact(lines: () => string[]): Promise<void> {
    await this.idle();
    const content = lines()
      .map((l) => `${l}\n`)
      .join('');
    closeSync(this.fd);
    replaceFile(this.file, content);
    this.fd = openSync(this.file, 'a');
    this.bytes = Buffer.byteLength(content);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle();
    closeSync(this.fd);
  }

  private async idle(): Promise<void> {
    while (this.flushing || this.pending.length > 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const lines = this.pending;
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      const data = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
      try {
        let offset = 0;
        while (offset < data.length) {
          const { bytesWritten } = await writeInBackground(this.fd, data, offset, data.length - offset);
          offset += bytesWritten;
        }
        if (this.sync === 'always') await fdatasyncInBackground(this.fd);
        this.bytes += data.length;
        for (const w of waiters) w.resolve();
      } catch (err) {
        // The file may now end in half a line: nothing more is accepted until it is reopened (and cut there).
        this.failure = err as Error;
        for (const w of [...waiters, ...this.waiters]) w.reject(err);
        this.pending = [];
        this.waiters = [];
      }
    }
    this.flushing = false;
  }
}
