import { randomUUID } from 'node:crypto';
import type { RecordStore } from '../../bot/core/record-store';
import type { OpsEvent } from './envelope';

/** Why an event is in the dead letter queue. */
export type DeadLetterReason =
  /** It failed validation against its type's schema at publish time; nothing handled it. */
  | 'invalid'
  /** A subscriber's handler kept failing (or its consumer kept dying) for this group. */
  | 'handler_failed'
  /** A routing target (a topic, webhook or engine) kept refusing it. */
  | 'route_failed';

export interface DeadLetter {
  id: string;
  reason: DeadLetterReason;
  event: OpsEvent;
  /** The last error, one line. */
  error: string;
  attempts: number;
  /** The consumer group whose handler failed (handler_failed). */
  group?: string;
  /** The rule and target that refused it (route_failed): "big-orders → webhook https://…". */
  target?: string;
  ruleId?: string;
  deadAt: string;
}

export interface DeadLetterFilter {
  type?: string;
  reason?: DeadLetterReason;
  group?: string;
  limit?: number;
}

/**
 * The dead letter queue: events that could not be handled, kept with the error and attempt count until
 * someone replays or discards them. Stored in a RecordStore — a local file by default, a Redis hash when the
 * bus runs on Redis or Kafka with Redis configured — so it survives restarts and is shared where the bus is.
 */
export class DeadLetterQueue {
  constructor(
    private readonly store: RecordStore<DeadLetter>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async add(entry: Omit<DeadLetter, 'id' | 'deadAt'>): Promise<DeadLetter> {
    const letter: DeadLetter = { id: randomUUID(), deadAt: this.now().toISOString(), ...entry };
    await this.store.put(letter.id, letter);
    return letter;
  }

  /** Newest first. */
  async list(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    const all = (await this.store.list()).map((r) => r.value);
    const matching = all
      .filter((l) => filter.type === undefined || l.event.type === filter.type)
      .filter((l) => filter.reason === undefined || l.reason === filter.reason)
      .filter((l) => filter.group === undefined || l.group === filter.group)
      .sort((a, b) => b.deadAt.localeCompare(a.deadAt));
    return filter.limit === undefined ? matching : matching.slice(0, filter.limit);
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    return this.store.get(id);
  }

  async remove(id: string): Promise<void> {
    await this.store.delete(id);
  }

  size(): Promise<number> {
    return this.store.size();
  }
}
