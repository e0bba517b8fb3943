import type Redis from 'ioredis';
import type { RecordStore } from '../../bot/core/record-store';

/** Records in one Redis hash per store name, shared by every opsbot process. */
export class RedisRecordStore<T> implements RecordStore<T> {
  private readonly hash: string;

  constructor(
    private readonly redis: Redis,
    name: string,
    keyPrefix = 'opsbot:records:',
  ) {
    this.hash = keyPrefix + name;
  }

  async get(key: string): Promise<T | undefined> {
    const raw = await this.redis.hget(this.hash, key);
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  async put(key: string, value: T): Promise<void> {
    await this.redis.hset(this.hash, key, JSON.stringify(value));
  }

  async delete(key: string): Promise<void> {
    await this.redis.hdel(this.hash, key);
  }

  async list(): Promise<{ key: string; value: T }[]> {
    const all = await this.redis.hgetall(this.hash);
    return Object.entries(all).map(([key, raw]) => ({ key, value: JSON.parse(raw) as T }));
  }

  size(): Promise<number> {
    return this.redis.hlen(this.hash);
  }
}
