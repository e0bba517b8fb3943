import { spawn } from 'node:child_process';
import fs, {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { OpsEvent } from '../../engines/eventbus/envelope';
import { partitionOf, type Delivery, type Subscription } from '../../engines/eventbus/transport';
import {
  MemoryTransport,
  type MemoryTransportOptions,
} from '../../engines/eventbus/transports/memory-transport';

const ROOT = path.resolve(__dirname, '..', '..');
const COMPILED = path.join(ROOT, 'dist', 'engines', 'eventbus', 'transports', 'memory-transport.js');
const PUBLISHER = path.join(__dirname, 'fixtures', 'memory-publisher.js');
const WAIT_MS = 15_000;

function event(n: number, key = 'k'): OpsEvent {
  return {
    specversion: '1.0',
    id: `event-${n}`,
    type: 'test.published',
    source: '/tests/memory-transport',
    time: '2026-01-01T00:00:00.000Z',
    correlationid: key,
    datacontenttype: 'application/json',
    data: { n, key },
  };
}

const numberOf = (d: Delivery): number => (d.event.data as { n: number }).n;

async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function segmentFiles(dir: string, topic: string): string[] {
  return readdirSync(path.join(dir, topic))
    .filter((file) => file.endsWith('.log'))
    .sort();
}

describe('MemoryTransport', () => {
  const dirs: string[] = [];
  const opened: MemoryTransport[] = [];
  const subscriptions: Subscription[] = [];

  function tempDir(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-memory-transport-'));
    dirs.push(dir);
    return dir;
  }

  function open(dir: string, options: Partial<MemoryTransportOptions> = {}) {
    const transport = new MemoryTransport({ dir, partitions: 4, ...options });
    opened.push(transport);
    return transport;
  }

  async function subscribe(
    transport: MemoryTransport,
    topic: string,
    group: string,
    handler: (d: Delivery) => Promise<void>,
  ): Promise<Subscription> {
    const subscription = await transport.subscribe(
      { topic, group, consumer: `${group}-${process.pid}` },
      handler,
    );
    subscriptions.push(subscription);
    return subscription;
  }

  /** Everything a new group is given, once it has had it all. */
  async function readAll(transport: MemoryTransport, topic: string, group: string): Promise<Delivery[]> {
    const expected = await transport.lag(topic, group);
    const handled: Delivery[] = [];
    const subscription = await subscribe(transport, topic, group, async (d) => {
      handled.push(d);
    });
    await eventually(() => handled.length >= expected, `${expected} records for ${group}`);
    await subscription.close();
    return handled;
  }

  afterEach(async () => {
    jest.restoreAllMocks();
    for (const subscription of subscriptions.splice(0)) await subscription.close();
    for (const transport of opened.splice(0)) await transport.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers each partition in order, one record at a time, with partitions running concurrently', async () => {
    const transport = open(tempDir());
    const keys = [...Array(8).keys()].map((i) => `key-${i}`);
    // Separate concurrent calls, as the bus makes them.
    await Promise.all(
      [...Array(25).keys()].flatMap((n) =>
        keys.map((key) => transport.publish([{ topic: 'orders', key, event: event(n, key) }])),
      ),
    );
    const seen = new Map<string, number[]>();
    const busy = new Set<number>();
    let overlapped = false;
    let mostBusy = 0;
    let handled = 0;
    await subscribe(transport, 'orders', 'g', async (d) => {
      expect(d.partition).toBe(partitionOf(d.key, 4));
      if (busy.has(d.partition)) overlapped = true;
      busy.add(d.partition);
      mostBusy = Math.max(mostBusy, busy.size);
      await pause(1);
      busy.delete(d.partition);
      seen.set(d.key, [...(seen.get(d.key) ?? []), numberOf(d)]);
      handled += 1;
    });
    await eventually(() => handled >= 200, 'every record');
    for (const key of keys) expect(seen.get(key)).toEqual([...Array(25).keys()]);
    expect(overlapped).toBe(false);
    expect(mostBusy).toBeGreaterThan(1);
  });

  it('writes concurrent publishes to the log together, in one write', async () => {
    const transport = open(tempDir());
    await transport.publish([{ topic: 'orders', key: 'k', event: event(0) }]);
    const writes = jest.spyOn(fs, 'writeSync');
    await Promise.all(
      [...Array(100).keys()].map((n) =>
        transport.publish([{ topic: 'orders', key: `k${n}`, event: event(n) }]),
      ),
    );
    expect(writes).toHaveBeenCalledTimes(1);
  });

  it('gives every group every record', async () => {
    const transport = open(tempDir());
    await transport.publish(
      [...Array(30).keys()].map((n) => ({ topic: 't', key: `k${n % 5}`, event: event(n) })),
    );
    const one = await readAll(transport, 't', 'one');
    const two = await readAll(transport, 't', 'two');
    expect(one.map(numberOf).sort((a, b) => a - b)).toEqual([...Array(30).keys()]);
    expect(two.map(numberOf).sort((a, b) => a - b)).toEqual([...Array(30).keys()]);
  });

  it('delivers a rejected record again, counting deliveries, before the later records of its partition', async () => {
    const transport = open(tempDir(), { partitions: 1 });
    await transport.publish([0, 1, 2].map((n) => ({ topic: 't', key: 'k', event: event(n) })));
    const attempts: [number, number][] = [];
    await subscribe(transport, 't', 'g', async (d) => {
      attempts.push([numberOf(d), d.deliveryCount]);
      if (numberOf(d) === 1 && d.deliveryCount < 3) throw new Error('not yet');
    });
    await eventually(() => attempts.length >= 5, 'the retries and the rest');
    expect(attempts).toEqual([
      [0, 1],
      [1, 1],
      [1, 2],
      [1, 3],
      [2, 1],
    ]);
  });

  it('shares the partitions among the subscriptions of a group, each record handled once', async () => {
    const transport = open(tempDir(), { partitions: 2 });
    const handledBy = new Map<number, Set<string>>();
    const handled: number[] = [];
    const handler = (name: string) => async (d: Delivery) => {
      handledBy.set(d.partition, (handledBy.get(d.partition) ?? new Set()).add(name));
      handled.push(numberOf(d));
    };
    await subscribe(transport, 't', 'g', handler('first'));
    await subscribe(transport, 't', 'g', handler('second'));
    await transport.publish(
      [...Array(40).keys()].map((n) => ({ topic: 't', key: `k${n}`, event: event(n) })),
    );
    await eventually(() => handled.length >= 40, 'every record');
    await pause(100);
    expect(handled.sort((a, b) => a - b)).toEqual([...Array(40).keys()]);
    expect([...handledBy.values()].map((names) => [...names])).toEqual(
      expect.arrayContaining([['first'], ['second']]),
    );
  });

  it("hands a closed subscription's unacknowledged record to another of its group", async () => {
    const transport = open(tempDir(), { partitions: 1 });
    await transport.publish([{ topic: 't', key: 'k', event: event(7) }]);
    let failures = 0;
    const failing = await subscribe(transport, 't', 'g', async () => {
      failures += 1;
      throw new Error('cannot handle it');
    });
    await eventually(() => failures >= 1, 'a failed delivery');
    const taken: Delivery[] = [];
    await subscribe(transport, 't', 'g', async (d) => {
      taken.push(d);
    });
    await failing.close();
    await eventually(() => taken.length >= 1, 'the record at the other subscription');
    expect(numberOf(taken[0]!)).toBe(7);
    expect(taken[0]!.deliveryCount).toBe(failures + 1);
    expect(await transport.lag('t', 'g')).toBe(0);
  });

  it('keeps published records and resumes each group from its committed offset after a restart', async () => {
    const dir = tempDir();
    const first = open(dir, { partitions: 1, fsync: 'always' });
    await first.publish([...Array(10).keys()].map((n) => ({ topic: 't', key: 'k', event: event(n) })));
    let handled = 0;
    await subscribe(first, 't', 'g', async (d) => {
      if (numberOf(d) >= 6) throw new Error('stop here');
      handled += 1;
    });
    await eventually(() => handled === 6, 'six handled');
    await first.close();

    const second = open(dir, { partitions: 1 });
    expect(await second.lag('t', 'g')).toBe(4);
    expect(await second.lag('t', 'new')).toBe(10);
    await second.publish([{ topic: 't', key: 'k', event: event(10) }]);
    const resumed: Delivery[] = [];
    await subscribe(second, 't', 'g', async (d) => {
      resumed.push(d);
    });
    await eventually(() => resumed.length >= 5, 'the rest');
    await pause(100);
    expect(resumed.map(numberOf)).toEqual([6, 7, 8, 9, 10]);
    expect(resumed[0]!.event).toEqual(event(6));
    expect((await readAll(second, 't', 'new')).map(numberOf)).toEqual([...Array(11).keys()]);
  });

  it('cuts off a torn last line, a crash mid-write, and carries on', async () => {
    const dir = tempDir();
    const first = open(dir, { partitions: 1 });
    await first.publish([0, 1, 2].map((n) => ({ topic: 't', key: 'k', event: event(n) })));
    await first.close();
    const [segment] = segmentFiles(dir, 't');
    const file = path.join(dir, 't', segment!);
    appendFileSync(file, '{"p":0,"o":3,"k":"k","e":{"specversion":"1.');

    const second = open(dir, { partitions: 1 });
    await second.publish([{ topic: 't', key: 'k', event: event(3) }]);
    expect((await readAll(second, 't', 'g')).map(numberOf)).toEqual([0, 1, 2, 3]);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('survives a crash between creating a segment and writing its header', async () => {
    const dir = tempDir();
    const first = open(dir, { partitions: 1 });
    await first.publish([0, 1].map((n) => ({ topic: 't', key: 'k', event: event(n) })));
    await first.close();
    writeFileSync(path.join(dir, 't', '000000000001.log'), '');

    const second = open(dir, { partitions: 1 });
    await second.publish([{ topic: 't', key: 'k', event: event(2) }]);
    expect((await readAll(second, 't', 'g')).map(numberOf)).toEqual([0, 1, 2]);
    await second.close();
    const third = open(dir, { partitions: 1 });
    expect(await third.lag('t', 'g')).toBe(0);
    expect(await third.lag('t', 'other')).toBe(3);
  });

  it('refuses a log damaged before its end rather than skip records', async () => {
    const dir = tempDir();
    const first = open(dir, { partitions: 1 });
    await first.publish([0, 1, 2].map((n) => ({ topic: 't', key: 'k', event: event(n) })));
    await first.close();
    const file = path.join(dir, 't', segmentFiles(dir, 't')[0]!);
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[2] = '{"p":0,"o":1,"k":"k","e":{"spec';
    writeFileSync(file, lines.join('\n'));

    const second = open(dir, { partitions: 1 });
    await expect(second.lag('t', 'g')).rejects.toThrow(/line 3/);
  });

  it('drops old segments past maxLogBytes only once every known group has committed them', async () => {
    const dir = tempDir();
    const transport = open(dir, { partitions: 1, maxLogBytes: 4000 });
    let slowUpTo = 0;
    const slow = await subscribe(transport, 't', 'slow', async (d) => {
      if (numberOf(d) >= slowUpTo) throw new Error('not that far yet');
    });
    await subscribe(transport, 't', 'fast', async () => {});
    // One publish per group commit, so the log rotates as it grows.
    for (let n = 0; n < 40; n++) await transport.publish([{ topic: 't', key: 'k', event: event(n) }]);
    const before = segmentFiles(dir, 't');
    expect(before.length).toBeGreaterThan(5);
    await eventually(async () => (await transport.lag('t', 'fast')) === 0, 'the fast group');
    await pause(300);
    expect(segmentFiles(dir, 't')).toEqual(before);

    slowUpTo = 20;
    await eventually(async () => (await transport.lag('t', 'slow')) === 20, 'the slow group halfway');
    await slow.close();
    await eventually(() => !segmentFiles(dir, 't').includes(before[0]!), 'the oldest segment dropped');
    const retained = (await readAll(transport, 't', 'fresh')).map(numberOf);
    expect(retained[0]).toBeGreaterThan(0);
    expect(retained[0]).toBeLessThanOrEqual(20);
    expect(retained).toEqual([...Array(40 - retained[0]!).keys()].map((i) => i + retained[0]!));
    await transport.close();

    const reopened = open(dir, { partitions: 1, maxLogBytes: 4000 });
    expect(await reopened.lag('t', 'slow')).toBe(20);
    expect((await readAll(reopened, 't', 'late')).map(numberOf)).toEqual(retained);
  });

  it('refuses to publish or subscribe after close', async () => {
    const transport = open(tempDir());
    await transport.close();
    await expect(transport.publish([{ topic: 't', key: 'k', event: event(0) }])).rejects.toThrow(/closed/);
    await expect(
      transport.subscribe({ topic: 't', group: 'g', consumer: 'c' }, async () => {}),
    ).rejects.toThrow(/closed/);
  });

  describe('killed with SIGKILL', () => {
    beforeAll(() => {
      // npm test builds first; run on its own, this test needs a build to exist.
      if (!existsSync(COMPILED)) throw new Error(`${COMPILED} is missing: run npm run build first`);
    });

    it('keeps every event whose publish was acknowledged', async () => {
      const dir = tempDir();
      const child = spawn(process.execPath, [PUBLISHER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let acknowledged = 0;
      createInterface({ input: child.stdout }).on('line', (line) => {
        acknowledged = Math.max(acknowledged, Number(line));
        if (acknowledged >= 5000 && child.exitCode === null) child.kill('SIGKILL');
      });
      const exit = await new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('close', (_code, signal) => resolve(signal)),
      );
      expect(exit).toBe('SIGKILL');
      expect(acknowledged).toBeGreaterThanOrEqual(5000);

      const transport = open(dir);
      const found = await readAll(transport, 'crash', 'verify');
      const numbers = new Set(found.map(numberOf));
      const missing = [...Array(acknowledged).keys()].filter((n) => !numbers.has(n));
      expect(missing).toEqual([]);
      // Records of one key stay in publish order through the crash too.
      const perKey = new Map<string, number[]>();
      for (const d of found) perKey.set(d.key, [...(perKey.get(d.key) ?? []), numberOf(d)]);
      for (const ns of perKey.values()) expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }, 60_000);
  });
});
