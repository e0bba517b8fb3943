import type { Logger } from './logger';

/**
 * Remembers which deliveries were already handled, so that a platform's retry (Slack resends an event it
 * thinks was lost, Bot Framework redelivers an activity) is handled once.
 */
export interface DedupStore {
  /** True the first time `key` is claimed within `ttlSeconds`; false for every repeat until it expires. */
  claim(key: string, ttlSeconds: number): Promise<boolean>;
  /**
   * True while `key` is claimed, without claiming it: for work that must be marked done only once it is done
   * (an event handler that crashed half-way must run again), checked before and claimed after.
   */
  has(key: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The embedded default. Limits, by design: it remembers within this process only (a retry that reaches
 * another opsbot process, or arrives after a restart, is handled again) and about `maxEntries` keys (up to a
 * sixteenth more between evictions), oldest first out. Platforms retry within minutes, so that bound is generous; use Redis for several processes.
 */
export class MemoryDedupStore implements DedupStore {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(key: string, ttlSeconds: number): Promise<boolean> {
    const now = this.now();
    const expiresAt = this.expiries.get(key);
    if (expiresAt !== undefined && expiresAt > now) return false;
    this.expiries.delete(key);
    this.expiries.set(key, now + ttlSeconds * 1000);
    // Evicted in batches, with one walk from the oldest: deleting one key per claim makes each later walk step
    // over every deleted slot still at the front of the Map, so a full store got slower with every claim.
    if (this.expiries.size > this.maxEntries + Math.ceil(this.maxEntries / 16)) {
      let excess = this.expiries.size - this.maxEntries;
      for (const oldest of this.expiries.keys()) {
        if (excess-- <= 0) break;
        this.expiries.delete(oldest);
      }
    }
    return true;
  }

  async has(key: string): Promise<boolean> {
    const expiresAt = this.expiries.get(key);
    return expiresAt !== undefined && expiresAt > this.now();
  }

  async close(): Promise<void> {
    this.expiries.clear();
  }
}

/**
 * The policy for when the store itself fails (Redis unreachable): the delivery is handled anyway. A retry
 * answered twice during an outage is a small cost; a message that silently gets no answer is not.
 */
export function failOpen(store: DedupStore, logger: Logger): DedupStore {
  return {
    async claim(key, ttlSeconds) {
      try {
        return await store.claim(key, ttlSeconds);
      } catch (err) {
        logger.warn(
          { event: 'dedup.unavailable', error: (err as Error).message },
          'dedup store failed; handling the delivery without it',
        );
        return true;
      }
    },
    async has(key) {
      // Unknown counts as not yet handled: handling twice beats not handling.
      return store.has(key).catch(() => false);
    },
    close: () => store.close(),
  };
}
