import type Redis from 'ioredis';
import type { DedupStore } from '../../bot/core/dedup-store';

/** Dedup shared by every opsbot process: one key per delivery, claimed with SET NX and expiring on its own. */
export class RedisDedupStore implements DedupStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix = 'opsbot:dedup:',
  ) {}

  async claim(key: string, ttlSeconds: number): Promise<boolean> {
    return (await this.redis.set(this.keyPrefix + key, '1', 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  async has(key: string): Promise<boolean> {
    return (await this.redis.exists(this.keyPrefix + key)) === 1;
  }

  async close(): Promise<void> {}
}
