import type { SessionState, SessionStore } from './session';

/**
 * The embedded default. Limits, by design: sessions live in this process only (a restart forgets every
 * conversation, and two opsbot processes do not share them), and at most `maxEntries` are kept — the least
 * recently used is evicted first. Use the Redis store when either matters.
 */
export class MemorySessionStore implements SessionStore {
  readonly kind = 'memory';
  // A Map iterates in insertion order, so re-inserting on every write keeps it ordered by recency.
  private readonly entries = new Map<string, { state: string; expiresAt: number }>();

  constructor(
    private readonly ttlSeconds: number,
    private readonly maxEntries = 10000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<SessionState | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // Stored serialised so a caller mutating the returned object cannot change the stored session.
    return JSON.parse(entry.state) as SessionState;
  }

  async set(key: string, state: SessionState): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { state: JSON.stringify(state), expiresAt: this.now() + this.ttlSeconds * 1000 });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
