import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Redis from 'ioredis';
import { closeRedisClient, createRedisClient } from '../../adapters/redis/redis-client';
import { RedisDedupStore } from '../../adapters/redis/redis-dedup-store';
import { RedisRecordStore } from '../../adapters/redis/redis-record-store';
import { failOpen, MemoryDedupStore, type DedupStore } from '../../bot/core/dedup-store';
import { createLogger } from '../../bot/core/logger';
import { FileRecordStore, type RecordStore } from '../../bot/core/record-store';
import { testRuntime } from '../support/runtime';

const REDIS_URL = 'redis://127.0.0.1:6379';

let redis: Redis;
beforeAll(() => (redis = createRedisClient(REDIS_URL)));
afterAll(() => closeRedisClient(redis));

/**
 * The contract every dedup store keeps; run against each implementation. `elapse` lets the store's time pass:
 * a clock the test turns for the memory store, real time for Redis.
 */
function dedupContract(name: string, make: () => DedupStore, elapse: (ms: number) => Promise<void>) {
  describe(`${name} dedup store contract`, () => {
    it('lets a key be claimed once, and other keys independently', async () => {
      const store = make();
      const key = randomUUID();
      expect(await store.claim(key, 60)).toBe(true);
      expect(await store.claim(key, 60)).toBe(false);
      expect(await store.claim(key, 60)).toBe(false);
      expect(await store.claim(randomUUID(), 60)).toBe(true);
    });

    it('lets exactly one of many concurrent claims of a key win', async () => {
      const store = make();
      const key = randomUUID();
      const results = await Promise.all(Array.from({ length: 20 }, () => store.claim(key, 60)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('says whether a key is claimed without claiming it', async () => {
      const store = make();
      const key = randomUUID();
      expect(await store.has(key)).toBe(false);
      expect(await store.has(key)).toBe(false);
      expect(await store.claim(key, 60)).toBe(true);
      expect(await store.has(key)).toBe(true);
      expect(await store.has(randomUUID())).toBe(false);
    });

    it('forgets a key after its time to live', async () => {
      const store = make();
      const key = randomUUID();
      expect(await store.claim(key, 1)).toBe(true);
      await elapse(900);
      expect(await store.claim(key, 1)).toBe(false);
      await elapse(200);
      expect(await store.claim(key, 1)).toBe(true);
    });
  });
}

let memoryClock = 0;
dedupContract(
  'memory',
  () => new MemoryDedupStore(100_000, () => memoryClock),
  async (ms) => void (memoryClock += ms),
);
dedupContract(
  'redis',
  () => new RedisDedupStore(redis, `opsbot-test:${randomUUID()}:`),
  (ms) => new Promise((r) => setTimeout(r, ms)),
);

describe('memory dedup store capacity', () => {
  it('keeps the newest keys once full, forgetting the oldest in batches', async () => {
    const store = new MemoryDedupStore(16);
    for (let i = 0; i < 100; i++) expect(await store.claim(`k${i}`, 60)).toBe(true);
    // The newest sixteen are remembered; the oldest long gone.
    for (let i = 84; i < 100; i++) expect(await store.has(`k${i}`)).toBe(true);
    expect(await store.has('k0')).toBe(false);
    expect(await store.claim('k0', 60)).toBe(true);
  });
});

describe('a dedup store that fails', () => {
  const broken: DedupStore = {
    claim: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
    has: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
    close: async () => {},
  };

  it('lets the delivery through and says so in the log, rather than leave the message unanswered', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line)) });
    const dedup = failOpen(broken, logger);
    expect(await dedup.claim('teams:a:1', 60)).toBe(true);
    expect(await dedup.claim('teams:a:1', 60)).toBe(true);
    expect(await dedup.has('teams:a:1')).toBe(false);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 40,
      event: 'dedup.unavailable',
      error: 'connect ECONNREFUSED 127.0.0.1:6379',
    });
  });
});

/** The contract every record store keeps; run against each implementation. */
function recordContract(name: string, make: () => RecordStore<{ n: number; tags: string[] }>) {
  describe(`${name} record store contract`, () => {
    it('puts, gets, lists and deletes records', async () => {
      const store = make();
      expect(await store.size()).toBe(0);
      expect(await store.get('a')).toBeUndefined();
      await store.put('a', { n: 1, tags: ['x'] });
      await store.put('b', { n: 2, tags: [] });
      await store.put('a', { n: 3, tags: ['y'] });
      expect(await store.get('a')).toEqual({ n: 3, tags: ['y'] });
      expect((await store.list()).sort((p, q) => p.key.localeCompare(q.key))).toEqual([
        { key: 'a', value: { n: 3, tags: ['y'] } },
        { key: 'b', value: { n: 2, tags: [] } },
      ]);
      expect(await store.size()).toBe(2);
      await store.delete('a');
      expect(await store.get('a')).toBeUndefined();
      expect(await store.list()).toEqual([{ key: 'b', value: { n: 2, tags: [] } }]);
      expect(await store.size()).toBe(1);
    });

    it('keeps keys with any characters apart', async () => {
      const store = make();
      await store.put('19:abc@thread.tacv2;messageid=1', { n: 1, tags: [] });
      await store.put('19:abc@thread.tacv2', { n: 2, tags: [] });
      expect((await store.get('19:abc@thread.tacv2;messageid=1'))?.n).toBe(1);
    });
  });
}

recordContract('file', () => new FileRecordStore(mkdtempSync(path.join(tmpdir(), 'opsbot-records-')), 'r'));
recordContract('redis', () => new RedisRecordStore(redis, 'r', `opsbot-test:${randomUUID()}:`));

describe('file record store', () => {
  it('survives a restart: a new store on the same folder reads what the last one wrote', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-records-'));
    await new FileRecordStore(dir, 'refs').put('k', { ok: true });
    expect(await new FileRecordStore(dir, 'refs').get('k')).toEqual({ ok: true });
    expect(JSON.parse(readFileSync(path.join(dir, 'refs.json'), 'utf8'))).toEqual({ k: { ok: true } });
  });

  it('refuses to start on a file that is not a JSON object, rather than overwrite it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-records-'));
    writeFileSync(path.join(dir, 'refs.json'), '[1,2]');
    expect(() => new FileRecordStore(dir, 'refs')).toThrow(/not a JSON object of records/);
  });
});

describe('runtime record stores', () => {
  it('hands out one store per name, so two users of a name never overwrite each other', async () => {
    const runtime = testRuntime();
    const first = runtime.records<{ n: number }>('shared');
    await first.put('a', { n: 1 });
    await runtime.records<{ n: number }>('shared').put('b', { n: 2 });
    expect(runtime.records('shared')).toBe(first);
    expect((await first.list()).map((r) => r.key).sort()).toEqual(['a', 'b']);
    expect(runtime.records('other')).not.toBe(first);
    await runtime.close();
  });
});
