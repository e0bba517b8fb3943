import type Redis from 'ioredis';
import type { AttemptCounter } from '../../engines/eventbus/attempt-counter';

/** Attempt counts shared by every consumer process of a group: INCR and EXPIRE in one round trip. */
export class RedisAttemptCounter implements AttemptCounter {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix = 'opsbot:bus:attempts:',
  ) {}

  async increment(key: string, ttlSeconds: number): Promise<number> {
    const results = await this.redis
      .multi()
      .incr(this.keyPrefix + key)
      .expire(this.keyPrefix + key, ttlSeconds)
      .exec();
    const [error, count] = results?.[0] ?? [new Error('no reply from Redis'), 0];
    if (error) throw error;
    return Number(count);
  }

  async forget(key: string): Promise<void> {
    await this.redis.del(this.keyPrefix + key);
  }
}
