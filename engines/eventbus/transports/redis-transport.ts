import Redis from 'ioredis';
import { closeRedisClient } from '../../../adapters/redis/redis-client';
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

export interface RedisTransportOptions {
  url: string;
  /** Default 'opsbot:bus:'. */
  keyPrefix?: string;
  partitions: number;
  /** Approximate MAXLEN trimming per partition stream, default 1,000,000 entries. */
  maxLen?: number;
  /** Optional MINID trimming: entries older than this are dropped, whether or not every group read them. */
  minIdMs?: number;
  /** How long a partition lease lasts without renewal (renewed every third of it). Default 5000. */
  leaseMs?: number;
  /** How long one read waits for new entries. Default 1000. */
  blockMs?: number;
}

const DEFAULT_KEY_PREFIX = 'opsbot:bus:';
const DEFAULT_MAX_LEN = 1_000_000;
const DEFAULT_LEASE_MS = 5000;
const DEFAULT_BLOCK_MS = 1000;
const DEFAULT_BATCH_SIZE = 200;
const CONNECT_TIMEOUT_MS = 2000;
/** With reconnects 50 ms apart growing to 1 s, a queued command waits out a Redis restart of about 10 s. */
const COMMAND_RETRIES = 20;
const reconnectDelay = (attempt: number): number => Math.min(attempt * 50, 1000);
/** The bus retries with its own backoff; these pauses only keep a handler that always fails from spinning. */
const retryDelay = (failures: number): number => Math.min(50 * 2 ** (failures - 1), 200);
const backoff = (failures: number): number => Math.min(100 * 2 ** (failures - 1), 1000);
/** CLIENT UNBLOCK finds nothing while the read is still on its way to Redis; try again this soon. */
const UNBLOCK_RETRY_MS = 5;
const ACK_RETRY_MS = 500;

/**
 * One tick of a consumer's membership and leases, atomic so two consumers never both take a partition.
 * KEYS[1] the group's members (heartbeats), KEYS[2..] the lease of each partition in partition order.
 * ARGV: consumer, lease ms, partitions to give back ("1,5"). Live members split the partitions by their
 * sorted names: rank r takes floor(n/m), one more while r < n mod m, preferring p mod m = r, so a stable
 * membership leaves every partition where it is. Returns {quota, owned}, owned ordered most-preferred first.
 */
const BALANCE_SCRIPT = `
local me, leaseMs = ARGV[1], tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZADD', KEYS[1], now, me)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - leaseMs)
redis.call('PEXPIRE', KEYS[1], leaseMs)
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
table.sort(members)
local m, rank = #members, 0
for i, name in ipairs(members) do if name == me then rank = i - 1 end end
local n = #KEYS - 1
local quota = math.floor(n / m) + ((rank < n % m) and 1 or 0)
local giveBack = {}
for p in string.gmatch(ARGV[3], '%d+') do giveBack[tonumber(p)] = true end
local owned = {}
for p = 0, n - 1 do
  local lease = KEYS[p + 2]
  if redis.call('GET', lease) == me then
    if giveBack[p] then redis.call('DEL', lease)
    else
      redis.call('PEXPIRE', lease, leaseMs)
      owned[#owned + 1] = p
    end
  end
end
local function preferred(p) return p % m == rank end
for pass = 1, 2 do
  for p = 0, n - 1 do
    if #owned >= quota then break end
    if preferred(p) == (pass == 1) and not giveBack[p]
      and redis.call('SET', KEYS[p + 2], me, 'NX', 'PX', leaseMs) then
      owned[#owned + 1] = p
    end
  end
end
table.sort(owned, function(a, b)
  if preferred(a) ~= preferred(b) then return preferred(a) end
  return a < b
end)
return {quota, owned}
`;

/** A consumer leaving: its leases go back (only where still its own) and the others stop counting it. */
const LEAVE_SCRIPT = `
redis.call('ZREM', KEYS[1], ARGV[1])
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
`;

interface Keys {
  stream(topic: string, partition: number): string;
  lease(topic: string, partition: number, group: string): string;
  members(topic: string, group: string): string;
}

/**
 * Event transport on Redis Streams: one stream per topic partition, a consumer group per bus group, and
 * partition leases in Redis so a partition is read by one consumer of a group at a time, in order.
 */
export class RedisTransport implements EventTransport {
  readonly kind = 'redis';
  private readonly redis: Redis;
  private readonly keys: Keys;
  private readonly subscriptions = new Set<RedisSubscription>();

  constructor(private readonly options: RedisTransportOptions) {
    if (!Number.isInteger(options.partitions) || options.partitions < 1)
      throw new RangeError('partitions must be a positive integer');
    const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    // Stream keys end in the partition number, the others in a word, so no topic name turns one into the other.
    this.keys = {
      stream: (topic, partition) => `${prefix}${topic}:${partition}`,
      lease: (topic, partition, group) => `${prefix}${topic}:${partition}:${group}:lease`,
      members: (topic, group) => `${prefix}${topic}:${group}:members`,
    };
    this.redis = connect(options.url, COMMAND_RETRIES);
  }

  async publish(records: readonly TransportRecord[]): Promise<void> {
    if (records.length === 0) return;
    const maxLen = this.options.maxLen ?? DEFAULT_MAX_LEN;
    const pipeline = this.redis.pipeline();
    const streams = new Set<string>();
    for (const record of records) {
      const stream = this.keys.stream(record.topic, partitionOf(record.key, this.options.partitions));
      streams.add(stream);
      pipeline.xadd(
        stream,
        'MAXLEN',
        '~',
        maxLen,
        '*',
        'key',
        record.key,
        'event',
        JSON.stringify(record.event),
      );
    }
    // XADD takes one trimming strategy; age is applied once per stream and batch.
    if (this.options.minIdMs !== undefined) {
      const minId = Date.now() - this.options.minIdMs;
      for (const stream of streams) pipeline.xtrim(stream, 'MINID', '~', minId);
    }
    const results = await pipeline.exec();
    if (!results) throw new Error('Redis did not answer the publish');
    // Only the XADDs decide: a failed trim leaves every record stored, and publishing again would duplicate them.
    for (const [err] of results.slice(0, records.length)) if (err) throw err;
  }

  async subscribe(spec: SubscriptionSpec, handler: DeliveryHandler): Promise<Subscription> {
    const subscription = new RedisSubscription(this.redis, this.keys, this.options, spec, handler, () =>
      this.subscriptions.delete(subscription),
    );
    await subscription.start();
    this.subscriptions.add(subscription);
    return subscription;
  }

  async lag(topic: string, group: string): Promise<number> {
    const pipeline = this.redis.pipeline();
    for (let p = 0; p < this.options.partitions; p++) {
      pipeline.xinfo('GROUPS', this.keys.stream(topic, p));
      pipeline.xlen(this.keys.stream(topic, p));
    }
    const results = await pipeline.exec();
    if (!results) throw new Error('Redis did not answer the lag query');
    let lag = 0;
    for (let p = 0; p < this.options.partitions; p++) {
      const [infoErr, groups] = results[2 * p] ?? [];
      const [lenErr, length] = results[2 * p + 1] ?? [];
      if (lenErr) throw lenErr;
      const entries = Number(length);
      if (infoErr) {
        if (/no such key/i.test(infoErr.message)) continue;
        throw infoErr;
      }
      const info = (groups as unknown[][]).map(fieldsOf).find((g) => g.get('name') === group);
      // A group that does not exist yet starts at the beginning of the stream when it subscribes.
      if (!info) {
        lag += entries;
        continue;
      }
      // Redis counts entries trimmed before the group read them as lag, and cannot tell at all after an XDEL;
      // what remains in the stream bounds it either way.
      const undelivered = info.get('lag');
      lag +=
        Math.min(undelivered == null ? entries : Number(undelivered), entries) + Number(info.get('pending'));
    }
    return lag;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await closeRedisClient(this.redis);
  }
}

/**
 * A connection that rides out a Redis restart: ioredis reconnects and keeps commands queued meanwhile.
 * `retries` is how many reconnect attempts a queued command waits through; 0 fails it as soon as the
 * connection drops.
 */
function connect(url: string, retries: number): Redis {
  const redis = new Redis(url, {
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: retries,
    retryStrategy: reconnectDelay,
  });
  // Without a listener an outage would crash the process with 'error'; the callers see failed commands.
  redis.on('error', () => {});
  return redis;
}

interface Entry {
  id: string;
  key: string;
  event: OpsEvent;
  deliveryCount: number;
}

/**
 * A partition this consumer holds the lease of. 'active': its worker delivers; 'leaving': its worker finishes
 * the handler in flight and stops; 'drained': nothing of it is read or handled any more and the next tick
 * gives the lease back.
 */
interface Partition {
  readonly index: number;
  readonly stream: string;
  state: 'active' | 'leaving' | 'drained';
  /** Leaving because another consumer should have it (rebalance, close), not because the lease was lost. */
  giveBack: boolean;
  /** Local clock; past it the lease may have gone to another consumer, so nothing more is delivered. */
  leaseUntil: number;
  /** Claim what is pending in the group (a dead consumer's, or our own unhandled) before reading new entries. */
  recover: boolean;
  /** Claiming now: nothing is read meanwhile, or the claim would deliver it a second time. */
  claiming: boolean;
  /** Read, not yet handed to the worker. */
  buffer: Entry[];
  /** Handed to the worker, not yet done. */
  inFlight: number;
  /** Wakes the worker when it waits for entries or a lease renewal. */
  poke?: () => void;
  worker?: Promise<void>;
}

/** The read in flight on the blocking connection. */
interface Read {
  partitions: Set<Partition>;
  done: Promise<void>;
  interrupting: boolean;
}

class RedisSubscription implements Subscription {
  private readonly blocking: Redis;
  private readonly partitions = new Map<number, Partition>();
  private readonly leaseKeys: string[];
  private readonly streamIndex: Map<string, number>;
  private readonly membersKey: string;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly blockMs: number;
  private blockingId?: number;
  private read?: Read;
  private readerIdle?: () => void;
  private reader?: Promise<void>;
  private tickTimer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private tickAgain = false;
  private acks = new Map<string, string[]>();
  private ackScheduled = false;
  private ackChain: Promise<void> = Promise.resolve();
  private closing = false;
  private closed?: Promise<void>;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly options: RedisTransportOptions,
    private readonly spec: SubscriptionSpec,
    private readonly handler: DeliveryHandler,
    private readonly onClosed: () => void,
  ) {
    this.batchSize = spec.batchSize ?? DEFAULT_BATCH_SIZE;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.blockMs = options.blockMs ?? DEFAULT_BLOCK_MS;
    this.leaseKeys = Array.from({ length: options.partitions }, (_, p) =>
      keys.lease(spec.topic, p, spec.group),
    );
    this.membersKey = keys.members(spec.topic, spec.group);
    this.streamIndex = new Map(this.leaseKeys.map((_, p) => [keys.stream(spec.topic, p), p]));
    // A blocked read must fail when its connection drops, not wait to be resent: the loop decides what to read.
    // No command timeout either: a read blocks on purpose.
    this.blocking = connect(options.url, 0);
    // Client ids start over when Redis restarts; an old one could unblock another consumer's read.
    this.blocking.on('close', () => (this.blockingId = undefined));
    this.blocking.on('ready', () => {
      this.blocking
        .client('ID')
        .then((id) => (this.blockingId = id))
        .catch(() => {});
    });
  }

  async start(): Promise<void> {
    try {
      await this.createGroups([...this.leaseKeys.keys()]);
    } catch (err) {
      closeRedisClient(this.blocking).catch(() => {});
      throw err;
    }
    await this.runTick();
    this.reader = this.readLoop();
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    clearTimeout(this.tickTimer);
    await this.ticking;
    for (const p of this.partitions.values()) if (p.state === 'active') this.leave(p, true);
    this.wakeReader();
    await Promise.all([...this.partitions.values()].map((p) => p.worker));
    await this.reader;
    await this.flushAcks();
    await this.redis
      .eval(LEAVE_SCRIPT, 1 + this.leaseKeys.length, this.membersKey, ...this.leaseKeys, this.spec.consumer)
      .catch(() => {});
    await closeRedisClient(this.blocking);
    this.onClosed();
  }

  private async createGroups(partitions: number[]): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const p of partitions)
      pipeline.xgroup('CREATE', this.keys.stream(this.spec.topic, p), this.spec.group, '0', 'MKSTREAM');
    for (const [err] of (await pipeline.exec()) ?? [])
      if (err && !err.message.startsWith('BUSYGROUP')) throw err;
  }

  // ---- leases and membership ----

  private async runTick(): Promise<void> {
    this.tickTimer = undefined;
    // A failed tick is an unreachable Redis: leases then run out on their own and delivery pauses until one works.
    this.ticking = this.tick().catch(() => {});
    await this.ticking;
    this.ticking = undefined;
    if (this.closing) return;
    const again = this.tickAgain;
    this.tickAgain = false;
    this.tickTimer = setTimeout(() => void this.runTick(), again ? 0 : this.leaseMs / 3);
  }

  /** Run a tick now (after the one in progress): a drained partition is waiting to be given back. */
  private requestTick(): void {
    if (this.closing) return;
    if (this.ticking) this.tickAgain = true;
    else if (this.tickTimer) {
      clearTimeout(this.tickTimer);
      this.tickTimer = setTimeout(() => void this.runTick(), 0);
    }
  }

  private async tick(): Promise<void> {
    const giveBack = [...this.partitions.values()].filter((p) => p.state === 'drained');
    const checked = [...this.partitions.values()].filter(
      (p) => p.state === 'active' && !p.recover && !p.claiming,
    );
    const sentAt = Date.now();
    const pipeline = this.redis.pipeline();
    pipeline.eval(
      BALANCE_SCRIPT,
      1 + this.leaseKeys.length,
      this.membersKey,
      ...this.leaseKeys,
      this.spec.consumer,
      this.leaseMs,
      giveBack.map((p) => p.index).join(','),
    );
    for (const p of checked) pipeline.xpending(p.stream, this.spec.group);
    const results = await pipeline.exec();
    const [err, reply] = results?.[0] ?? [new Error('Redis did not answer the lease tick')];
    if (err) throw err;
    const [quota, owned] = reply as [number, number[]];
    const ownedNow = new Set(owned);

    for (const p of giveBack) this.partitions.delete(p.index);
    for (const p of this.partitions.values()) {
      if (p.state !== 'active') continue;
      if (!ownedNow.has(p.index)) this.leave(p, false);
      else if (Date.now() < p.leaseUntil) p.leaseUntil = sentAt + this.leaseMs;
      else {
        // Its worker stopped when the lease ran out locally (an outage); it may go on now.
        p.leaseUntil = sentAt + this.leaseMs;
        p.poke?.();
      }
    }
    for (const index of owned) if (!this.partitions.has(index)) this.take(index, sentAt + this.leaseMs);
    // A renewal can make a partition readable again after its lease ran out locally.
    for (const p of this.partitions.values()) if (this.readable(p)) this.wakeReader(p);

    // Beyond the quota (a consumer joined): give back the least preferred, counting those already on their way.
    let excess = owned.length - quota - owned.filter((i) => this.partitions.get(i)?.giveBack).length;
    for (const index of [...owned].reverse()) {
      const p = this.partitions.get(index);
      if (excess <= 0) break;
      if (p?.state !== 'active') continue;
      this.leave(p, true);
      excess--;
    }

    // Entries pending for another consumer in a partition we hold were read by it after it lost the lease
    // (a stall, an outage): nobody else will deliver them.
    checked.forEach((p, i) => {
      const [pendingErr, summary] = results?.[i + 1] ?? [];
      const consumers = pendingErr ? null : ((summary as unknown[])[3] as [string, string][] | null);
      if (p.state === 'active' && consumers?.some(([name]) => name !== this.spec.consumer)) {
        p.recover = true;
        p.poke?.();
      }
    });
  }

  private take(index: number, leaseUntil: number): void {
    const p: Partition = {
      index,
      stream: this.keys.stream(this.spec.topic, index),
      state: 'active',
      giveBack: false,
      leaseUntil,
      // What a previous holder read and did not acknowledge comes first, in order.
      recover: true,
      claiming: false,
      buffer: [],
      inFlight: 0,
    };
    this.partitions.set(index, p);
    p.worker = this.work(p);
  }

  private leave(p: Partition, giveBack: boolean): void {
    p.state = 'leaving';
    p.giveBack = giveBack;
    p.buffer = [];
    p.poke?.();
  }

  // ---- reading ----

  private readable(p: Partition): boolean {
    return (
      p.state === 'active' &&
      !p.recover &&
      !p.claiming &&
      Date.now() < p.leaseUntil &&
      p.buffer.length + p.inFlight < this.batchSize
    );
  }

  private async readLoop(): Promise<void> {
    let failures = 0;
    while (!this.closing) {
      const readable = [...this.partitions.values()].filter((p) => this.readable(p));
      if (readable.length === 0) {
        await new Promise<void>((resolve) => (this.readerIdle = resolve));
        continue;
      }
      let finished!: () => void;
      const read: Read = {
        partitions: new Set(readable),
        done: new Promise((resolve) => (finished = resolve)),
        interrupting: false,
      };
      this.read = read;
      try {
        const reply = await this.blocking.call(
          'XREADGROUP',
          'GROUP',
          this.spec.group,
          this.spec.consumer,
          'COUNT',
          this.batchSize,
          'BLOCK',
          this.blockMs,
          'STREAMS',
          ...readable.map((p) => p.stream),
          ...readable.map(() => '>'),
        );
        failures = 0;
        this.dispatch(reply as [string, [string, string[]][]][] | null);
      } catch (err) {
        if (this.closing) break;
        // The stream vanished (a Redis that restarted empty, a deleted key): the group goes with it.
        if (err instanceof Error && err.message.startsWith('NOGROUP'))
          await this.createGroups(readable.map((p) => p.index)).catch(() => {});
        else await sleep(backoff(++failures));
      } finally {
        this.read = undefined;
        finished();
      }
    }
  }

  private dispatch(reply: [string, [string, string[]][]][] | null): void {
    for (const [stream, entries] of reply ?? []) {
      const index = this.streamIndex.get(stream);
      const p = index === undefined ? undefined : this.partitions.get(index);
      // Not ours to deliver any more: the entries stay pending for us and whoever holds the lease claims them.
      if (!p || p.state !== 'active' || p.recover || p.claiming) continue;
      for (const [id, fields] of entries) {
        const entry = entryOf(id, fields, 1);
        if (entry) p.buffer.push(entry);
        else this.ack(p.stream, [id]);
      }
      p.poke?.();
    }
  }

  /** A partition became readable: an idle reader starts, a read blocked without it returns early. */
  private wakeReader(p?: Partition): void {
    if (this.readerIdle) {
      this.readerIdle();
      this.readerIdle = undefined;
    } else if (this.read && (!p || !this.read.partitions.has(p))) void this.interrupt(this.read);
  }

  private async interrupt(read: Read): Promise<void> {
    if (read.interrupting) return;
    read.interrupting = true;
    while (this.read === read) {
      const id = this.blockingId;
      if (id !== undefined && (await this.redis.client('UNBLOCK', id).catch(() => 0)) === 1) return;
      await sleep(UNBLOCK_RETRY_MS);
    }
  }

  /** Waits until no read in flight can still take entries of `p`. */
  private async outOfRead(p: Partition): Promise<void> {
    while (this.read?.partitions.has(p)) {
      const read = this.read;
      void this.interrupt(read);
      await read.done;
    }
  }

  // ---- delivering ----

  private async work(p: Partition): Promise<void> {
    while (p.state === 'active') {
      if (Date.now() >= p.leaseUntil || (!p.recover && p.buffer.length === 0)) {
        // The next tick renews the lease or takes the partition away; the reader brings entries.
        await new Promise<void>((resolve) => (p.poke = resolve));
        p.poke = undefined;
        continue;
      }
      if (p.recover) {
        await this.recover(p);
        continue;
      }
      const batch = p.buffer;
      p.buffer = [];
      p.inFlight = batch.length;
      // Stopped early: whatever was left is pending for us; take it from there, in order.
      if (!(await this.handle(p, batch)) && p.state === 'active') p.recover = true;
      p.inFlight = 0;
      if (this.readable(p)) this.wakeReader(p);
    }
    await this.outOfRead(p);
    await this.flushAcks();
    if (p.giveBack) {
      p.state = 'drained';
      this.requestTick();
    } else this.partitions.delete(p.index);
  }

  private async recover(p: Partition): Promise<void> {
    p.recover = false;
    p.claiming = true;
    try {
      // Not finished (lease ran out, partition leaving, another recovery asked for): start over when it can.
      if (!(await this.claimPending(p)) && p.state === 'active') p.recover = true;
    } finally {
      p.claiming = false;
    }
    if (this.readable(p)) this.wakeReader(p);
  }

  /** Claims every entry pending in the group for `p` (XAUTOCLAIM) and delivers them, oldest first. */
  private async claimPending(p: Partition): Promise<boolean> {
    // A claim scan must see everything a read gave us, and nothing handled may be claimed again.
    await this.outOfRead(p);
    p.buffer = [];
    await this.flushAcks();
    let cursor = '0-0';
    let failures = 0;
    while (this.delivering(p)) {
      // Holding the lease makes min-idle-time 0 safe: nobody else delivers this partition.
      const results = await this.redis
        .pipeline()
        .xautoclaim(p.stream, this.spec.group, this.spec.consumer, 0, cursor, 'COUNT', this.batchSize)
        .xpending(p.stream, this.spec.group, cursor, '+', this.batchSize, this.spec.consumer)
        .exec()
        .catch((err: Error) => [[err, null]] as [Error, null][]);
      const [claimErr, claimed] = results?.[0] ?? [new Error('Redis did not answer the claim')];
      const [, pending] = results?.[1] ?? [];
      if (claimErr) {
        if (claimErr.message.startsWith('NOGROUP')) await this.createGroups([p.index]).catch(() => {});
        else await sleep(backoff(++failures));
        continue;
      }
      failures = 0;
      const [next, raw] = claimed as [string, [string, string[] | null][]];
      // XAUTOCLAIM counted this delivery; XPENDING, run right after it, tells how many there were.
      const counts = new Map(
        ((pending ?? []) as [string, string, number, number][]).map((e) => [e[0], e[3]]),
      );
      const entries: Entry[] = [];
      for (const [id, fields] of raw) {
        const entry = fields && entryOf(id, fields, counts.get(id) ?? 2);
        if (entry) entries.push(entry);
        else this.ack(p.stream, [id]);
      }
      if (!(await this.handle(p, entries))) return false;
      if (next === '0-0') return true;
      cursor = next;
    }
    return false;
  }

  /**
   * Delivers `entries` in order. A failed handler is retried on the same entry, with a higher delivery count,
   * until it succeeds or the partition is no longer ours to deliver. False when it stopped before the end.
   */
  private async handle(p: Partition, entries: readonly Entry[]): Promise<boolean> {
    const handled: string[] = [];
    try {
      for (const entry of entries) {
        for (let failures = 0; ;) {
          if (!this.delivering(p)) return false;
          if (await this.attempt(p, entry)) {
            handled.push(entry.id);
            break;
          }
          // The retry may take a while; what succeeded before the failed entry is done.
          this.ack(p.stream, handled.splice(0));
          await sleep(retryDelay(++failures));
          if (!this.delivering(p)) return false;
          if (!(await this.countRedelivery(p, entry))) break;
        }
      }
      return true;
    } finally {
      this.ack(p.stream, handled);
    }
  }

  private delivering(p: Partition): boolean {
    return p.state === 'active' && !p.recover && Date.now() < p.leaseUntil;
  }

  private async attempt(p: Partition, entry: Entry): Promise<boolean> {
    const delivery: Delivery = {
      topic: this.spec.topic,
      partition: p.index,
      key: entry.key,
      event: entry.event,
      deliveryCount: entry.deliveryCount,
    };
    try {
      await this.handler(delivery);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Raises the entry's delivery count, in Redis too so a consumer that claims it later counts on from there.
   * False when the entry is gone from the stream (trimmed meanwhile): nothing is left to deliver.
   */
  private async countRedelivery(p: Partition, entry: Entry): Promise<boolean> {
    entry.deliveryCount++;
    try {
      const claimed = await this.redis.xclaim(
        p.stream,
        this.spec.group,
        this.spec.consumer,
        0,
        entry.id,
        'RETRYCOUNT',
        entry.deliveryCount,
        'JUSTID',
      );
      return claimed.length > 0;
    } catch {
      // Redis away: retry the handler on the local count; the lease runs out if the outage lasts.
      return true;
    }
  }

  // ---- acknowledging ----

  /** Queues acknowledgements; those of every partition go out together in one pipeline. */
  private ack(stream: string, ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.queueAcks(stream, ids);
    if (!this.ackScheduled) {
      this.ackScheduled = true;
      setImmediate(() => void this.flushAcks());
    }
  }

  private queueAcks(stream: string, ids: readonly string[]): void {
    const queued = this.acks.get(stream);
    if (queued) queued.push(...ids);
    else this.acks.set(stream, [...ids]);
  }

  /** Sends what is queued; resolves once it and every earlier flush were answered (or failed and requeued). */
  private flushAcks(): Promise<void> {
    this.ackScheduled = false;
    const acks = this.acks;
    this.acks = new Map();
    this.ackChain = this.ackChain.then(() => this.sendAcks(acks));
    return this.ackChain;
  }

  private async sendAcks(acks: Map<string, string[]>): Promise<void> {
    if (acks.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [stream, ids] of acks) pipeline.xack(stream, this.spec.group, ...ids);
    const results = await pipeline.exec().catch(() => null);
    let failed = false;
    [...acks].forEach(([stream, ids], i) => {
      if (results?.[i]?.[0] === null) return;
      // Unacknowledged entries stay pending and would be delivered again; retrying spares that.
      failed = true;
      this.queueAcks(stream, ids);
    });
    if (failed && !this.closing) setTimeout(() => void this.flushAcks(), ACK_RETRY_MS);
  }
}

function entryOf(id: string, fields: readonly string[], deliveryCount: number): Entry | undefined {
  let key: string | undefined;
  let event: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'key') key = fields[i + 1];
    else if (fields[i] === 'event') event = fields[i + 1];
  }
  // Not written by publish(): no handler could take it, and keeping it pending would stall its partition.
  if (key === undefined || event === undefined) return undefined;
  try {
    return { id, key, event: JSON.parse(event) as OpsEvent, deliveryCount };
  } catch {
    return undefined;
  }
}

/** A Redis reply of alternating names and values. */
function fieldsOf(reply: readonly unknown[]): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1]);
  return fields;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
