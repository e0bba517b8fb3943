/**
 * Counts how often a consumer group started handling an event that was delivered again: the guard against an
 * event its consumers crash on (a crash acknowledges nothing, so the event would come back forever). Only
 * redeliveries touch it, so the normal path costs nothing. A transport's own delivery counter is not enough:
 * Redis counts every entry of a batch read by a consumer that died, including those it never started.
 */
export interface AttemptCounter {
  /** Adds one to `key`'s count and returns the new count; the count expires `ttlSeconds` after its last change. */
  increment(key: string, ttlSeconds: number): Promise<number>;
  forget(key: string): Promise<void>;
}

/** For one process (the memory transport): counts are lost with the process, like the transport's own. */
export class MemoryAttemptCounter implements AttemptCounter {
  private readonly counts = new Map<string, number>();

  async increment(key: string): Promise<number> {
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    return count;
  }

  async forget(key: string): Promise<void> {
    this.counts.delete(key);
  }
}
