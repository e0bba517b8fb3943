import { spawn } from 'node:child_process';
import path from 'node:path';
import Redis from 'ioredis';
import { MemoryDedupStore } from '../../bot/core/dedup-store';
import { createLogger } from '../../bot/core/logger';
import { RedisRecordStore } from '../../adapters/redis/redis-record-store';
import { DeadLetterQueue, type DeadLetter } from '../../engines/eventbus/dead-letters';
import { EventBus } from '../../engines/eventbus/event-bus';
import { MemoryEventStore } from '../../engines/eventbus/memory-event-store';
import { RedisTransport } from '../../engines/eventbus/transports/redis-transport';

/**
 * Reliability of the bus on Redis with real processes: an event every consumer crashes on (SIGKILL, never
 * acknowledged) ends in the dead letter queue after the retry policy's attempts instead of looping forever,
 * and the events behind it on the same key are handled. Needs the build (npm test builds first).
 */
const REDIS_URL = 'redis://127.0.0.1:6379';
const FIXTURE = path.join(__dirname, 'fixtures', 'bus-crashing-consumer.js');

describe('event bus on Redis: a poison event that crashes its consumers', () => {
  const keyPrefix = `opsbot:test:reliability:${process.pid}:${Date.now().toString(36)}:`;
  const topic = 'orders';
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  /** Runs one consumer process until it dies or has handled `until` events; returns what it printed. */
  function runConsumer(until: number): Promise<{ handled: number[]; killed: boolean }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [FIXTURE, REDIS_URL, keyPrefix, topic], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const handled: number[] = [];
      let buffer = '';
      const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        for (const line of buffer.split('\n').slice(0, -1)) {
          const match = /^handled (\d+)$/.exec(line);
          if (match) handled.push(Number(match[1]));
        }
        buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
        if (handled.length >= until) child.kill('SIGTERM');
      });
      child.on('exit', (_code, signal) => {
        clearTimeout(guard);
        resolve({ handled, killed: signal === 'SIGKILL' });
      });
    });
  }

  it('dead-letters it after the policy allows, and handles the events behind it', async () => {
    const publisher = new EventBus({
      transport: new RedisTransport({ url: REDIS_URL, keyPrefix, partitions: 2 }),
      validator: { validate: () => ({ valid: true }) },
      deadLetters: new DeadLetterQueue(new RedisRecordStore<DeadLetter>(redis, 'dead-letters', keyPrefix)),
      store: new MemoryEventStore(),
      dedup: new MemoryDedupStore(),
      logger: createLogger('silent'),
      options: { topic },
    });
    await publisher.publish([
      { type: 'order.created', source: '/tests', correlationid: 'order-1', data: { n: 0, poison: true } },
      ...[1, 2, 3].map((n) => ({
        type: 'order.created',
        source: '/tests',
        correlationid: 'order-1',
        data: { n },
      })),
    ]);
    await publisher.close();

    const crashes: boolean[] = [];
    let handled: number[] = [];
    for (let round = 0; round < 8 && handled.length < 3; round++) {
      const run = await runConsumer(3);
      crashes.push(run.killed);
      handled = run.handled;
    }
    // Started three times (three crashes), then the fourth delivery goes to the dead letter queue.
    expect(crashes.slice(0, 3)).toEqual([true, true, true]);
    expect(handled).toEqual([1, 2, 3]);
    const letters = await new DeadLetterQueue(
      new RedisRecordStore<DeadLetter>(redis, 'dead-letters', keyPrefix),
    ).list();
    expect(letters).toEqual([
      expect.objectContaining({
        reason: 'handler_failed',
        group: 'workers',
        attempts: 3,
        error: 'its consumers stopped without finishing it 3 times (they may crash on it)',
        event: expect.objectContaining({ data: { n: 0, poison: true } }),
      }),
    ]);
  }, 120_000);
});
