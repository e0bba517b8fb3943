import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type KafkaConfig,
  type Producer,
} from 'kafkajs';
import type { Logger } from '../../../bot/core/logger';
import type {
  DeliveryHandler,
  EventTransport,
  Subscription,
  SubscriptionSpec,
  TransportRecord,
} from '../transport';

export interface KafkaTransportOptions {
  brokers: string[];
  clientId?: string;
  /** Put in front of every topic name, so opsbot's topics can share a cluster with other systems'. */
  topicPrefix?: string;
  connectionTimeoutMs?: number;
  /**
   * How long the group waits for a silent consumer before giving its partitions to others (Kafka's
   * session.timeout.ms; kafkajs' default 30 s). The broker bounds it (group.min/max.session.timeout.ms).
   */
  sessionTimeoutMs?: number;
  /**
   * How long the coordinator waits for the members to rejoin in a rebalance (Kafka's rebalance.timeout.ms;
   * kafkajs' default 60 s). kafkajs also gives up on an unanswered JoinGroup 5 s after it, so it bounds how long
   * a consumer can hang on a coordinator that does not answer one.
   */
  rebalanceTimeoutMs?: number;
  /** Where kafkajs' own errors go (lost connections, crashed consumers); without one they are dropped. */
  logger?: Logger;
}

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]*$/;
const MAX_TOPIC_CHARS = 249;
const DIGEST_CHARS = 12;

/**
 * The Kafka topic for a bus topic. A legal name is kept as it is; any other is made legal, and the digest of
 * the original is appended so that two names which differ only in replaced characters stay two topics.
 */
export function kafkaTopicName(prefix: string, topic: string): string {
  const name = prefix + topic;
  if (LEGAL_TOPIC.test(topic) && topic.length > 0 && name.length <= MAX_TOPIC_CHARS) return name;
  const digest = createHash('sha256').update(topic).digest('hex').slice(0, DIGEST_CHARS);
  const legal = name.replace(/[^a-zA-Z0-9._-]/g, '_').slice(0, MAX_TOPIC_CHARS - DIGEST_CHARS - 1);
  return `${legal}.${digest}`;
}

/** Batches of different partitions handled at once per consumer; more than a topic's partitions is harmless. */
const PARTITIONS_IN_PARALLEL = 16;
/** How often a long batch commits what it has handled so far, so lag and a successor's start stay current. */
const COMMIT_EVERY_MS = 1000;
/**
 * The longest a fetch waits for records on an idle partition. Closing a consumer waits for its fetches in
 * flight, so this bounds how long `close()` takes; Kafka answers at once when records arrive (librdkafka's
 * mock cluster does not, so there it also bounds how late a new record is delivered).
 */
const FETCH_WAIT_MS = 1000;
/** A failed record is fetched again after this pause, so a handler failing at once does not spin. */
const REDELIVERY_DELAY_MS = 100;

/** Records of publish calls waiting for the send in flight, and those calls' promises. */
interface PendingBatch {
  byTopic: Map<string, { key: string; value: string }[]>;
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
}

/**
 * Kafka through kafkajs: the bus topic is a Kafka topic, the group a consumer group, acknowledging a record is
 * committing the offset after it. Kafka's own partitioner places keys (murmur2, as the Java client), so a key
 * stays in one partition, but not the partition `partitionOf` names; `Delivery.partition` is Kafka's.
 *
 * `SubscriptionSpec.batchSize` does not apply: Kafka sizes fetches in bytes (kafkajs' maxBytesPerPartition).
 */
export class KafkaTransport implements EventTransport {
  readonly kind = 'kafka' as const;
  private readonly config: KafkaConfig;
  private readonly kafka: Kafka;
  private readonly topicPrefix: string;
  private readonly sessionTimeoutMs?: number;
  private readonly rebalanceTimeoutMs?: number;
  private producer?: Promise<Producer>;
  private nextBatch?: PendingBatch;
  private sending?: Promise<void>;
  private admin?: Promise<Admin>;
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;

  constructor(options: KafkaTransportOptions) {
    this.topicPrefix = options.topicPrefix ?? 'opsbot.';
    if (!LEGAL_TOPIC.test(this.topicPrefix))
      throw new Error(`kafka topicPrefix "${this.topicPrefix}": only a-z A-Z 0-9 . _ - are allowed`);
    this.sessionTimeoutMs = options.sessionTimeoutMs;
    this.rebalanceTimeoutMs = options.rebalanceTimeoutMs;
    this.config = {
      brokers: options.brokers,
      clientId: options.clientId ?? 'opsbot',
      ...(options.connectionTimeoutMs !== undefined
        ? { connectionTimeout: options.connectionTimeoutMs }
        : {}),
      ...kafkaLogging(options.logger),
    };
    this.kafka = new Kafka(this.config);
  }

  /**
   * Calls made while a send is in flight go out together in the next one. One request at a time keeps the
   * order of a key's records; without gathering, every call waited for a request of its own, and under a
   * steady stream of small publishes the calls queued up behind each other.
   */
  async publish(records: readonly TransportRecord[]): Promise<void> {
    this.assertOpen();
    if (records.length === 0) return;
    const batch = (this.nextBatch ??= { byTopic: new Map(), waiters: [] } as PendingBatch);
    for (const record of records) {
      const topic = this.topicName(record.topic);
      const messages = batch.byTopic.get(topic) ?? [];
      messages.push({ key: record.key, value: JSON.stringify(record.event) });
      batch.byTopic.set(topic, messages);
    }
    const sent = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    this.sending ??= this.sendBatches().finally(() => {
      this.sending = undefined;
    });
    return sent;
  }

  private async sendBatches(): Promise<void> {
    for (let batch = this.nextBatch; batch; batch = this.nextBatch) {
      this.nextBatch = undefined;
      try {
        const producer = await this.connectedProducer();
        await producer.sendBatch({
          acks: -1,
          topicMessages: [...batch.byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
        for (const waiter of batch.waiters) waiter.resolve();
      } catch (err) {
        for (const waiter of batch.waiters) waiter.reject(err);
      }
    }
  }

  async subscribe(spec: SubscriptionSpec, handler: DeliveryHandler): Promise<Subscription> {
    this.assertOpen();
    const topic = this.topicName(spec.topic);
    // A client per consumer, named as the spec names it, so the group's description shows who holds what.
    const consumer = new Kafka({ ...this.config, clientId: spec.consumer }).consumer({
      groupId: spec.group,
      maxWaitTimeInMs: FETCH_WAIT_MS,
      ...(this.sessionTimeoutMs !== undefined ? { sessionTimeout: this.sessionTimeoutMs } : {}),
      ...(this.rebalanceTimeoutMs !== undefined ? { rebalanceTimeout: this.rebalanceTimeoutMs } : {}),
    });
    const failures = new Map<number, Failure>();
    await consumer.connect();
    try {
      // Only a group without committed offsets starts at the beginning; a known group continues where it was.
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: PARTITIONS_IN_PARALLEL,
        eachBatch: (payload) => handleBatch(payload, spec.topic, handler, failures, consumer),
      });
      // Joining the group took a while; a transport closed meanwhile must not leave this consumer running.
      this.assertOpen();
    } catch (err) {
      await consumer.disconnect();
      throw err;
    }
    const subscription: Subscription = {
      close: async () => {
        this.subscriptions.delete(subscription);
        // kafkajs waits for the batch in flight, which commits what it handled, then leaves the group.
        await consumer.disconnect();
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async lag(topic: string, group: string): Promise<number> {
    this.assertOpen();
    const admin = await this.connectedAdmin();
    const name = this.topicName(topic);
    const [ends, groupOffsets] = await Promise.all([
      admin.fetchTopicOffsets(name),
      admin.fetchOffsets({ groupId: group, topics: [name] }),
    ]);
    const committed = new Map(
      (groupOffsets[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)] as const),
    );
    // No commit yet is -1, and a commit below the log start counts from the log start: both are where the
    // group would start reading.
    return ends.reduce(
      (sum, end) => sum + Number(end.high) - Math.max(committed.get(end.partition) ?? -1, Number(end.low)),
      0,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await Promise.all(
      [this.producer, this.admin].map(async (client) => {
        const connected = await client?.catch(() => undefined);
        await connected?.disconnect();
      }),
    );
  }

  private topicName(topic: string): string {
    return kafkaTopicName(this.topicPrefix, topic);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('kafka transport is closed');
  }

  private connectedProducer(): Promise<Producer> {
    // Not kafkajs' idempotent producer: it is experimental there, and it asks the controller for a producer
    // id, which fails against librdkafka's mock cluster (CI's broker) with "Broker 0 not found". Acks from every in-sync replica
    // and one request in flight keep records durable and in order; a retried send may duplicate a record,
    // which the bus's dedup by event id absorbs.
    this.producer ??= connect(
      this.kafka.producer({ maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner }),
      () => (this.producer = undefined),
    );
    return this.producer;
  }

  private connectedAdmin(): Promise<Admin> {
    this.admin ??= connect(this.kafka.admin(), () => (this.admin = undefined));
    return this.admin;
  }
}

/** The client once connected; a failed connect forgets the client, so the next call tries again. */
async function connect<T extends Producer | Admin>(client: T, forget: () => void): Promise<T> {
  try {
    await client.connect();
    return client;
  } catch (err) {
    forget();
    throw err;
  }
}

/**
 * The record of a partition whose handler last rejected, and how often it was delivered. Only the first
 * unhandled record of a partition can have failed, so one entry per partition is the (partition, offset)
 * attempt counter. It lives in this consumer's memory: Kafka keeps no delivery counter, so after a rebalance
 * moves the partition to another consumer the count restarts at 1 there.
 */
interface Failure {
  offset: string;
  deliveries: number;
}

/**
 * One partition's fetched records, in order. Each record's offset is resolved once its handler resolved and
 * committed (per batch, and every COMMIT_EVERY_MS in a long one); at a rejection the batch stops, what came
 * before is committed, and the consumer seeks back to the failed record, so it comes again before any later one.
 */
async function handleBatch(
  { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload,
  topic: string,
  handler: DeliveryHandler,
  failures: Map<number, Failure>,
  consumer: Consumer,
): Promise<void> {
  const { partition } = batch;
  let handled: string | undefined;
  let committed: string | undefined;
  let lastCommit = Date.now();
  let failedAt: string | undefined;
  const commitHandled = async (): Promise<void> => {
    if (handled === undefined || handled === committed) return;
    const offset = handled;
    // The committed offset is the next record to read.
    const next = (BigInt(offset) + 1n).toString();
    await commitOffsetsIfNecessary({
      topics: [{ topic: batch.topic, partitions: [{ partition, offset: next }] }],
    });
    committed = offset;
    lastCommit = Date.now();
  };
  try {
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) break;
      const failure = failures.get(partition);
      const deliveryCount = failure?.offset === message.offset ? failure.deliveries + 1 : 1;
      try {
        // A value that is not JSON was not written by opsbot; it fails like a rejecting handler, so it stays
        // in the partition, visible as lag, instead of being skipped unseen.
        await handler({
          topic,
          partition,
          key: message.key?.toString() ?? '',
          event: JSON.parse(message.value?.toString() ?? 'null'),
          deliveryCount,
        });
      } catch {
        failures.set(partition, { offset: message.offset, deliveries: deliveryCount });
        failedAt = message.offset;
        break;
      }
      failures.delete(partition);
      resolveOffset(message.offset);
      handled = message.offset;
      // Keeps the group membership alive through a long batch (kafkajs sends one per heartbeat interval at
      // most); throws when the group rebalances, and kafkajs then rejoins and fetches from the commits.
      await heartbeat();
      if (Date.now() - lastCommit >= COMMIT_EVERY_MS) await commitHandled();
    }
  } finally {
    await commitHandled();
  }
  if (failedAt !== undefined && isRunning()) {
    consumer.seek({ topic: batch.topic, partition, offset: failedAt });
    await sleep(REDELIVERY_DELAY_MS);
  }
}

function kafkaLogging(logger: Logger | undefined): Pick<KafkaConfig, 'logLevel' | 'logCreator'> {
  if (!logger) return { logLevel: logLevel.NOTHING };
  return {
    logLevel: logLevel.ERROR,
    logCreator:
      () =>
      ({ namespace, log: { message, ...fields } }) =>
        logger.error({ ...fields, namespace }, `kafka: ${message}`),
  };
}
