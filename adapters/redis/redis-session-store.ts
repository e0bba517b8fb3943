import Redis from 'ioredis';
import type { SessionState, SessionStore } from '../../bot/dialogue/session';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';

/** Fails a turn fast instead of queueing it while Redis is away; the caller answers with a clear error. */
const REDIS_COMMAND_TIMEOUT_MS = 1000;
const REDIS_CONNECT_TIMEOUT_MS = 2000;

/** Sessions in Redis, one JSON string per conversation with a TTL, shared by every opsbot process. */
export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis';
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly ttlSeconds: number,
    private readonly keyPrefix = 'opsbot:session:',
  ) {
    this.redis = new Redis(url, {
      lazyConnect: false,
      connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
    });
    // ioredis reconnects by itself; without a listener an outage would crash the process with 'error'.
    this.redis.on('error', () => {});
  }

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

  async close(): Promise<void> {
    // QUIT lets pending writes finish; a client that is not connected would only queue it, so drop it instead.
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }

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
