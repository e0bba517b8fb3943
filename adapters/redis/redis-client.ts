import Redis from 'ioredis';

/** Fail a command fast instead of queueing it while Redis is away; callers turn that into a clear error. */
const REDIS_COMMAND_TIMEOUT_MS = 1000;
const REDIS_CONNECT_TIMEOUT_MS = 2000;

/** A Redis connection with opsbot's timeouts, shared by the Redis stores (sessions, dedup, records). */
export function createRedisClient(url: string): Redis {
  const redis = new Redis(url, {
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
  });
  // ioredis reconnects by itself; without a listener an outage would crash the process with 'error'.
  redis.on('error', () => {});
  return redis;
}

export async function closeRedisClient(redis: Redis): Promise<void> {
  // QUIT lets pending writes finish; a client that is not connected would only queue it, so drop it instead.
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
}
