import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { rename, writeFile } from 'node:fs/promises';
import type { OpsEvent } from './envelope';
import { eventMatcher, queryLimit, type EventQuery, type EventStore } from './event-store';

export const DEFAULT_EVENT_STORE_CAPACITY = 100_000;

/**
 * The embedded event store: the latest `capacity` events in memory, newest last, with an append-only JSON
 * lines file beside them so a restart keeps them. The file is rewritten to the latest `capacity` events when
 * it holds twice that, so it stays bounded. Limits, by design: one process, queries scan (fine for a
 * hundred thousand events, not for an archive); a line torn by a crash is skipped on load.
 */
export class MemoryEventStore implements EventStore {
  private readonly events: OpsEvent[] = [];
  private readonly byId = new Map<string, OpsEvent>();
  private linesInFile = 0;
  private compacting: Promise<void> | undefined;
  private readonly appendedWhileCompacting: string[] = [];
  private readonly file: string | undefined;
  private readonly capacity: number;

  constructor(options: { dir?: string; capacity?: number } = {}) {
    this.capacity = options.capacity ?? DEFAULT_EVENT_STORE_CAPACITY;
    if (options.dir) {
      mkdirSync(options.dir, { recursive: true });
      this.file = path.join(options.dir, 'events.jsonl');
      this.load(this.file);
    }
  }

  private load(file: string): void {
    if (!existsSync(file)) return;
    const lines = readFileSync(file, 'utf8').split('\n');
    for (const line of lines) {
      if (!line) continue;
      try {
        this.remember(JSON.parse(line) as OpsEvent);
      } catch {
        // A torn last line from a crash: the event was never acknowledged as stored.
      }
      this.linesInFile += 1;
    }
  }

  async append(events: readonly OpsEvent[]): Promise<void> {
    const fresh = events.filter((e) => this.remember(e));
    if (fresh.length === 0 || !this.file) return;
    const lines = fresh.map((e) => `${JSON.stringify(e)}\n`).join('');
    if (this.compacting) this.appendedWhileCompacting.push(lines);
    else appendFileSync(this.file, lines);
    this.linesInFile += fresh.length;
    if (this.linesInFile >= 2 * this.capacity && !this.compacting) {
      // A failed rewrite leaves the file whole, only longer; the next append tries again.
      this.compacting = this.compact(this.file).catch(() => undefined);
    }
  }

  /**
   * Rewrites the file to the events in memory, off the publish path: a synchronous rewrite of a hundred
   * thousand lines stalled publishing for half a second. Lines appended meanwhile follow the snapshot.
   */
  private async compact(file: string): Promise<void> {
    const snapshot = this.events.map((e) => `${JSON.stringify(e)}\n`).join('');
    const lines = this.events.length;
    const temporary = `${file}.compacting`;
    try {
      await writeFile(temporary, snapshot);
      await rename(temporary, file);
      this.linesInFile = lines;
    } finally {
      const pending = this.appendedWhileCompacting.splice(0).join('');
      if (pending) {
        appendFileSync(file, pending);
        this.linesInFile += pending.split('\n').length - 1;
      }
      this.compacting = undefined;
    }
  }

  async query(query: EventQuery): Promise<OpsEvent[]> {
    const matches = eventMatcher(query);
    const limit = queryLimit(query);
    const found: OpsEvent[] = [];
    for (let i = this.events.length - 1; i >= 0 && found.length < limit; i--) {
      const e = this.events[i] as OpsEvent;
      if (matches(e)) found.push(e);
    }
    return found;
  }

  async get(id: string): Promise<OpsEvent | undefined> {
    return this.byId.get(id);
  }

  async close(): Promise<void> {
    await this.compacting;
  }

  /** False for an event it already holds: a republished event keeps its id, and the store keeps it once. */
  private remember(event: OpsEvent): boolean {
    if (this.byId.has(event.id)) return false;
    this.events.push(event);
    this.byId.set(event.id, event);
    if (this.events.length > this.capacity * 1.1) {
      const dropped = this.events.splice(0, this.events.length - this.capacity);
      for (const e of dropped) this.byId.delete(e.id);
    }
    return true;
  }
}
