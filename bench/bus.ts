/**
 * npm run bench:bus — the event bus per transport, in this one process (publisher and subscriber together):
 *   1. routed in-process (memory only; the routing engine alone, no transport): events/s through
 *      `compileRules(rules).route(event)` with 5 rules (type globs, a data condition, one transform that
 *      applies to a third of the events) over 1,000,000 events built before the clock starts; median of 3
 *      timed passes after a 100,000-event warm-up.
 *   2. end to end: events/s from the first `EventBus.publish` (batches of 250, one call in flight, inputs
 *      built before the clock starts) to the last event handled by one subscriber group (`bus.subscribe`).
 *   3. latency at 5,000 events/s: for 10 s, every ~1 ms one publish of the events due by then (at most 5 per
 *      call; more calls when the timer was late), not awaited; each event carries performance.now() of its
 *      publish call in its data, and the handler records now minus that (same process, same clock): p50/p99.
 *   4. BullMQ on the same Redis, same run: Queue.addBulk in the same batches, a Worker (concurrency 50) with
 *      the same handler; the same two figures; then opsbot-redis / BullMQ throughput.
 * Memory and Redis always; Kafka only when KAFKA_BROKERS is set. The bus is built as
 * engines/eventbus/build-event-bus.ts builds it (schema registry with no schemas, MemoryEventStore, dead
 * letters in a FileRecordStore, MemoryDedupStore behind failOpen as the runtime wraps it), config defaults,
 * without the runtime and without the router group: the one group measured is the bench's subscriber.
 * Every handler is trivial (counts the event, records its latency), so the figures are the bus's own cost.
 * Redis keys, the BullMQ queue, the Kafka topic and temp folders are unique per run and removed at the end
 * (the Kafka topic only where the cluster allows it: librdkafka's mock refuses DeleteTopics).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { failOpen, MemoryDedupStore } from '../bot/core/dedup-store';
import { createLogger } from '../bot/core/logger';
import { FileRecordStore } from '../bot/core/record-store';
import { DeadLetterQueue, type DeadLetter } from '../engines/eventbus/dead-letters';
import { toEvent, type EventInput, type OpsEvent } from '../engines/eventbus/envelope';
import { EventBus } from '../engines/eventbus/event-bus';
import { MemoryEventStore } from '../engines/eventbus/memory-event-store';
import { compileRules } from '../engines/eventbus/routing';
import { SchemaRegistry, type StoredSchema } from '../engines/eventbus/schema-registry';
import type { EventTransport } from '../engines/eventbus/transport';
import { KafkaTransport, kafkaTopicName } from '../engines/eventbus/transports/kafka-transport';
import { MemoryTransport } from '../engines/eventbus/transports/memory-transport';
import { RedisTransport } from '../engines/eventbus/transports/redis-transport';
import { machineLine, percentile, tempDir } from './bench-support';

const TARGET_ROUTED_PER_SECOND = 300_000;
const TARGET_REDIS_PER_SECOND = 30_000;
const TARGET_REDIS_P99_MS = 10;
const TARGET_BULLMQ_RATIO = 2;

const ROUTED_EVENTS = 1_000_000;
const ROUTED_WARM_UP = 100_000;
const ROUTED_PASSES = 3;
/** End-to-end events per transport: each run stays well under a minute on 2 shared cores. */
const END_TO_END_EVENTS = { memory: 200_000, redis: 100_000, kafka: 50_000, bullmq: 100_000 };
const PUBLISH_BATCH = 250;
const WARM_UP_EVENTS = { memory: 2_000, redis: 2_000, kafka: 200, bullmq: 2_000 };
const LATENCY_RATE = 5_000;
const LATENCY_SECONDS = 10;
const LATENCY_MAX_BATCH = 5;
/** Config defaults (bot/config/schema.ts eventbus). */
const PARTITIONS = 8;
const STORE_CAPACITY = 100_000;
/** Correlation ids, the partition key: orders in flight. */
const KEYS = 1024;
const BULLMQ_CONCURRENCY = 50;
/** How long a phase may take before it is reported as unfinished rather than waited for. */
const PHASE_TIMEOUT_MS = { memory: 60_000, redis: 90_000, kafka: 120_000, bullmq: 90_000 };
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Six types, two of them user.* (the redact rule's), so the transform applies to a third of the events. */
const TYPES = [
  'order.created',
  'order.shipped',
  'user.signed_up',
  'payment.failed',
  'user.updated',
  'ops.deploy.finished',
];

/** Five rules as an operator writes them: globs, an exact list, a prefix, a data condition, one transform. */
const RULES = [
  { id: 'orders', match: { type: 'order.*' }, targets: [{ topic: 'fulfilment' }] },
  {
    id: 'big-orders',
    match: { type: 'order.created', data: [{ field: 'total', gt: 1000 }] },
    targets: [{ webhook: { url: 'https://hooks.example.com/big-orders' } }],
  },
  {
    id: 'payment-problems',
    match: { type: ['payment.failed', 'payment.refused'] },
    targets: [{ topic: 'payments.alerts' }],
  },
  {
    id: 'ops-audit',
    match: { type: 'ops.**', source: { prefix: '/services/' } },
    targets: [{ topic: 'audit' }],
  },
  {
    id: 'users-redacted',
    match: { type: 'user.*' },
    transforms: [{ redact: ['email'] }],
    targets: [{ topic: 'crm' }],
  },
];

type Phase = 'warm' | 'run' | 'latency';
interface BenchData {
  phase: Phase;
  seq: number;
  /** performance.now() when its publish call was made (latency phase), else 0. */
  t: number;
  orderId: number;
  total: number;
  email: string;
}

function input(phase: Phase, seq: number, t = 0): EventInput<BenchData> {
  const type = TYPES[seq % TYPES.length]!;
  return {
    type,
    source: type.startsWith('ops.') ? '/services/deployer' : '/services/shop',
    subject: `order/${seq}`,
    correlationid: `order-${seq % KEYS}`,
    data: { phase, seq, t, orderId: seq, total: (seq * 7919) % 2000, email: `user${seq % 1000}@example.com` },
  };
}

/** Counts what the handler saw per phase; the time the count reached what a waiter wants is taken there. */
class Sink {
  readonly counts: Record<Phase, number> = { warm: 0, run: 0, latency: 0 };
  readonly latencies: number[] = [];
  private goal?: { phase: Phase; count: number; reachedAt?: number };

  handle(data: BenchData): void {
    const now = performance.now();
    const count = ++this.counts[data.phase];
    if (data.phase === 'latency') this.latencies.push(now - data.t);
    if (this.goal && this.goal.phase === data.phase && count === this.goal.count) this.goal.reachedAt = now;
  }

  expect(phase: Phase, count: number): void {
    this.goal = { phase, count, ...(this.counts[phase] >= count ? { reachedAt: performance.now() } : {}) };
  }

  /** When the expected count was reached, or undefined if it was not within timeoutMs. */
  async reached(timeoutMs: number): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (this.goal?.reachedAt === undefined && performance.now() < deadline) await delay(5);
    return this.goal?.reachedAt;
  }
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');
const loadLine = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

interface Figures {
  perSecond?: number;
  p50?: number;
  p99?: number;
}

/** Issue targets missed. */
const missed: string[] = [];
/** Runs that failed or did not finish, targets or not. */
const failures: string[] = [];

async function main(): Promise<void> {
  const run = randomUUID().slice(0, 8);
  const brokers = process.env.KAFKA_BROKERS?.split(',').filter(Boolean) ?? [];
  console.log(
    'opsbot bench:bus — event bus throughput and latency per transport, publisher and subscriber in this process',
  );
  console.log(`machine: ${machineLine()}; load average ${loadLine()} (1/5/15 min) at start`);
  console.log('targets (seed design, for context): > 10,000 events/s, p95 routing < 10 ms');
  console.log(
    `targets (issue): memory ≥ ${int(TARGET_ROUTED_PER_SECOND)} events/s routed in-process; Redis ≥ ${int(TARGET_REDIS_PER_SECOND)} events/s end to end ` +
      `with p99 < ${TARGET_REDIS_P99_MS} ms at ${int(LATENCY_RATE)}/s; ≥ ${TARGET_BULLMQ_RATIO}× BullMQ's throughput`,
  );
  const sample = toEvent(input('run', 2)) as OpsEvent;
  console.log(
    `bus: ${PARTITIONS} partitions keyed by correlationid (${KEYS} keys), schema registry with no schemas, ` +
      `MemoryEventStore (capacity ${int(STORE_CAPACITY)}, file in a temp dir), dead letters in a FileRecordStore, ` +
      `MemoryDedupStore (failOpen), retry 5 attempts; one subscriber group, no router group; ` +
      `events: ${TYPES.length} types, ${Buffer.byteLength(JSON.stringify(sample))} bytes of JSON each`,
  );

  console.log('');
  console.log('memory (MemoryTransport: log in a temp dir, fsync "interval", 256 MiB)');
  routedInProcess();
  const memoryDir = tempDir('opsbot-bench-bus-');
  try {
    await busFigures(
      'memory',
      (dir) => new MemoryTransport({ dir: path.join(dir, 'bus'), partitions: PARTITIONS }),
      memoryDir.dir,
    );
  } finally {
    memoryDir.remove();
  }

  console.log('');
  const prefix = `opsbot:bench:${run}:`;
  console.log(
    `redis (RedisTransport at ${REDIS_URL}: key prefix ${prefix}, MAXLEN ~1,000,000, read batches of 200, 1 consumer)`,
  );
  let redis: Figures | undefined;
  let bullmq: Figures | undefined;
  const redisDir = tempDir('opsbot-bench-bus-');
  try {
    if (!(await redisReachable())) {
      console.log(`  skipped: Redis does not answer at ${REDIS_URL}`);
      missed.push('redis (not reachable)');
    } else {
      try {
        redis = await busFigures(
          'redis',
          () =>
            new RedisTransport({
              url: REDIS_URL,
              keyPrefix: prefix,
              partitions: PARTITIONS,
              maxLen: 1_000_000,
            }),
          redisDir.dir,
        );
      } finally {
        await deleteKeys(`${prefix}*`);
      }
      const throughputMet = (redis.perSecond ?? 0) >= TARGET_REDIS_PER_SECOND;
      const p99Met = redis.p99 !== undefined && redis.p99 < TARGET_REDIS_P99_MS;
      console.log(
        `  target: ≥ ${int(TARGET_REDIS_PER_SECOND)} events/s end to end → ${verdict(throughputMet)}; ` +
          `p99 < ${TARGET_REDIS_P99_MS} ms at ${int(LATENCY_RATE)}/s → ${verdict(p99Met)}`,
      );
      if (!throughputMet) missed.push('redis end to end');
      if (!p99Met) missed.push('redis p99');

      console.log('');
      bullmq = await bullmqFigures(run);
      if (redis.perSecond !== undefined && bullmq.perSecond !== undefined) {
        const ratio = redis.perSecond / bullmq.perSecond;
        const met = ratio >= TARGET_BULLMQ_RATIO;
        console.log(
          `opsbot-redis / BullMQ end-to-end throughput: ${int(redis.perSecond)} / ${int(bullmq.perSecond)} = ${ratio.toFixed(2)}× ` +
            `(target ≥ ${TARGET_BULLMQ_RATIO}× → ${verdict(met)}); latency p99 at ${int(LATENCY_RATE)}/s: ` +
            `${fmtMs(redis.p99)} vs ${fmtMs(bullmq.p99)}`,
        );
        if (!met) missed.push('≥ 2× BullMQ');
      } else missed.push('≥ 2× BullMQ (a run did not finish)');
    }
  } finally {
    redisDir.remove();
  }

  console.log('');
  if (brokers.length === 0) {
    console.log(
      "kafka: skipped — KAFKA_BROKERS is not set (a comma-separated bootstrap list; for a try, librdkafka's " +
        'protocol mock: `kcat -C -b 127.0.0.1:1 -t __keepalive -X test.mock.num.brokers=3 -q -u`)',
    );
  } else {
    await kafkaFigures(brokers, run);
  }

  console.log('');
  console.log(`load average ${loadLine()} (1/5/15 min) at the end`);
  console.log(missed.length === 0 ? 'issue targets: all met' : `issue targets NOT met: ${missed.join(', ')}`);
  if (failures.length > 0) console.log(`failed or unfinished: ${failures.join(', ')}`);
  if (missed.length > 0 || failures.length > 0) process.exitCode = 1;
}

/** 1. The routing engine alone: compiled rules over pre-built envelopes, nothing else in the loop. */
function routedInProcess(): void {
  const table = compileRules(RULES, { engines: [] });
  const events: OpsEvent[] = new Array<OpsEvent>(ROUTED_EVENTS);
  const time = new Date().toISOString();
  for (let i = 0; i < ROUTED_EVENTS; i++) {
    const built = toEvent({ ...input('run', i), id: `evt-${i}`, time });
    if ('invalid' in built) throw new Error(built.invalid.join('; '));
    events[i] = built;
  }
  let routes = 0;
  let transformed = 0;
  for (let i = 0; i < ROUTED_WARM_UP; i++) routes += table.route(events[i]!).length;
  const rates: number[] = [];
  for (let pass = 0; pass < ROUTED_PASSES; pass++) {
    routes = 0;
    transformed = 0;
    const started = performance.now();
    for (let i = 0; i < ROUTED_EVENTS; i++) {
      const event = events[i]!;
      const routed = table.route(event);
      routes += routed.length;
      if (routed.length > 0 && routed[routed.length - 1]!.event !== event) transformed++;
    }
    rates.push(ROUTED_EVENTS / ((performance.now() - started) / 1000));
  }
  const median = [...rates].sort((a, b) => a - b)[Math.floor(ROUTED_PASSES / 2)]!;
  const met = median >= TARGET_ROUTED_PER_SECOND;
  if (!met) missed.push('memory routed in-process');
  console.log(
    `  routed in-process (routing engine only): ${int(median)} events/s through compileRules(${RULES.length} rules).route(event) ` +
      `over ${int(ROUTED_EVENTS)} pre-built events, median of ${ROUTED_PASSES} passes (${rates.map(int).join(', ')}); ` +
      `${(routes / ROUTED_EVENTS).toFixed(2)} routes/event, ${((transformed / ROUTED_EVENTS) * 100).toFixed(1)}% transformed ` +
      `— target ≥ ${int(TARGET_ROUTED_PER_SECOND)} → ${verdict(met)}`,
  );
}

/** The bus as build-event-bus.ts builds it, on `transport`, with its stores in `dir`. */
async function openBus(transport: EventTransport, dir: string, topic?: string): Promise<EventBus> {
  const logger = createLogger('silent');
  const schemas = new SchemaRegistry(new FileRecordStore<StoredSchema>(dir, 'bus-schemas'), {
    requireSchemas: false,
  });
  await schemas.load();
  return new EventBus({
    transport,
    validator: schemas,
    deadLetters: new DeadLetterQueue(new FileRecordStore<DeadLetter>(dir, 'bus-dead-letters')),
    store: new MemoryEventStore({ dir: path.join(dir, 'bus-events'), capacity: STORE_CAPACITY }),
    dedup: failOpen(new MemoryDedupStore(), logger),
    logger: logger.child({ component: 'eventbus' }),
    options: {
      ...(topic ? { topic } : {}),
      partitionKey: 'correlationid',
      retry: { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 10_000 },
      dedupTtlSeconds: 86_400,
    },
  });
}

/** 2 and 3 for one transport. */
async function busFigures(
  kind: 'memory' | 'redis' | 'kafka',
  transport: (dir: string) => EventTransport,
  dir: string,
  topic?: string,
): Promise<Figures> {
  const bus = await openBus(transport(dir), dir, topic);
  const sink = new Sink();
  const figures: Figures = {};
  try {
    await bus.subscribe(`bench-${kind}`, async (event) => sink.handle(event.data as BenchData));
    const timeout = PHASE_TIMEOUT_MS[kind];

    // Warm-up: group creation, leases or the Kafka group join, JIT; not timed.
    const warm = WARM_UP_EVENTS[kind];
    sink.expect('warm', warm);
    for (let i = 0; i < warm; i += PUBLISH_BATCH)
      await bus.publish(
        Array.from({ length: Math.min(PUBLISH_BATCH, warm - i) }, (_, j) => input('warm', i + j)),
      );
    if ((await sink.reached(timeout)) === undefined) {
      console.log(
        `  warm-up: only ${int(sink.counts.warm)} of ${int(warm)} events handled in ${timeout / 1000} s; stopped`,
      );
      failures.push(`${kind} warm-up did not finish`);
      return figures;
    }

    const n = END_TO_END_EVENTS[kind];
    const batches: EventInput[][] = [];
    for (let i = 0; i < n; i += PUBLISH_BATCH)
      batches.push(Array.from({ length: Math.min(PUBLISH_BATCH, n - i) }, (_, j) => input('run', i + j)));
    sink.expect('run', n);
    const started = performance.now();
    for (const batch of batches) await bus.publish(batch);
    const publishedIn = performance.now() - started;
    const reachedAt = await sink.reached(timeout);
    if (reachedAt === undefined) {
      console.log(
        `  end to end: did not finish — ${int(sink.counts.run)} of ${int(n)} events handled ${timeout / 1000} s after the first publish`,
      );
      failures.push(`${kind} end to end did not finish`);
      return figures;
    }
    const seconds = (reachedAt - started) / 1000;
    figures.perSecond = n / seconds;
    console.log(
      `  end to end: ${int(figures.perSecond)} events/s — ${int(n)} events through EventBus.publish (batches of ${PUBLISH_BATCH}, ` +
        `one call in flight) to 1 subscriber group (bus.subscribe), first publish → last handled ${seconds.toFixed(2)} s ` +
        `(the last publish resolved at ${(publishedIn / 1000).toFixed(2)} s)`,
    );

    const latency = await paced(kind, sink, timeout, (events) => bus.publish(events).then(() => undefined));
    Object.assign(figures, latency);
  } finally {
    await bus.close();
  }
  return figures;
}

/**
 * 3. Publishes LATENCY_RATE events/s for LATENCY_SECONDS, stamped with performance.now() at their publish
 * call, in calls of at most LATENCY_MAX_BATCH, without awaiting them; then waits until all are handled.
 */
async function paced(
  what: string,
  sink: Sink,
  timeoutMs: number,
  send: (events: EventInput<BenchData>[]) => Promise<void>,
): Promise<Figures> {
  const total = LATENCY_RATE * LATENCY_SECONDS;
  sink.expect('latency', total);
  let sent = 0;
  let calls = 0;
  let failed: unknown;
  /** How long each wait for the next 1 ms tick really took: this process's own stalls (GC, CPU contention). */
  const ticks: number[] = [];
  /** How long each publish call took to resolve: a publisher falling behind shows here, not in the handler. */
  const resolved: number[] = [];
  const pending: Promise<void>[] = [];
  const started = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * LATENCY_RATE) / 1000));
    while (sent < due) {
      const count = Math.min(LATENCY_MAX_BATCH, due - sent);
      const t = performance.now();
      const events = Array.from({ length: count }, (_, j) => input('latency', sent + j, t));
      pending.push(
        send(events).then(
          () => void resolved.push(performance.now() - t),
          (err: unknown) => void (failed ??= err),
        ),
      );
      sent += count;
      calls++;
    }
    const waited = performance.now();
    await delay(1);
    ticks.push(performance.now() - waited);
  }
  ticks.sort((a, b) => a - b);
  const seconds = (performance.now() - started) / 1000;
  const reached = await sink.reached(timeoutMs);
  await Promise.all(pending);
  resolved.sort((a, b) => a - b);
  if (failed) throw failed;
  const sorted = [...sink.latencies].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  const max = sorted[sorted.length - 1] ?? NaN;
  console.log(
    `  latency at ${int(LATENCY_RATE)}/s: p50 ${fmtMs(p50)}, p99 ${fmtMs(p99)}, max ${fmtMs(max)} — publish call → handler, ` +
      `${int(total)} events over ${seconds.toFixed(1)} s (${int(total / seconds)}/s achieved, ${int(calls)} calls of ≤ ${LATENCY_MAX_BATCH}, ` +
      `one tick per ~1 ms; ticks asked for 1 ms took p99 ${fmtMs(percentile(ticks, 99))}, max ${fmtMs(ticks.at(-1))}; ` +
      `publish calls resolved in p50 ${fmtMs(percentile(resolved, 50))}, p99 ${fmtMs(percentile(resolved, 99))})` +
      `${reached === undefined ? `; NOT all handled: ${int(sink.counts.latency)}` : ''}`,
  );
  if (reached === undefined) failures.push(`${what} latency run: not every event handled`);
  return reached === undefined ? {} : { p50, p99 };
}

function fmtMs(value: number | undefined): string {
  return value === undefined || Number.isNaN(value) ? 'n/a' : `${value.toFixed(2)} ms`;
}

/** 4. BullMQ on the same Redis: the same batches, the same handler, the same two figures. */
async function bullmqFigures(run: string): Promise<Figures> {
  const url = new URL(REDIS_URL);
  const connection = { host: url.hostname, port: Number(url.port || 6379) };
  const name = `opsbot-bench-${run}`;
  const jobOptions = { removeOnComplete: true, removeOnFail: true };
  const { version } = JSON.parse(readFileSync(require.resolve('bullmq/package.json'), 'utf8')) as {
    version: string;
  };
  console.log(
    `bullmq ${version} on the same Redis (queue ${name}; Queue.addBulk in batches of ${PUBLISH_BATCH}, one call in flight; ` +
      `Worker concurrency ${BULLMQ_CONCURRENCY}; jobs removeOnComplete: true, removeOnFail: true, attempts 1 (default); ` +
      `other settings default; jobs run in parallel, unordered — opsbot keeps per-key order, dedups and stores every event)`,
  );
  const queue = new Queue(name, { connection });
  const sink = new Sink();
  const worker = new Worker(name, async (job) => sink.handle(job.data as BenchData), {
    connection,
    concurrency: BULLMQ_CONCURRENCY,
  });
  worker.on('error', () => {});
  queue.on('error', () => {});
  const figures: Figures = {};
  const timeout = PHASE_TIMEOUT_MS.bullmq;
  const jobs = (list: EventInput<BenchData>[]) =>
    list.map((event) => ({ name: event.type, data: { ...event.data, type: event.type }, opts: jobOptions }));
  try {
    await worker.waitUntilReady();
    const warm = WARM_UP_EVENTS.bullmq;
    sink.expect('warm', warm);
    for (let i = 0; i < warm; i += PUBLISH_BATCH)
      await queue.addBulk(
        jobs(Array.from({ length: Math.min(PUBLISH_BATCH, warm - i) }, (_, j) => input('warm', i + j))),
      );
    if ((await sink.reached(timeout)) === undefined) {
      console.log(
        `  warm-up: only ${int(sink.counts.warm)} of ${int(warm)} jobs handled in ${timeout / 1000} s; stopped`,
      );
      failures.push('bullmq warm-up did not finish');
      return figures;
    }

    const n = END_TO_END_EVENTS.bullmq;
    const batches: ReturnType<typeof jobs>[] = [];
    for (let i = 0; i < n; i += PUBLISH_BATCH)
      batches.push(
        jobs(Array.from({ length: Math.min(PUBLISH_BATCH, n - i) }, (_, j) => input('run', i + j))),
      );
    sink.expect('run', n);
    const started = performance.now();
    for (const batch of batches) await queue.addBulk(batch);
    const addedIn = performance.now() - started;
    const reachedAt = await sink.reached(timeout);
    if (reachedAt === undefined) {
      console.log(
        `  end to end: did not finish — ${int(sink.counts.run)} of ${int(n)} jobs handled in ${timeout / 1000} s`,
      );
      failures.push('bullmq end to end did not finish');
    } else {
      const seconds = (reachedAt - started) / 1000;
      figures.perSecond = n / seconds;
      console.log(
        `  end to end: ${int(figures.perSecond)} jobs/s — ${int(n)} jobs through Queue.addBulk (batches of ${PUBLISH_BATCH}) ` +
          `to 1 Worker (concurrency ${BULLMQ_CONCURRENCY}), first add → last handled ${seconds.toFixed(2)} s ` +
          `(the last addBulk resolved at ${(addedIn / 1000).toFixed(2)} s)`,
      );
    }
    Object.assign(
      figures,
      await paced('bullmq', sink, timeout, (events) => queue.addBulk(jobs(events)).then(() => undefined)),
    );
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await deleteKeys(`bull:${name}:*`);
  }
  return figures;
}

async function kafkaFigures(brokers: string[], run: string): Promise<void> {
  const admin = new Kafka({ brokers, clientId: 'opsbot-bench', logLevel: logLevel.NOTHING }).admin();
  const topic = `bench-${run}`;
  const kafkaTopic = kafkaTopicName('opsbot.', topic);
  const dir = tempDir('opsbot-bench-bus-');
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    const mock = cluster.clusterId.startsWith('mockCluster');
    // librdkafka's mock names a controller it does not have, so CreateTopics fails there: the topic is then
    // created on first use with the cluster's default partition count, which is read back and printed.
    let created = `${PARTITIONS} partitions, created by the bench`;
    try {
      await admin.createTopics({
        topics: [{ topic: kafkaTopic, numPartitions: PARTITIONS }],
        waitForLeaders: true,
      });
    } catch (err) {
      const metadata = await admin.fetchTopicMetadata({ topics: [kafkaTopic] });
      const partitions = metadata.topics[0]?.partitions.length ?? 0;
      created = `${partitions} partitions, auto-created (CreateTopics failed: ${(err as Error).message})`;
    }
    console.log(
      `kafka (KafkaTransport at ${brokers.join(',')}: cluster ${cluster.clusterId}, ${cluster.brokers.length} brokers; ` +
        `topic ${kafkaTopic}, ${created}; kafkajs defaults, acks all, one request in flight)`,
    );
    if (mock)
      console.log(
        "  NOTE: this is librdkafka's Kafka-protocol mock (in memory, one process), not a Kafka cluster: " +
          'the figures measure kafkajs and the transport against the mock, not Kafka. Seen from kafkajs, the ' +
          "mock holds a fetch that finds nothing for the consumer's full max wait (1,000 ms in the transport) " +
          'even when records arrive meanwhile, and answers a fetch with about one record batch (one produce ' +
          'request) per partition, so small publishes are consumed a few records per fetch; a broker does neither',
      );
    await busFigures(
      'kafka',
      () => new KafkaTransport({ brokers, clientId: 'opsbot-bench' }),
      dir.dir,
      topic,
    );
  } catch (err) {
    console.log(`  kafka failed: ${(err as Error).message}`);
    failures.push('kafka (failed)');
  } finally {
    await admin
      .deleteTopics({ topics: [kafkaTopic] })
      .catch((err: Error) => console.log(`  (topic ${kafkaTopic} not deleted: ${err.message})`));
    await admin.disconnect();
    dir.remove();
  }
}

async function redisReachable(): Promise<boolean> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function deleteKeys(pattern: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  redis.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

main().then(
  // Anything a library left open (a reconnect timer) must not keep a finished bench running.
  () => setTimeout(() => process.exit(), 2000).unref(),
  (err: unknown) => {
    console.error(`bench:bus: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
