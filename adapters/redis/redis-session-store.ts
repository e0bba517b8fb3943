import type Redis from 'ioredis';
import type { SessionState, SessionStore } from '../../bot/dialogue/session';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';

/**
 * Sessions in Redis, one JSON string per conversation with a TTL, shared by every opsbot process. The
 * connection is the caller's, shared with the other Redis stores; the caller closes it.
 */
export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis';

  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly keyPrefix = 'opsbot:session:',
  ) {}

  async get(key: string): Promise<SessionState | undefined> {
    const raw = await this.call(() => this.redis.get(this.keyPrefix + key));
    return raw === null ? undefined : (JSON.parse(raw) as SessionState);
  }

  async set(key: string, state: SessionState): Promise<void> {
    await this.call(() => this.redis.set(this.keyPrefix + key, JSON.stringify(state), 'EX', this.ttlSeconds));
  }

  async delete(key: string): Promise<void> {
    await this.call(() => this.redis.del(this.keyPrefix + key));
  }

  async ping(): Promise<void> {
    await this.call(() => this.redis.ping());
  }

  async close(): Promise<void> {}

  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      throw new OpsbotError(
        ErrorCode.SessionStoreUnavailable,
        `the Redis session store is unavailable: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}
