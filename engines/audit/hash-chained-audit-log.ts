import { createHash } from 'node:crypto';
import {
  close,
  closeSync,
  fdatasync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { LogAuditTrail, type AuditEntry, type AuditTrail } from '../../bot/core/audit-trail';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import type { Logger } from '../../bot/core/logger';
import { canonicalJson } from './canonical-json';
import { redactSecrets } from './redact-secrets';

/** The `prev` of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** One line of the audit log. */
export interface AuditRecord {
  /** 0 on the first line, then one more on each. */
  seq: number;
  /** When it was recorded, ISO 8601. */
  at: string;
  /** The hash of the record before it, GENESIS_HASH for the first. */
  prev: string;
  /** sha256, hex, over canonicalJson({ seq, at, prev, entry }). */
  hash: string;
  /** With secrets redacted. */
  entry: AuditEntry;
}

export interface HashChainedAuditLogOptions {
  /** The JSON Lines file; its folder is created. One process writes it at a time. */
  file: string;
  /**
   * When appended records are fdatasynced. A number: at most that many ms after a write (default 100), so a
   * power loss can take the last moments of records while a crash of opsbot alone takes none (what write(2)
   * handed the kernel reaches the disk anyway). 'always': after every group commit, and flush() waits for it.
   */
  fdatasync?: number | 'always';
  /** Also logs each (redacted) record as LogAuditTrail does, and reports the log's own write failures. */
  logger?: Logger;
  /**
   * What an entry becomes before it is hashed and kept: `redactSecrets` unless given; the runtime adds the PII
   * firewall's audit path to it.
   */
  redact?: (entry: AuditEntry) => AuditEntry;
}

const DEFAULT_SYNC_INTERVAL_MS = 100;
/** A failed write is tried again after this long, with everything recorded meanwhile. */
const RETRY_WRITE_MS = 1000;
/**
 * Records waiting for a disk that keeps failing; past this, new ones are dropped (and reported) rather than
 * letting memory grow without bound. About ten seconds of the orchestrator benchmark's load.
 */
const MAX_PENDING_RECORDS = 100_000;
/** The tail read on open starts with this much and doubles until it holds a whole line. */
const TAIL_CHUNK_BYTES = 4096;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const RECORD_FIELDS = ['seq', 'at', 'prev', 'hash', 'entry'];
const NEWLINE = 10;

const fdatasyncInBackground = promisify(fdatasync);
const closeInBackground = promisify(close);

/** An audit log that cannot be continued because its last record is damaged. */
export class AuditLogCorruptError extends OpsbotError {
  constructor(message: string) {
    super(ErrorCode.AuditLogCorrupt, message);
    this.name = 'AuditLogCorruptError';
  }
}

/** The hash of a record: sha256 over canonicalJson({ seq, at, prev, entry }). */
export function auditRecordHash(record: Omit<AuditRecord, 'hash'>): string {
  return hashOf(record.seq, record.at, record.prev, canonicalJson(record.entry));
}

/** canonicalJson({ seq, at, prev, entry }) written out, so the writer serializes each entry only once. */
function hashOf(seq: number, at: string, prev: string, entryJson: string): string {
  return createHash('sha256')
    .update(`{"at":${JSON.stringify(at)},"entry":${entryJson},"prev":${JSON.stringify(prev)},"seq":${seq}}`)
    .digest('hex');
}

/**
 * One line read as a record on its own: the right fields of the right types, and a hash that matches them.
 * Whether it follows the record before it is the chain's question (verifyAuditLog).
 */
export function parseAuditLine(line: string): { record: AuditRecord } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { problem: 'not a JSON record' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { problem: 'not an audit record: not a JSON object' };
  const fields = Object.keys(value);
  // A field the hash does not cover could be added or changed unnoticed.
  const unexpected = fields.find((field) => !RECORD_FIELDS.includes(field));
  if (unexpected !== undefined) return { problem: `not an audit record: unexpected field "${unexpected}"` };
  const missing = RECORD_FIELDS.find((field) => !fields.includes(field));
  if (missing !== undefined) return { problem: `not an audit record: no "${missing}"` };
  const { seq, at, prev, hash, entry } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(seq) || (seq as number) < 0)
    return { problem: 'not an audit record: seq is not a whole number' };
  if (typeof at !== 'string') return { problem: 'not an audit record: at is not a string' };
  if (typeof prev !== 'string' || !HEX_SHA256.test(prev))
    return { problem: 'not an audit record: prev is not a sha256 hash' };
  if (typeof hash !== 'string' || !HEX_SHA256.test(hash))
    return { problem: 'not an audit record: hash is not a sha256 hash' };
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    return { problem: 'not an audit record: entry is not an object' };
  const record = { seq: seq as number, at, prev, hash, entry: entry as AuditEntry };
  if (auditRecordHash(record) !== hash) return { problem: 'hash does not match its contents' };
  return { record };
}

/**
 * The last `count` lines of a file, oldest first, read backwards from its end a few KB at a time: the audit
 * log only grows, and neither opening it nor `opsbot audit tail` should read all of it. `complete` is false
 * when the file does not end with a line break, that is when its last line was cut short.
 */
export function readLastLines(file: string, count: number): { lines: string[]; complete: boolean } {
  const fd = openSync(file, 'r');
  try {
    return lastLinesOf(fd, count);
  } finally {
    closeSync(fd);
  }
}

function lastLinesOf(fd: number, count: number): { lines: string[]; complete: boolean } {
  const size = fstatSync(fd).size;
  if (size === 0) return { lines: [], complete: true };
  let data = Buffer.alloc(0);
  let start = size;
  let chunkBytes = TAIL_CHUNK_BYTES;
  for (;;) {
    const from = Math.max(0, start - chunkBytes);
    const piece = Buffer.alloc(start - from);
    let read = 0;
    while (read < piece.length) read += readSync(fd, piece, read, piece.length - read, from + read);
    data = Buffer.concat([piece, data]);
    start = from;
    const complete = data[data.length - 1] === NEWLINE;
    const body = complete ? data.subarray(0, -1) : data;
    let breaks = 0;
    for (let at = body.indexOf(NEWLINE); at !== -1 && breaks < count; at = body.indexOf(NEWLINE, at + 1))
      breaks += 1;
    // Unless the read reached the start of the file, the text before the first break may be part of a line.
    if (start === 0 || breaks >= count) {
      const lines = body.toString('utf8').split('\n');
      return { lines: (start === 0 ? lines : lines.slice(1)).slice(-count), complete };
    }
    chunkBytes *= 2;
  }
}

/**
 * The tamper-evident audit trail: an append-only JSON Lines file where each record carries the hash of the one
 * before it, so `opsbot audit verify` (verifyAuditLog) finds any record edited, removed or moved. Secrets are
 * redacted before hashing, so the file never holds them and the chain still verifies.
 *
 * `record` chains the entry at once (its seq is the order of the calls) and queues the line; once per
 * event-loop turn every queued line goes out in one write(2) (group commit), fdatasynced on an interval or
 * after every write. A write that fails is cut back to the last whole line and tried again, so the file never
 * holds a gap in the chain; while the disk keeps failing, records queue up to a bound, then are dropped before
 * they take a seq, and each failure streak is reported once to the logger.
 *
 * On open the chain continues from the last line, read from the end of the file; a last line that is not a
 * whole, valid record is refused, as appending after it would bury the damage mid-file.
 *
 * The chain shows tampering by anyone who cannot recompute it: whoever can rewrite the whole file can forge a
 * valid chain, which is why verify prints the head hash to be kept elsewhere (`--expect-head`).
 *
 * Not rotated, by design for now: a record is about 500 bytes, and a rotation would have to carry the chain
 * across files for verify to follow.
 */
export class HashChainedAuditLog implements AuditTrail {
  readonly file: string;
  private readonly fd: number;
  private readonly syncAlways: boolean;
  private readonly syncIntervalMs: number;
  private readonly logger?: Logger;
  private readonly mirror?: LogAuditTrail;
  private readonly redact: (entry: AuditEntry) => AuditEntry;
  private nextSeq: number;
  private head: string;
  /** The file's length up to its last whole record: where a failed write is cut back to. */
  private bytes: number;
  private pending: string[] = [];
  private writeHandle?: NodeJS.Immediate;
  private retryTimer?: NodeJS.Timeout;
  private syncTimer?: NodeJS.Timeout;
  /** fdatasyncs, one after another. */
  private syncChain: Promise<void> = Promise.resolve();
  /** A sync on the chain that has not started yet: it covers anything written before it starts, so join it. */
  private queuedSync?: Promise<void>;
  /** With fdatasync 'always': the sync that covers the last write, which flush() waits for. */
  private lastWriteSynced: Promise<void> = Promise.resolve();
  /** A failed write that could not be cut back: appending after it would hide it, so nothing more is. */
  private broken?: Error;
  /** Failures since the last good write; only the first of a streak is reported. */
  private failures = 0;
  private closing?: Promise<void>;
  /** The last timestamp written, reused within its millisecond: formatting a date is a tenth of a record's cost. */
  private lastAt = { ms: NaN, iso: '' };

  constructor(options: HashChainedAuditLogOptions) {
    this.file = options.file;
    const sync = options.fdatasync ?? DEFAULT_SYNC_INTERVAL_MS;
    if (sync !== 'always' && !(sync > 0))
      throw new Error(`fdatasync must be 'always' or a positive number of ms`);
    this.syncAlways = sync === 'always';
    this.syncIntervalMs = sync === 'always' ? 0 : sync;
    this.logger = options.logger;
    this.redact = options.redact ?? redactSecrets;
    this.mirror = options.logger ? new LogAuditTrail(options.logger) : undefined;
    mkdirSync(path.dirname(this.file), { recursive: true });
    this.fd = openSync(this.file, 'a+');
    try {
      const { seq, hash } = this.lastRecord();
      this.nextSeq = seq + 1;
      this.head = hash;
      this.bytes = fstatSync(this.fd).size;
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
  }

  record(entry: AuditEntry): void {
    try {
      const redacted = this.redact(entry);
      // Operators see it in the logs even when the file cannot take it.
      this.mirror?.record(redacted);
      if (this.closing) throw new Error('the audit log is closed');
      if (this.broken) throw this.broken;
      if (this.pending.length >= MAX_PENDING_RECORDS)
        throw new Error(`${MAX_PENDING_RECORDS} records are waiting for the disk already`);
      const at = this.timestamp();
      const entryJson = canonicalJson(redacted);
      const hash = hashOf(this.nextSeq, at, this.head, entryJson);
      this.pending.push(
        `{"seq":${this.nextSeq},"at":${JSON.stringify(at)},"prev":"${this.head}","hash":"${hash}","entry":${entryJson}}\n`,
      );
      this.nextSeq += 1;
      this.head = hash;
      this.writeHandle ??= setImmediate(() => this.writeInBackground());
    } catch (err) {
      this.reportFailure(err, `audit record ${entry.action} ${entry.phase} not written`);
    }
  }

  /**
   * Resolves once every record recorded before the call is written (and, with fdatasync 'always', synced);
   * rejects when that failed.
   */
  async flush(): Promise<void> {
    if (this.closing) return this.closing;
    this.writePending();
    if (this.syncAlways) await this.lastWriteSynced;
  }

  /** Writes what is queued, syncs and closes the file; records after this are reported and dropped. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.retryTimer);
    try {
      this.writePending();
    } finally {
      // The sync below covers that write; a timer firing after the close would sync a descriptor number the
      // process may have given to another file by then.
      clearTimeout(this.syncTimer);
      try {
        await this.sync();
      } finally {
        await closeInBackground(this.fd);
      }
    }
  }

  private timestamp(): string {
    const ms = Date.now();
    if (ms !== this.lastAt.ms) this.lastAt = { ms, iso: new Date(ms).toISOString() };
    return this.lastAt.iso;
  }

  /** The seq and hash the chain continues from. */
  private lastRecord(): { seq: number; hash: string } {
    const { lines, complete } = lastLinesOf(this.fd, 1);
    const last = lines[0];
    if (last === undefined) return { seq: -1, hash: GENESIS_HASH };
    const verify = `check it with: opsbot audit verify --file ${this.file}`;
    if (!complete)
      throw new AuditLogCorruptError(
        `cannot continue the audit log ${this.file}: its last line is cut short (no line end); ${verify}`,
      );
    const parsed = parseAuditLine(last);
    if ('problem' in parsed)
      throw new AuditLogCorruptError(
        `cannot continue the audit log ${this.file}: its last line is damaged (${parsed.problem}); ${verify}`,
      );
    return parsed.record;
  }

  private writeInBackground(): void {
    this.writeHandle = undefined;
    try {
      this.writePending();
    } catch {
      // Reported, and retried, by writePending.
    }
  }

  private retryWrite(): void {
    this.retryTimer = undefined;
    this.writeInBackground();
  }

  /**
   * The group commit: every queued line in one write(2). Throws when the write failed, after reporting it and
   * arranging a retry.
   */
  private writePending(): void {
    if (this.writeHandle) {
      clearImmediate(this.writeHandle);
      this.writeHandle = undefined;
    }
    if (this.broken) throw this.broken;
    if (this.pending.length === 0) return;
    const data = Buffer.from(this.pending.join(''), 'utf8');
    try {
      let written = 0;
      while (written < data.length) written += writeSync(this.fd, data, written, data.length - written);
    } catch (err) {
      // Cut off whatever part landed: the lines stay queued and go out whole with the next attempt.
      try {
        ftruncateSync(this.fd, this.bytes);
      } catch (truncateError) {
        this.broken = truncateError as Error;
        this.pending = [];
        this.reportFailure(err, 'audit log write failed and could not be cut back; nothing more is written', {
          evenMidStreak: true,
        });
        throw err;
      }
      this.reportFailure(err, 'audit log write failed; retrying');
      if (!this.closing) this.retryTimer ??= setTimeout(() => this.retryWrite(), RETRY_WRITE_MS).unref();
      throw err;
    }
    this.pending = [];
    this.bytes += data.length;
    if (this.failures > 0) {
      this.logger?.warn(
        { event: 'audit_log_recovered', file: this.file, failures: this.failures },
        'audit log writable again',
      );
      this.failures = 0;
    }
    if (this.syncAlways) this.lastWriteSynced = this.sync();
    else this.syncTimer ??= setTimeout(() => this.syncOnInterval(), this.syncIntervalMs).unref();
  }

  private syncOnInterval(): void {
    this.syncTimer = undefined;
    this.sync().catch(() => undefined); // reported on the chain
  }

  private sync(): Promise<void> {
    if (this.queuedSync) return this.queuedSync;
    const synced = this.syncChain.then(() => {
      this.queuedSync = undefined;
      return fdatasyncInBackground(this.fd);
    });
    this.queuedSync = synced;
    this.syncChain = synced.catch((err: unknown) => this.reportFailure(err, 'audit log fdatasync failed'));
    return synced;
  }

  /**
   * Never throws: the action being recorded must not fail because its audit record could not be written. A disk
   * that stays full fails every write and record for a while; one report says so.
   */
  private reportFailure(err: unknown, message: string, options: { evenMidStreak?: boolean } = {}): void {
    this.failures += 1;
    if (this.failures > 1 && !options.evenMidStreak) return;
    const error = err instanceof Error ? err.message : String(err);
    if (this.logger) this.logger.error({ event: 'audit_log_failed', file: this.file, error }, message);
    else process.emitWarning(`${message}: ${error}`, 'AuditLogWarning');
  }
}
