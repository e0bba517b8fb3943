import type { Clock, TimerHandle } from '../../engines/maintenance/clock';

interface Pending {
  id: number;
  due: number;
  callback: () => void;
}

/** Lets the promises a callback started settle: a few turns of the event loop. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A clock that moves only when told: `advance` fires each timer due on the way, in order, at its own time,
 * and lets what it started settle before the next one.
 */
export class ManualClock implements Clock {
  private time: number;
  private nextId = 1;
  private pending: Pending[] = [];

  constructor(start = Date.parse('2026-11-20T10:00:00Z')) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.pending.push({ id, due: this.time + Math.max(0, ms), callback });
    return id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending = this.pending.filter((timer) => timer.id !== (handle as unknown as number));
  }

  /** Timers waiting to fire. */
  get timers(): number {
    return this.pending.length;
  }

  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      const next = this.pending
        .filter((timer) => timer.due <= end)
        .sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) break;
      this.pending = this.pending.filter((timer) => timer !== next);
      this.time = next.due;
      next.callback();
      await settle();
    }
    this.time = end;
    await settle();
  }
}
