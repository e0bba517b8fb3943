import {
  close,
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { replaceFile } from '../../../bot/core/durable-files';
import type { OpsEvent } from '../envelope';
import {
  partitionOf,
  type Delivery,
  type DeliveryHandler,
  type EventTransport,
  type Subscription,
  type SubscriptionSpec,
  type TransportRecord,
} from '../transport';

/**
 * When the log is fdatasynced. SIGKILL safety needs only write(2): what a process wrote is in the kernel's page
 * cache and reaches the disk whether or not the process lives, so every policy keeps acknowledged events
 * across a crash of opsbot. Power-loss (or kernel crash) safety needs 'always'.
 * - 'always': `publish` resolves after fdatasync; concurrent publishes share one.
 * - 'interval': at most every 100 ms; a power loss can take the last 100 ms of acknowledged events.
 * - 'never': left to the kernel.
 */
export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface MemoryTransportOptions {
  /** Where the logs and committed offsets live. One process owns it at a time. */
  dir: string;
  partitions: number;
  /** Default 'interval'. */
  fsync?: FsyncPolicy;
  /** Per topic, default 256 MiB: past it the oldest segment every known group has committed is dropped. */
  maxLogBytes?: number;
}

const DEFAULT_MAX_LOG_BYTES = 256 * 1024 * 1024;
/** Retention frees a quarter of the budget at a time, so the log stays near maxLogBytes while groups keep up. */
const SEGMENTS_PER_LOG = 4;
const SYNC_INTERVAL_MS = 100;
const COMMIT_INTERVAL_MS = 50;
/** The bus retries with its own backoff; this pause only keeps a handler that always fails from spinning. */
const RETRY_DELAY_MS = 100;
/** Records handed out in a row before a partition's loop lets I/O in: with no round trip, that is batchSize here. */
const DEFAULT_BATCH_SIZE = 500;
const LOG_FORMAT = 1;
const SEGMENT_FILE = /^\d{12}\.log$/;
const OFFSETS_SUFFIX = '.offsets.json';

const fdatasyncInBackground = promisify(fdatasync);
const closeInBackground = promisify(close);

/** The retained records of one partition: the published objects, or parsed once on replay, never per delivery. */
interface Partition {
  /** Offset of keys[0] and events[0]; where a new group starts. */
  base: number;
  keys: string[];
  events: OpsEvent[];
}

/**
 * One file of a topic's log. Its first line is a header with, per partition, the offset its first record of
 * that partition has (`next`), so offsets survive even when every record of a partition has been dropped.
 */
interface Segment {
  file: string;
  sequence: number;
  start: number[];
  /** One past its last record, per partition. */
  end: number[];
  bytes: number;
  /** Open for the active (last) segment only. */
  fd?: number;
  /** fdatasyncs and the close of `fd`, in order, so a sync never races the close. */
  chain: Promise<void>;
  /** A sync on the chain that has not started yet: it covers anything written before it starts, so join it. */
  queuedSync?: Promise<void>;
}

/** Records accepted by `publish` and waiting for the next group commit. */
interface Batch {
  lines: string[];
  partitions: number[];
  keys: string[];
  events: OpsEvent[];
  done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Topic {
  name: string;
  dir: string;
  partitions: Partition[];
  /** Oldest first; the last one is written to. */
  segments: Segment[];
  bytes: number;
  /** Offsets handed out to records of `batch`; equal to the partitions' ends between group commits. */
  next: number[];
  batch?: Batch;
  /** Written since the last interval fdatasync. */
  dirty: boolean;
  /**
   * A failed fdatasync (the page cache may have dropped acknowledged writes) or a failed write that could not be
   * cut off again: nothing more is accepted on this log until it is reopened.
   */
  failure?: Error;
  groups: Map<string, Group>;
}

/** One group's reading of one partition. */
interface Cursor {
  partition: number;
  /** Next offset to deliver; everything before it is handled. */
  position: number;
  owner?: GroupMember;
  /** Deliveries so far of the record at `position`. */
  attempts: number;
  draining: boolean;
  /** Whose handler has the record at `position` right now. */
  handledBy?: GroupMember;
  /** Called once that handler has settled and its record is acknowledged or left for redelivery. */
  settled?: (() => void)[];
  retry?: { wake: () => void };
}

interface Group {
  file: string;
  cursors: Cursor[];
  /** Live subscriptions, in the order they joined: partition p goes to members[p % members.length]. */
  members: GroupMember[];
  /** The positions its offsets file holds; retention goes by these, not by commits a crash could lose. */
  persisted: number[];
  onDisk: boolean;
  commitTimer?: NodeJS.Timeout;
  /** Offsets-file writes, one at a time. */
  writes: Promise<void>;
}

class GroupMember implements Subscription {
  private closing?: Promise<void>;

  constructor(
    readonly handler: DeliveryHandler,
    readonly batchSize: number,
    private readonly leave: (member: GroupMember) => Promise<void>,
  ) {}

  close(): Promise<void> {
    return (this.closing ??= this.leave(this));
  }
}

/**
 * The embedded default transport: delivery within the process, from memory, backed by an append-only log per
 * topic under `dir` so that published events survive a restart or a SIGKILL.
 *
 * Layout: `<dir>/<topic>/<sequence>.log` segments of JSON lines (a header, then `{"p","o","k","e"}` per record:
 * partition, offset, key, event) and `<dir>/<topic>/<group>.offsets.json` (the next offset per partition), names
 * URI-encoded. One log per topic rather than per partition: a group commit then costs one write(2) per topic
 * however many partitions it touches, one descriptor stays open per topic, and retention's budget is per topic
 * anyway. Offsets are per partition, as in Kafka.
 *
 * `publish` queues its records; once per event-loop turn every queued record of a topic goes to the log in one
 * write(2) (group commit), then into memory, then the publishers hear back. On open the log is replayed into
 * memory; a torn last line (a crash mid-write) is cut off.
 *
 * A group reads each partition through a cursor owned by one of its live subscriptions, one record at a time.
 * Handled offsets are written (temporary file, then rename) at most every 50 ms and when a subscription closes;
 * a record handled after the last write is delivered again after a crash: at-least-once.
 *
 * Retention: segments are cut at a quarter of maxLogBytes. Past the budget the oldest segment is deleted once
 * every known group (one with an offsets file) has offsets written past all its records, so no group ever loses
 * a record it has not handled; with no group at all, the oldest simply go.
 *
 * Limits, by design: the retained log is held in memory, so maxLogBytes bounds memory too; deliveries carry the
 * published event object itself, shared by every group, so handlers must not change it; a group that stops
 * reading holds retention back until its offsets file is deleted.
 */
export class MemoryTransport implements EventTransport {
  readonly kind = 'memory' as const;
  private readonly dir: string;
  private readonly partitionCount: number;
  private readonly fsync: FsyncPolicy;
  private readonly maxLogBytes: number;
  private readonly segmentBytes: number;
  private readonly topics = new Map<string, Topic>();
  private readonly waiting: Topic[] = [];
  private flushHandle?: NodeJS.Immediate;
  private syncTimer?: NodeJS.Timeout;
  private closed = false;
  private closing?: Promise<void>;

  constructor(options: MemoryTransportOptions) {
    if (!Number.isInteger(options.partitions) || options.partitions < 1)
      throw new Error(`partitions must be a positive integer, not ${options.partitions}`);
    const maxLogBytes = options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES;
    if (!(maxLogBytes > 0)) throw new Error(`maxLogBytes must be positive, not ${maxLogBytes}`);
    this.dir = options.dir;
    this.partitionCount = options.partitions;
    this.fsync = options.fsync ?? 'interval';
    this.maxLogBytes = maxLogBytes;
    this.segmentBytes = Math.ceil(maxLogBytes / SEGMENTS_PER_LOG);
    mkdirSync(this.dir, { recursive: true });
  }

  publish(records: readonly TransportRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the memory transport is closed'));
    // Everything is checked and serialized before anything is queued: a bad record publishes none of its call.
    const topics: Topic[] = [];
    const texts: string[] = [];
    try {
      for (const record of records) {
        if (typeof record.key !== 'string')
          throw new Error(`record key must be a string, not ${typeof record.key}`);
        if (typeof record.event !== 'object' || record.event === null)
          throw new Error('record event must be an object');
        const topic = this.topic(record.topic, true)!;
        if (topic.failure) throw topic.failure;
        topics.push(topic);
        texts.push(`"k":${JSON.stringify(record.key)},"e":${JSON.stringify(record.event)}}\n`);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    let done: Promise<void> | undefined;
    let several: Set<Promise<void>> | undefined;
    for (let i = 0; i < records.length; i++) {
      const { key, event } = records[i]!;
      const topic = topics[i]!;
      const batch = topic.batch ?? this.startBatch(topic);
      const partition = partitionOf(key, this.partitionCount);
      batch.lines.push(`{"p":${partition},"o":${topic.next[partition]!++},${texts[i]}`);
      batch.partitions.push(partition);
      batch.keys.push(key);
      batch.events.push(event);
      if (done === undefined) done = batch.done;
      else if (batch.done !== done) (several ??= new Set([done])).add(batch.done);
    }
    if (several) return Promise.all(several).then(() => undefined);
    return done ?? Promise.resolve();
  }

  async subscribe(spec: SubscriptionSpec, handler: DeliveryHandler): Promise<Subscription> {
    if (this.closed) throw new Error('the memory transport is closed');
    if (!spec.group) throw new Error('a subscription needs a group');
    const topic = this.topic(spec.topic, true)!;
    const group = topic.groups.get(spec.group) ?? this.createGroup(topic, spec.group);
    const batchSize = spec.batchSize && spec.batchSize > 0 ? spec.batchSize : DEFAULT_BATCH_SIZE;
    const member = new GroupMember(handler, batchSize, (leaving) => this.leave(topic, group, leaving));
    group.members.push(member);
    this.rebalance(topic, group);
    return member;
  }

  async lag(topicName: string, groupName: string): Promise<number> {
    if (this.closed) throw new Error('the memory transport is closed');
    const topic = this.topic(topicName, false);
    if (!topic) return 0;
    // A group not seen yet would start at the beginning of the retained log, so all of it is its lag.
    const group = topic.groups.get(groupName);
    let lag = 0;
    topic.partitions.forEach((partition, p) => {
      lag += end(partition) - (group ? group.cursors[p]!.position : partition.base);
    });
    return lag;
  }

  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    // What publish accepted before close is still written, and its publishers hear back.
    if (this.flushHandle) {
      clearImmediate(this.flushHandle);
      this.flush();
    }
    clearTimeout(this.syncTimer);
    const topics = [...this.topics.values()];
    const groups = topics.flatMap((topic) => [...topic.groups.values()].map((group) => ({ topic, group })));
    await Promise.all(groups.flatMap(({ group }) => [...group.members].map((member) => member.close())));
    await Promise.all(groups.map(({ topic, group }) => this.persistOffsets(topic, group)));
    await Promise.all(topics.map((topic) => this.seal(topic, topic.segments.at(-1)!)));
    await Promise.all(topics.flatMap((topic) => topic.segments.map((segment) => segment.chain)));
  }

  private topic(name: string, create: boolean): Topic | undefined {
    const open = this.topics.get(name);
    if (open) return open;
    if (typeof name !== 'string' || name === '' || name === '.' || name === '..')
      throw new Error(`${JSON.stringify(name)} is not a topic name`);
    const dir = path.join(this.dir, encodeURIComponent(name));
    if (!existsSync(dir)) {
      if (!create) return undefined;
      mkdirSync(dir, { recursive: true });
      if (this.fsync === 'always') syncDirectory(this.dir);
    }
    const topic = this.replay(name, dir);
    this.topics.set(name, topic);
    return topic;
  }

  /** Rebuilds a topic from its segments and offsets files. */
  private replay(name: string, dir: string): Topic {
    const files = readdirSync(dir);
    const topic: Topic = {
      name,
      dir,
      partitions: [],
      segments: [],
      bytes: 0,
      next: [],
      dirty: false,
      groups: new Map(),
    };
    const segmentFiles = files.filter((file) => SEGMENT_FILE.test(file)).sort();
    segmentFiles.forEach((file, i) => this.replaySegment(topic, file, i === segmentFiles.length - 1));
    if (topic.segments.length === 0)
      this.addSegment(topic, 0, new Array<number>(this.partitionCount).fill(0));
    const active = topic.segments.at(-1)!;
    active.fd ??= openSync(active.file, 'a');
    for (const file of files.filter((f) => f.endsWith(OFFSETS_SUFFIX))) {
      this.loadGroup(topic, decodeURIComponent(file.slice(0, -OFFSETS_SUFFIX.length)), path.join(dir, file));
    }
    return topic;
  }

  private replaySegment(topic: Topic, name: string, last: boolean): void {
    const file = path.join(topic.dir, name);
    const data = readFileSync(file);
    let segment: Segment | undefined;
    let lineStart = 0;
    let lineNumber = 0;
    while (lineStart < data.length) {
      const newline = data.indexOf(10, lineStart);
      const lineEnd = newline === -1 ? data.length : newline;
      lineNumber += 1;
      const line = parseLine(data.toString('utf8', lineStart, lineEnd));
      let accepted = false;
      if (newline !== -1 && line !== undefined) {
        if (!segment) {
          segment = this.acceptHeader(topic, file, line);
          accepted = segment !== undefined;
        } else accepted = this.acceptRecord(topic, segment, line);
      }
      if (!accepted) {
        // Only a crash mid-write leaves a bad line, and only at the very end of the newest segment.
        const tail = newline === -1 || newline === data.length - 1;
        if (!(last && tail)) throw new Error(`${file}: line ${lineNumber} is not a record of this log`);
        truncateSync(file, lineStart);
        break;
      }
      lineStart = lineEnd + 1;
    }
    if (segment) {
      segment.bytes = Math.min(lineStart, data.length);
      topic.bytes += segment.bytes;
    } else if (last) {
      // A crash between creating a segment and writing its header: addSegment writes it afresh.
      const start = topic.segments.at(-1)?.end ?? new Array<number>(this.partitionCount).fill(0);
      this.addSegment(topic, Number(name.slice(0, 12)), [...start]);
    } else throw new Error(`${file} has no header`);
  }

  private acceptHeader(topic: Topic, file: string, line: Record<string, unknown>): Segment | undefined {
    const next = line.next;
    if (line.log !== LOG_FORMAT || !Array.isArray(next) || !next.every((o) => Number.isInteger(o) && o >= 0))
      return undefined;
    if (next.length !== this.partitionCount)
      throw new Error(`${file} was written with ${next.length} partitions, not ${this.partitionCount}`);
    const previous = topic.segments.at(-1);
    if (previous && next.some((offset, p) => offset !== previous.end[p]))
      throw new Error(`${file} does not continue the segment before it`);
    if (!previous) {
      topic.partitions = next.map((offset: number) => ({ base: offset, keys: [], events: [] }));
      topic.next = [...next];
    }
    const segment: Segment = {
      file,
      sequence: Number(path.basename(file).slice(0, 12)),
      start: [...next],
      end: [...next],
      bytes: 0,
      chain: Promise.resolve(),
    };
    topic.segments.push(segment);
    return segment;
  }

  private acceptRecord(topic: Topic, segment: Segment, line: Record<string, unknown>): boolean {
    const { p, o, k, e } = line;
    if (!Number.isInteger(p) || typeof k !== 'string' || typeof e !== 'object' || e === null) return false;
    if ((p as number) < 0 || (p as number) >= this.partitionCount || o !== topic.next[p as number])
      return false;
    const partition = topic.partitions[p as number]!;
    partition.keys.push(k);
    partition.events.push(e as OpsEvent);
    topic.next[p as number] = (o as number) + 1;
    segment.end[p as number] = (o as number) + 1;
    return true;
  }

  /** Starts a segment whose records begin at `start`, and makes it the one written to. */
  private addSegment(topic: Topic, sequence: number, start: number[]): Segment {
    const file = path.join(topic.dir, `${String(sequence).padStart(12, '0')}.log`);
    const header = Buffer.from(`${JSON.stringify({ log: LOG_FORMAT, next: start })}\n`, 'utf8');
    const fd = openSync(file, 'w');
    try {
      writeAll(fd, header);
      if (this.fsync === 'always') {
        fdatasyncSync(fd);
        syncDirectory(topic.dir);
      }
    } catch (err) {
      closeSync(fd);
      // A header-only file would claim to follow segments that are still being written to; a rotation that
      // retries overwrites it anyway.
      try {
        unlinkSync(file);
      } catch {
        // The error that matters is the one thrown below.
      }
      throw err;
    }
    if (topic.segments.length === 0) {
      topic.partitions = start.map((offset) => ({ base: offset, keys: [], events: [] }));
      topic.next = [...start];
    }
    const segment: Segment = {
      file,
      sequence,
      start,
      end: [...start],
      bytes: header.length,
      fd,
      chain: Promise.resolve(),
    };
    topic.segments.push(segment);
    topic.bytes += header.length;
    return segment;
  }

  private loadGroup(topic: Topic, name: string, file: string): void {
    const offsets: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(offsets) || offsets.length !== this.partitionCount || !offsets.every(Number.isInteger))
      throw new Error(`${file} does not hold ${this.partitionCount} offsets`);
    // Offsets past the end mean the log lost its tail (a power loss without fsync 'always'); new records will
    // take those offsets again and must not be skipped.
    const positions = topic.partitions.map((partition, p) =>
      Math.min(Math.max(offsets[p] as number, partition.base), end(partition)),
    );
    if (positions.some((position, p) => position !== offsets[p]))
      replaceFile(file, `${JSON.stringify(positions)}\n`);
    topic.groups.set(name, this.groupAt(file, positions, true));
  }

  /** A group new to this topic starts at the beginning of the retained log: event-store rebuilds and replays rely on it. */
  private createGroup(topic: Topic, name: string): Group {
    const file = path.join(topic.dir, `${encodeURIComponent(name)}${OFFSETS_SUFFIX}`);
    const group = this.groupAt(
      file,
      topic.partitions.map((partition) => partition.base),
      false,
    );
    topic.groups.set(name, group);
    // On disk at once, so retention knows the group from now on, across restarts too.
    this.persistOffsets(topic, group).catch(() => this.scheduleCommit(topic, group));
    return group;
  }

  private groupAt(file: string, positions: number[], onDisk: boolean): Group {
    return {
      file,
      cursors: positions.map((position, partition) => ({
        partition,
        position,
        attempts: 0,
        draining: false,
      })),
      members: [],
      persisted: [...positions],
      onDisk,
      writes: Promise.resolve(),
    };
  }

  private startBatch(topic: Topic): Batch {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const batch: Batch = { lines: [], partitions: [], keys: [], events: [], done, resolve, reject };
    topic.batch = batch;
    this.waiting.push(topic);
    this.flushHandle ??= setImmediate(() => this.flush());
    return batch;
  }

  /** The group commit: each waiting topic's batch in one write(2). */
  private flush(): void {
    this.flushHandle = undefined;
    for (const topic of this.waiting.splice(0)) {
      const batch = topic.batch!;
      topic.batch = undefined;
      this.commitBatch(topic, batch);
    }
  }

  private commitBatch(topic: Topic, batch: Batch): void {
    const segment = topic.segments.at(-1)!;
    const data = Buffer.from(batch.lines.join(''), 'utf8');
    try {
      if (topic.failure) throw topic.failure;
      writeAll(segment.fd!, data);
    } catch (err) {
      // Cut off whatever part did land, so the log holds no record its publisher was told failed.
      try {
        ftruncateSync(segment.fd!, segment.bytes);
      } catch (truncateError) {
        topic.failure ??= truncateError as Error;
      }
      topic.next = topic.partitions.map(end);
      batch.reject(err);
      return;
    }
    segment.bytes += data.length;
    topic.bytes += data.length;
    const touched = new Uint8Array(this.partitionCount);
    for (let i = 0; i < batch.keys.length; i++) {
      const p = batch.partitions[i]!;
      const partition = topic.partitions[p]!;
      partition.keys.push(batch.keys[i]!);
      partition.events.push(batch.events[i]!);
      segment.end[p]! += 1;
      touched[p] = 1;
    }
    for (const group of topic.groups.values()) {
      for (let p = 0; p < touched.length; p++) if (touched[p]) this.wake(topic, group, group.cursors[p]!);
    }
    if (this.fsync === 'always') this.sync(topic, segment).then(batch.resolve, batch.reject);
    else batch.resolve();
    if (this.fsync === 'interval') this.syncSoon(topic);
    if (segment.bytes >= this.segmentBytes) this.rotate(topic);
  }

  private rotate(topic: Topic): void {
    const old = topic.segments.at(-1)!;
    try {
      this.addSegment(topic, old.sequence + 1, [...old.end]);
    } catch {
      // The current segment takes the next batches too; the next group commit tries again.
      return;
    }
    this.seal(topic, old).catch(() => undefined);
    this.enforceRetention(topic);
  }

  /** Syncs (unless 'never') and closes a segment that takes no more writes. */
  private seal(topic: Topic, segment: Segment): Promise<void> {
    const fd = segment.fd;
    if (fd === undefined) return Promise.resolve();
    segment.fd = undefined;
    const sealed = segment.chain.then(async () => {
      try {
        if (this.fsync !== 'never') await fdatasyncInBackground(fd);
      } finally {
        await closeInBackground(fd);
      }
    });
    segment.chain = sealed.catch((err: Error) => {
      topic.failure ??= err;
    });
    return sealed;
  }

  private sync(topic: Topic, segment: Segment): Promise<void> {
    if (segment.queuedSync) return segment.queuedSync;
    const fd = segment.fd!;
    const synced = segment.chain.then(() => {
      segment.queuedSync = undefined;
      return fdatasyncInBackground(fd);
    });
    segment.queuedSync = synced;
    segment.chain = synced.catch((err: Error) => {
      topic.failure ??= err;
    });
    return synced;
  }

  private syncSoon(topic: Topic): void {
    topic.dirty = true;
    if (this.syncTimer) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      for (const dirty of this.topics.values()) {
        if (!dirty.dirty) continue;
        dirty.dirty = false;
        const active = dirty.segments.at(-1)!;
        if (active.fd !== undefined) this.sync(dirty, active).catch(() => undefined);
      }
    }, SYNC_INTERVAL_MS);
    this.syncTimer.unref();
  }

  /** Past the budget, drops the oldest segments that every known group has committed past, oldest first. */
  private enforceRetention(topic: Topic): void {
    while (topic.bytes > this.maxLogBytes && topic.segments.length > 1) {
      const oldest = topic.segments[0]!;
      const needed = [...topic.groups.values()].some((group) =>
        oldest.end.some((end, p) => end > oldest.start[p]! && group.persisted[p]! < end),
      );
      if (needed) return;
      unlinkSync(oldest.file);
      topic.segments.shift();
      topic.bytes -= oldest.bytes;
      oldest.end.forEach((end, p) => {
        const partition = topic.partitions[p]!;
        partition.keys.splice(0, end - partition.base);
        partition.events.splice(0, end - partition.base);
        partition.base = end;
      });
    }
  }

  private rebalance(topic: Topic, group: Group): void {
    const members = group.members;
    for (const cursor of group.cursors) {
      const owner = members.length > 0 ? members[cursor.partition % members.length] : undefined;
      if (cursor.owner === owner) continue;
      cursor.owner = owner;
      // A record waiting out a failure goes to its new owner (or nobody) at once.
      cursor.retry?.wake();
      this.wake(topic, group, cursor);
    }
  }

  private async leave(topic: Topic, group: Group, member: GroupMember): Promise<void> {
    const index = group.members.indexOf(member);
    if (index !== -1) group.members.splice(index, 1);
    this.rebalance(topic, group);
    await Promise.all(
      group.cursors
        .filter((cursor) => cursor.handledBy === member)
        .map((cursor) => new Promise<void>((resolve) => (cursor.settled ??= []).push(resolve))),
    );
    await this.persistOffsets(topic, group);
  }

  private wake(topic: Topic, group: Group, cursor: Cursor): void {
    if (cursor.draining || !cursor.owner) return;
    cursor.draining = true;
    // Handlers never run inside publish or subscribe.
    queueMicrotask(() => void this.drain(topic, group, cursor));
  }

  /** Hands a partition's records to its owner one at a time, until it has none or no owner. */
  private async drain(topic: Topic, group: Group, cursor: Cursor): Promise<void> {
    const partition = topic.partitions[cursor.partition]!;
    let delivered = 0;
    try {
      for (;;) {
        const owner = cursor.owner;
        if (!owner || cursor.position >= end(partition)) return;
        if (delivered >= owner.batchSize) {
          // A long backlog (a replay after restart) must not starve I/O and timers.
          delivered = 0;
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        const index = cursor.position - partition.base;
        cursor.attempts += 1;
        const delivery: Delivery = {
          topic: topic.name,
          partition: cursor.partition,
          key: partition.keys[index]!,
          event: partition.events[index]!,
          deliveryCount: cursor.attempts,
        };
        cursor.handledBy = owner;
        let handled = true;
        try {
          await owner.handler(delivery);
        } catch {
          handled = false;
        }
        if (handled) {
          cursor.position += 1;
          cursor.attempts = 0;
          this.scheduleCommit(topic, group);
        }
        cursor.handledBy = undefined;
        if (cursor.settled) {
          for (const settled of cursor.settled) settled();
          cursor.settled = undefined;
        }
        delivered += 1;
        if (!handled && cursor.owner === owner) await this.pause(cursor);
      }
    } finally {
      cursor.draining = false;
    }
  }

  private pause(cursor: Cursor): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        cursor.retry = undefined;
        resolve();
      };
      const timer = setTimeout(wake, RETRY_DELAY_MS);
      cursor.retry = { wake };
    });
  }

  private scheduleCommit(topic: Topic, group: Group): void {
    if (group.commitTimer) return;
    group.commitTimer = setTimeout(() => {
      group.commitTimer = undefined;
      this.persistOffsets(topic, group).catch(() => {
        if (!this.closed) this.scheduleCommit(topic, group);
      });
    }, COMMIT_INTERVAL_MS);
    group.commitTimer.unref();
  }

  /** Writes the group's handled offsets, after any write already under way, then applies retention. */
  private persistOffsets(topic: Topic, group: Group): Promise<void> {
    clearTimeout(group.commitTimer);
    group.commitTimer = undefined;
    const write = group.writes.then(async () => {
      const positions = group.cursors.map((cursor) => cursor.position);
      if (group.onDisk && positions.every((position, p) => position === group.persisted[p])) return;
      await replaceFileInBackground(group.file, `${JSON.stringify(positions)}\n`);
      group.persisted = positions;
      group.onDisk = true;
      this.enforceRetention(topic);
    });
    group.writes = write.catch(() => undefined);
    return write;
  }
}

function end(partition: Partition): number {
  return partition.base + partition.keys.length;
}

function parseLine(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function writeAll(fd: number, data: Buffer): void {
  let written = 0;
  while (written < data.length) written += writeSync(fd, data, written, data.length - written);
}

/** Makes a new file's name durable, as a power loss could otherwise forget the file. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * replaceFile's temporary-then-rename, off the event loop: offsets are written every 50 ms per group, and a
 * synchronous fsync that often would stall every delivery and publish.
 */
async function replaceFileInBackground(file: string, data: string): Promise<void> {
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(data, 'utf8');
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}
