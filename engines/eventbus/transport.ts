import type { OpsEvent } from './envelope';

/**
 * The port between the event bus and what carries its events (memory with a local log, Redis Streams,
 * Kafka). A transport moves records; the bus owns validation, routing, retries, dead letters and dedup.
 *
 * Contract every transport keeps (tests/eventbus/transport-contract.test.ts runs it against each):
 * - `publish` resolves only once every record is durable in the transport (written to the local log, XADDed,
 *   acknowledged by the Kafka leader); it rejects when any is not, and then the caller may publish again.
 * - A topic has `partitions` partitions; a record goes to partition hash(key) mod partitions, so one key
 *   stays in one partition (Kafka: its own partitioner, same guarantee).
 * - Each consumer group sees every record of the topic once it is handled (at-least-once); within a group a
 *   partition is read by one consumer at a time, in order: the handler of one record finishes before the next
 *   record of that partition is handed to any consumer of the group. Partitions run concurrently.
 * - A record is acknowledged (committed) only after its handler resolved. A record whose handler rejected, or
 *   whose consumer died before acknowledging it, is delivered again (to this or another consumer of the
 *   group) with a higher `deliveryCount`, before any later record of its partition.
 * - `close()` on a subscription stops taking new records, waits for handlers in flight, acknowledges what
 *   was handled and leaves the partitions to the group's other consumers.
 */
export interface EventTransport {
  readonly kind: TransportKind;
  publish(records: readonly TransportRecord[]): Promise<void>;
  subscribe(spec: SubscriptionSpec, handler: DeliveryHandler): Promise<Subscription>;
  /** Records a group has not acknowledged yet, per topic: the consumer lag the scaler reads. */
  lag(topic: string, group: string): Promise<number>;
  close(): Promise<void>;
}

export type TransportKind = 'memory' | 'redis' | 'kafka';

export interface TransportRecord {
  topic: string;
  /** The partition key: the event's correlation id, or the configured key. */
  key: string;
  event: OpsEvent;
}

export interface Delivery {
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  readonly event: OpsEvent;
  /** 1 the first time; higher after a failed handler or a consumer that died before acknowledging. */
  readonly deliveryCount: number;
}

/** Resolving acknowledges the delivery; rejecting leaves it to be delivered again. */
export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

export interface SubscriptionSpec {
  topic: string;
  group: string;
  /** This consumer's name within the group, unique per process: "opsbot-<host>-<pid>-<n>". */
  consumer: string;
  /** Records read per round trip. */
  batchSize?: number;
}

export interface Subscription {
  close(): Promise<void>;
}

/** Stable partition of a key: FNV-1a 32-bit, so every process and every language agrees. */
export function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}
