import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect as tcpConnect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import Redis from 'ioredis';
import type { OpsEvent } from '../../engines/eventbus/envelope';
import type { Delivery, TransportRecord } from '../../engines/eventbus/transport';
import {
  RedisTransport,
  type RedisTransportOptions,
} from '../../engines/eventbus/transports/redis-transport';

const REDIS_URL = 'redis://127.0.0.1:6379';
const ROOT = path.resolve(__dirname, '..', '..');
const CONSUMER_PROCESS = path.join(__dirname, 'fixtures', 'redis-consumer.js');
const COMPILED = path.join(ROOT, 'dist', 'engines', 'eventbus', 'transports', 'redis-transport.js');
const SOURCE = path.join(ROOT, 'engines', 'eventbus', 'transports', 'redis-transport.ts');
/** Rebalancing takes a few lease periods; a slow shared machine gets room to spare, within jest's 20 s. */
const WAIT_MS = 15_000;

let redis: Redis;
let prefix: string;
let testNumber = 0;
const opened: RedisTransport[] = [];

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(() => redis.quit());

beforeEach(() => {
  prefix = `opsbot:test:redis-transport:${process.pid}:${Date.now().toString(36)}:${++testNumber}:`;
});
afterEach(async () => {
  for (const transport of opened.splice(0)) await transport.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
});

/** A transport on this test's keys; each one is what another process would have (its own connections). */
function open(options: Partial<RedisTransportOptions> = {}, url = REDIS_URL): RedisTransport {
  const transport = new RedisTransport({ url, keyPrefix: prefix, partitions: 4, leaseMs: 1200, ...options });
  opened.push(transport);
  return transport;
}

function event(key: string, n: number): OpsEvent {
  return {
    specversion: '1.0',
    id: `${key}-${n}`,
    type: 'test.published',
    source: '/tests/redis-transport',
    time: new Date().toISOString(),
    correlationid: key,
    datacontenttype: 'application/json',
    data: { key, n },
  };
}

/** `perKey` events for each key, numbered from `from`, keys interleaved as a bus would publish them. */
function records(topic: string, keys: string[], perKey: number, from = 0): TransportRecord[] {
  const out: TransportRecord[] = [];
  for (let n = from; n < from + perKey; n++)
    for (const key of keys) out.push({ topic, key, event: event(key, n) });
  return out;
}

const keysNamed = (name: string, count: number) => Array.from({ length: count }, (_, i) => `${name}${i}`);
const nOf = (d: Delivery) => (d.event.data as { n: number }).n;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = WAIT_MS) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Per key, the `n` of each delivery in handling order. */
function byKey(deliveries: readonly Delivery[]): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  for (const d of deliveries) seen.set(d.key, [...(seen.get(d.key) ?? []), nOf(d)]);
  return seen;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function leaseOwners(topic: string, group: string, partitions: number): Promise<(string | null)[]> {
  return redis.mget(...range(0, partitions).map((p) => `${prefix}${topic}:${p}:${group}:lease`));
}

function countBy(values: readonly (string | null)[]): Map<string | null, number> {
  const counts = new Map<string | null, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

async function pendingCount(topic: string, group: string, partitions: number): Promise<number> {
  let total = 0;
  for (const p of range(0, partitions))
    total += Number(((await redis.xpending(`${prefix}${topic}:${p}`, group)) as [number])[0]);
  return total;
}

describe('RedisTransport', () => {
  it('keeps every key in order, one handler at a time, while a second consumer joins the group', async () => {
    const topic = 'orders';
    const keys = keysNamed('order-', 24);
    const first = open();
    const second = open();
    const handled: Delivery[] = [];
    const handledBy = { a: 0, b: 0 };
    const inFlight = new Set<string>();
    let overlapped = false;
    const handler = (who: 'a' | 'b') => async (d: Delivery) => {
      if (inFlight.has(d.key)) overlapped = true;
      inFlight.add(d.key);
      await sleep(5);
      inFlight.delete(d.key);
      handled.push(d);
      handledBy[who]++;
    };

    await first.subscribe({ topic, group: 'g', consumer: 'a', batchSize: 20 }, handler('a'));
    // A backlog of a second or so per partition, then more over a few lease periods: partitions change hands
    // in the middle of batches read and not yet handled.
    await first.publish(records(topic, keys, 20));
    await second.subscribe({ topic, group: 'g', consumer: 'b', batchSize: 20 }, handler('b'));
    for (let n = 20; n < 40; n += 2) {
      await second.publish(records(topic, keys, 2, n));
      await sleep(100);
    }

    await eventually(() => handled.length >= keys.length * 40, 'every event');
    await sleep(200);
    expect(handled).toHaveLength(keys.length * 40);
    for (const key of keys) expect(byKey(handled).get(key)).toEqual(range(0, 40));
    expect(overlapped).toBe(false);
    expect(handledBy.a).toBeGreaterThan(0);
    expect(handledBy.b).toBeGreaterThan(0);
    await eventually(async () => {
      const owners = countBy(await leaseOwners(topic, 'g', 4));
      return owners.get('a') === 2 && owners.get('b') === 2;
    }, 'two partitions each');
  });

  it('gives every group all events, with the envelope intact', async () => {
    const topic = 'audit';
    const transport = open();
    const published = records(topic, keysNamed('k', 5), 20);
    await transport.publish(published);
    const one: Delivery[] = [];
    const two: Delivery[] = [];
    await transport.subscribe({ topic, group: 'one', consumer: 'c1' }, async (d) => void one.push(d));
    await transport.subscribe({ topic, group: 'two', consumer: 'c2' }, async (d) => void two.push(d));

    await eventually(() => one.length >= published.length && two.length >= published.length, 'both groups');
    const ids = published.map((r) => r.event.id).sort();
    expect(one.map((d) => d.event.id).sort()).toEqual(ids);
    expect(two.map((d) => d.event.id).sort()).toEqual(ids);
    const delivered = one.find((d) => d.event.id === published[0]?.event.id);
    expect(delivered).toMatchObject({ topic, key: 'k0', deliveryCount: 1, event: published[0]?.event });
  });

  it('splits partitions between live consumers by lease and rebalances when one closes', async () => {
    const topic = 'leases';
    const partitions = 6;
    const transports = [0, 1, 2].map(() => open({ partitions, leaseMs: 900 }));
    const handledBy = new Map<string, { consumer: string; partition: number }>();
    const subscriptions = await Promise.all(
      transports.map((t, i) =>
        t.subscribe({ topic, group: 'g', consumer: `c${i}` }, async (d) => {
          handledBy.set(d.event.id, { consumer: `c${i}`, partition: d.partition });
        }),
      ),
    );
    await eventually(async () => {
      const owners = countBy(await leaseOwners(topic, 'g', partitions));
      return owners.get('c0') === 2 && owners.get('c1') === 2 && owners.get('c2') === 2;
    }, 'two partitions for each of three consumers');

    const owners = await leaseOwners(topic, 'g', partitions);
    const before = records(topic, keysNamed('k', 30), 4);
    await transports[0]!.publish(before);
    await eventually(() => handledBy.size >= before.length, 'the events before the close');
    // Each partition was read by the consumer holding its lease, and by no other.
    for (const { consumer, partition } of handledBy.values()) expect(consumer).toBe(owners[partition]);

    await subscriptions[0]!.close();
    // It left: the others need not wait for its heartbeat or its leases to run out.
    expect((await redis.zrange(`${prefix}${topic}:g:members`, 0, -1)).sort()).toEqual(['c1', 'c2']);
    expect(await leaseOwners(topic, 'g', partitions)).not.toContain('c0');
    await eventually(async () => {
      const counts = countBy(await leaseOwners(topic, 'g', partitions));
      return counts.get('c1') === 3 && counts.get('c2') === 3;
    }, 'the closed consumer’s partitions taken over');

    handledBy.clear();
    const after = records(topic, keysNamed('k', 30), 4, 4);
    await transports[1]!.publish(after);
    await eventually(() => handledBy.size >= after.length, 'the events after the close');
    expect(new Set([...handledBy.values()].map((h) => h.consumer))).toEqual(new Set(['c1', 'c2']));
  });

  it('retries a failed entry with a higher delivery count before the later entries of its partition', async () => {
    const topic = 'retries';
    const transport = open({ partitions: 1 });
    await transport.publish(records(topic, ['only'], 8));
    const handled: Delivery[] = [];
    let failures = 0;
    await transport.subscribe({ topic, group: 'g', consumer: 'c' }, async (d) => {
      if (nOf(d) === 3 && failures < 2) {
        failures++;
        throw new Error('handler failed');
      }
      handled.push(d);
    });

    await eventually(() => handled.length >= 8, 'the retried entry and the rest');
    expect(handled.map(nOf)).toEqual(range(0, 8));
    expect(handled.map((d) => d.deliveryCount)).toEqual([1, 1, 1, 3, 1, 1, 1, 1]);
    await eventually(async () => (await pendingCount(topic, 'g', 1)) === 0, 'every entry acknowledged');
  });

  describe('a consumer killed with SIGKILL', () => {
    const children: ChildProcess[] = [];
    afterEach(() => {
      for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    });

    beforeAll(() => {
      // npm test builds first; run on its own, this test needs a current build of the transport.
      if (!existsSync(COMPILED) || statSync(COMPILED).mtimeMs < statSync(SOURCE).mtimeMs)
        throw new Error(`${COMPILED} is missing or older than its source: run npm run build first`);
    });

    it('leaves what it never acknowledged to another consumer, delivered again, none lost', async () => {
      const topic = 'payments';
      const transport = open({ partitions: 4, leaseMs: 1000 });
      const published = records(topic, keysNamed('pay-', 12), 25);
      await transport.publish(published);

      const child = spawn(
        process.execPath,
        [CONSUMER_PROCESS, REDIS_URL, prefix, topic, 'g', 'doomed', '4', '1000', '60'],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(child);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const childSaw: { id: string; deliveryCount: number }[] = [];
      createInterface({ input: child.stdout! }).on('line', (line) => childSaw.push(JSON.parse(line)));
      await eventually(() => childSaw.length >= 60, 'the child consumer to hang mid-batch');
      child.kill('SIGKILL');
      await exited;

      // What the dead consumer read and never acknowledged, according to Redis.
      const stranded = new Set<string>();
      for (const p of range(0, 4)) {
        const stream = `${prefix}${topic}:${p}`;
        const pending = (await redis.xpending(stream, 'g', '-', '+', 1000, 'doomed')) as [string][];
        for (const [id] of pending) {
          const [[, fields] = ['', []]] = await redis.xrange(stream, id, id);
          stranded.add((JSON.parse(fields[fields.indexOf('event') + 1]!) as OpsEvent).id);
        }
      }
      expect(stranded.size).toBeGreaterThan(0);
      // The handler it hung in never resolved, so that entry cannot have been acknowledged.
      expect(stranded.has(childSaw[59]!.id)).toBe(true);
      const acknowledged = new Set(childSaw.map((s) => s.id).filter((id) => !stranded.has(id)));

      const handled: Delivery[] = [];
      await transport.subscribe(
        { topic, group: 'g', consumer: 'survivor' },
        async (d) => void handled.push(d),
      );
      await eventually(
        () =>
          published.every(
            (r) => acknowledged.has(r.event.id) || handled.some((d) => d.event.id === r.event.id),
          ),
        'every event the dead consumer did not acknowledge',
      );

      for (const id of stranded)
        expect(handled.find((d) => d.event.id === id)?.deliveryCount ?? 0).toBeGreaterThanOrEqual(2);
      for (const d of handled) {
        expect(acknowledged.has(d.event.id)).toBe(false);
        if (!stranded.has(d.event.id)) expect(d.deliveryCount).toBe(1);
      }
      // Stranded entries come first, so each key still moves forward.
      for (const ns of byKey(handled).values()) expect(ns).toEqual([...ns].sort((a, b) => a - b));
      await eventually(async () => (await transport.lag(topic, 'g')) === 0, 'no lag left');
    });
  });

  it('trims each partition stream to about maxLen entries', async () => {
    const topic = 'trimmed';
    const transport = open({ partitions: 1, maxLen: 50 });
    for (let n = 0; n < 1000; n += 100) await transport.publish(records(topic, ['k'], 100, n));

    const stream = `${prefix}${topic}:0`;
    const length = await redis.xlen(stream);
    // '~' trims whole stream nodes only, so a node's worth more than maxLen may stay.
    expect(length).toBeGreaterThanOrEqual(50);
    expect(length).toBeLessThan(150);
    const [[, newest] = ['', []]] = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
    expect(JSON.parse(newest[newest.indexOf('event') + 1]!)).toMatchObject({ id: 'k-999' });
  });

  it('drops entries older than minIdMs', async () => {
    const topic = 'aged';
    const transport = open({ partitions: 1, minIdMs: 300 });
    await transport.publish(records(topic, ['k'], 300));
    await sleep(500);
    await transport.publish(records(topic, ['k'], 1, 300));

    const length = await redis.xlen(`${prefix}${topic}:0`);
    // Whole nodes of old entries go; the newest node may still hold some of them.
    expect(length).toBeGreaterThanOrEqual(1);
    expect(length).toBeLessThanOrEqual(101);
  });

  it('reports as lag every entry a group has not acknowledged, delivered or not', async () => {
    const topic = 'lagging';
    const transport = open({ partitions: 2 });
    await transport.publish(records(topic, keysNamed('k', 3), 10));
    // A group that does not exist yet will start at the beginning.
    expect(await transport.lag(topic, 'slow')).toBe(30);

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    await transport.subscribe({ topic, group: 'slow', consumer: 'c', batchSize: 5 }, async () => {
      started++;
      await gate;
    });
    const fast: Delivery[] = [];
    await transport.subscribe({ topic, group: 'fast', consumer: 'c' }, async (d) => void fast.push(d));

    try {
      await eventually(() => started >= 1 && fast.length >= 30, 'the slow group stuck and the fast one done');
      await eventually(async () => (await transport.lag(topic, 'fast')) === 0, 'no lag for the fast group');
      expect(await pendingCount(topic, 'slow', 2)).toBeGreaterThan(0);
      expect(await transport.lag(topic, 'slow')).toBe(30);
    } finally {
      // Closing waits for handlers in flight; a failed expectation must not leave them hanging.
      release();
    }
    await eventually(async () => (await transport.lag(topic, 'slow')) === 0, 'the slow group caught up');
    expect(await transport.lag(topic, 'fast')).toBe(0);
  });

  describe('a Redis restart', () => {
    const servers: ChildProcess[] = [];
    const dirs: string[] = [];
    afterEach(() => {
      for (const server of servers.splice(0)) if (server.exitCode === null) server.kill('SIGKILL');
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });

    /** A private redis-server that fsyncs every write before answering, so an acknowledged write survives. */
    async function startRedis(port: number, dir: string): Promise<ChildProcess> {
      const server = spawn(
        'redis-server',
        [
          ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
          ...['--appendonly', 'yes', '--appendfsync', 'always'],
        ],
        { stdio: 'ignore' },
      );
      servers.push(server);
      await eventually(() => ping(port), `redis-server on port ${port}`, 10_000);
      return server;
    }

    it('lets publishing and consuming resume by themselves, losing no acknowledged event', async () => {
      const topic = 'restarted';
      const port = await freePort();
      const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-redis-restart-'));
      dirs.push(dir);
      let server = await startRedis(port, dir);
      const url = `redis://127.0.0.1:${port}`;
      const transport = new RedisTransport({ url, keyPrefix: prefix, partitions: 2, leaseMs: 900 });
      try {
        const handled = new Set<string>();
        await transport.subscribe(
          { topic, group: 'g', consumer: 'c' },
          async (d) => void handled.add(d.event.id),
        );

        const acknowledged: string[] = [];
        let publishing = true;
        const publisher = (async () => {
          for (let n = 0; publishing; n++) {
            const record = { topic, key: `k${n % 5}`, event: event(`k${n % 5}`, n) };
            // A rejected publish is allowed during the outage; only a resolved one promises the event is stored.
            await transport.publish([record]).then(
              () => acknowledged.push(record.event.id),
              () => {},
            );
            await sleep(5);
          }
        })();

        await eventually(() => acknowledged.length >= 50, 'publishing before the restart');
        server.kill('SIGKILL');
        await new Promise((resolve) => server.once('exit', resolve));
        await sleep(300);
        const beforeRestart = acknowledged.length;
        server = await startRedis(port, dir);
        await eventually(() => acknowledged.length >= beforeRestart + 50, 'publishing after the restart');
        publishing = false;
        await publisher;

        await eventually(
          () => acknowledged.every((id) => handled.has(id)),
          'every acknowledged event handled',
        );
        const inspect = new Redis(url);
        try {
          const stored = new Set<string>();
          for (const p of [0, 1])
            for (const [, fields] of await inspect.xrange(`${prefix}${topic}:${p}`, '-', '+'))
              stored.add((JSON.parse(fields[fields.indexOf('event') + 1]!) as OpsEvent).id);
          expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
        } finally {
          inspect.disconnect();
        }
      } finally {
        await transport.close();
      }
    }, 60_000);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True once Redis answers PING (not while it is still loading its data). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(500, () => socket.destroy());
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) socket.end();
    });
    socket.once('error', () => {});
    socket.once('close', () => resolve(reply.startsWith('+PONG')));
  });
}
