import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { closeRedisClient, createRedisClient } from '../../adapters/redis/redis-client';
import { RedisSessionStore } from '../../adapters/redis/redis-session-store';
import { MemorySessionStore } from '../../bot/dialogue/memory-session-store';
import type { SessionStore } from '../../bot/dialogue/session';
import type { Principal } from '../../bot/core/message';
import { testConfig, testRuntime } from '../support/runtime';

const REDIS_URL = 'redis://127.0.0.1:6379';

let redis: Redis;
beforeAll(() => (redis = createRedisClient(REDIS_URL)));
afterAll(() => closeRedisClient(redis));

/** The contract every session store keeps; run against each implementation. */
function sessionStoreContract(name: string, make: () => SessionStore) {
  describe(`${name} session store contract`, () => {
    let store: SessionStore;
    beforeEach(() => (store = make()));
    afterEach(() => store.close());

    it('returns what was stored and undefined for unknown keys', async () => {
      const key = randomUUID();
      expect(await store.get(key)).toBeUndefined();
      await store.set(key, { turns: 2, lastService: 'payments' });
      expect(await store.get(key)).toEqual({ turns: 2, lastService: 'payments' });
    });

    it('hands out copies, so a caller cannot change the stored state by mutating it', async () => {
      const key = randomUUID();
      await store.set(key, { turns: 1 });
      const state = await store.get(key);
      state!.turns = 99;
      expect((await store.get(key))?.turns).toBe(1);
    });

    it('deletes', async () => {
      const key = randomUUID();
      await store.set(key, { turns: 1 });
      await store.delete(key);
      expect(await store.get(key)).toBeUndefined();
    });

    it('answers a ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}

sessionStoreContract('memory', () => new MemorySessionStore(60));
sessionStoreContract('redis', () => new RedisSessionStore(redis, 60, `opsbot-test:${randomUUID()}:`));

describe('memory session store limits', () => {
  it('expires sessions after the TTL', async () => {
    let now = 0;
    const store = new MemorySessionStore(60, 100, () => now);
    await store.set('a', { turns: 1 });
    now = 59_999;
    expect(await store.get('a')).toBeDefined();
    now = 60_000;
    expect(await store.get('a')).toBeUndefined();
  });

  it('evicts the least recently written session beyond its capacity', async () => {
    const store = new MemorySessionStore(60, 100);
    for (let i = 0; i < 101; i++) await store.set(`k${i}`, { turns: i });
    expect(store.size).toBe(100);
    expect(await store.get('k0')).toBeUndefined();
    expect(await store.get('k100')).toEqual({ turns: 100 });
  });
});

describe('Redis session store against Redis at 127.0.0.1:6379', () => {
  it('stores each session under its prefix with the configured TTL', async () => {
    const prefix = `opsbot-test:${randomUUID()}:`;
    const store = new RedisSessionStore(redis, 120, prefix);
    await store.set('web:c1', { turns: 3 });
    expect(JSON.parse((await redis.get(`${prefix}web:c1`))!)).toEqual({ turns: 3 });
    const ttl = await redis.ttl(`${prefix}web:c1`);
    expect(ttl).toBeGreaterThan(110);
    expect(ttl).toBeLessThanOrEqual(120);
  });

  it('carries a conversation across two opsbot processes sharing Redis', async () => {
    const prefix = `opsbot-test:${randomUUID()}:`;
    const config = testConfig(
      (raw) => {
        raw.sessions.keyPrefix = prefix;
        raw.policy.users['terminal:*'] = ['operator'];
      },
      { REDIS_URL },
    );
    expect(config.sessions.store).toBe('redis');
    const user: Principal = { id: 'terminal:ops', name: 'ops', authenticated: true };
    const turn = (text: string) => ({ channel: 'terminal' as const, user, conversationId: 'shared', text });
    const first = testRuntime(config);
    const second = testRuntime(config);
    expect((await first.assistant.handle(turn('scale payments'))).reply.text).toBe('To how many replicas?');
    expect((await second.assistant.handle(turn('5'))).reply.text).toMatch(
      /^Please confirm: scale payments in production to 5/,
    );
    await first.close();
    await second.close();
  });

  it('fails a turn with a clear error when Redis cannot be reached', async () => {
    const unreachable = createRedisClient('redis://127.0.0.1:1');
    const store = new RedisSessionStore(unreachable, 60);
    await expect(store.get('x')).rejects.toMatchObject({ code: 'session_store_unavailable' });
    await closeRedisClient(unreachable);
  });
});
