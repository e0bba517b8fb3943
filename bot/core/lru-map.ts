/**
 * A bounded map that forgets its least recently used entry when full. In-process only: each process keeps
 * its own, and nothing survives a restart, so it holds only what can be recomputed.
 */
export class LruMap<K, V> {
  // Map order is insertion order: re-inserting an entry marks it as the most recently used.
  private readonly entries = new Map<K, V>();
  /**
   * One iterator for every eviction. A Map iterator is live: entries a read moves to the end come up again
   * later, and everything before its position has been evicted, so its next key is always the oldest. A new
   * keys() per eviction walked over every deleted slot at the front of the table each time, and a full map
   * got slower with every insert.
   */
  private oldest: Iterator<K> | undefined;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      this.oldest ??= this.entries.keys();
      this.entries.delete(this.oldest.next().value as K);
    }
  }

  clear(): void {
    this.entries.clear();
    this.oldest = undefined;
  }
}
