import { hostname } from 'node:os';
import { ConsumerPool } from './consumer-pool';
import type { DedupStore } from '../../bot/core/dedup-store';
import { ErrorCode, RequestError } from '../../bot/core/errors';
import type { Logger } from '../../bot/core/logger';
import { MemoryAttemptCounter, type AttemptCounter } from './attempt-counter';
import type { DeadLetter, DeadLetterFilter, DeadLetterQueue } from './dead-letters';
import { toEvent, type EventInput, type OpsEvent } from './envelope';
import type { EventQuery, EventStore } from './event-store';
import { partitionKeyOf, type PartitionKeySpec } from './partition-key';
import { backoffDelayMs, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy';
import { typeMatcher } from './routing/event-type-pattern';
import type { RoutedEvent, RoutingTable, Target } from './routing/routing-table';
import type { Delivery, EventTransport, Subscription } from './transport';
import { postToWebhook } from './webhook-delivery';

export const DEFAULT_TOPIC = 'opsbot.events';
/** The consumer group that applies the routing rules to every published event. */
export const ROUTER_GROUP = 'opsbot.router';
/** An event id handled by a group is remembered this long, so a republished duplicate is passed by. */
export const DEFAULT_DEDUP_TTL_SECONDS = 24 * 3600;

/** The compiled routing rules; replaced as a whole when the rules change. */
export type Routes = Pick<RoutingTable, 'route'>;

/** Validation on publish: the schema registry. */
export interface EventValidator {
  validate(event: OpsEvent): { valid: true } | { valid: false; errors: string[] };
}

/** An engine that takes routed events in-process (the quality engine, the orchestrator). */
export interface EngineSink {
  handle(event: OpsEvent): Promise<void>;
}

export type EventHandler = (event: OpsEvent, delivery: Delivery) => Promise<void>;

export interface SubscribeOptions {
  /** Only these types, exact or globs ("order.*", "ops.**"); others are acknowledged unseen. */
  types?: string[];
  topic?: string;
  batchSize?: number;
}

export interface PublishResult {
  id: string;
  type: string;
  status: 'accepted' | 'dead_lettered';
  /** Why it went to the dead letter queue. */
  errors?: string[];
  deadLetterId?: string;
}

export interface ReplayResult {
  replayed: string[];
  failed: { id: string; error: string }[];
}

export interface EventBusOptions {
  topic: string;
  partitionKey: PartitionKeySpec;
  retry: RetryPolicy;
  dedupTtlSeconds: number;
}

export interface EventBusDeps {
  transport: EventTransport;
  validator: EventValidator;
  deadLetters: DeadLetterQueue;
  store: EventStore;
  dedup: DedupStore;
  /** Shared by the group's consumer processes where they are several (Redis); in-process otherwise. */
  attempts?: AttemptCounter;
  logger: Logger;
  engines?: ReadonlyMap<string, EngineSink>;
  options?: Partial<EventBusOptions>;
}

const NO_ROUTES: Routes = { route: () => [] };

/**
 * The event bus: publish validates and stores events durably on the transport; consumer groups handle them
 * at least once, in order per partition key, with retries and backoff, and what keeps failing goes to the
 * dead letter queue with its error and attempt count; the router group applies the routing rules.
 */
export class EventBus {
  readonly options: EventBusOptions;
  private routes: Routes = NO_ROUTES;
  private readonly keyOf: (event: OpsEvent) => string;
  private readonly subscriptions = new Set<Subscription>();
  private consumers = 0;
  private readonly consumerPrefix = `${hostname()}-${process.pid}`;
  private closed = false;
  private readonly attempts: AttemptCounter;

  constructor(private readonly deps: EventBusDeps) {
    this.attempts = deps.attempts ?? new MemoryAttemptCounter();
    this.options = {
      topic: DEFAULT_TOPIC,
      partitionKey: 'correlationid',
      retry: DEFAULT_RETRY_POLICY,
      dedupTtlSeconds: DEFAULT_DEDUP_TTL_SECONDS,
      ...deps.options,
    };
    this.keyOf = partitionKeyOf(this.options.partitionKey);
  }

  /** The router group's consumers in this process: one from start(), more when the scaler asks. */
  readonly router = new ConsumerPool(ROUTER_GROUP, () =>
    this.subscribe(ROUTER_GROUP, (event) => this.routeEvent(event)),
  );

  /** Starts the router group. Rules can change later without a restart (setRoutes). */
  async start(): Promise<void> {
    await this.router.resize(1);
  }

  setRoutes(routes: Routes): void {
    this.routes = routes;
  }

  /**
   * Publishes events: all or none are accepted onto the bus when their envelopes are valid (a bad envelope
   * refuses the whole call, nothing written). An event that fails its schema is not published: it goes to
   * the dead letter queue with the reasons, and its result says so.
   */
  async publish(inputs: EventInput | readonly EventInput[]): Promise<PublishResult[]> {
    if (this.closed) throw new RequestError(ErrorCode.InvalidRequest, 'the event bus is closed');
    const list = Array.isArray(inputs) ? inputs : [inputs as EventInput];
    const events: OpsEvent[] = [];
    const problems: string[] = [];
    list.forEach((input, i) => {
      const built = toEvent(input);
      if ('invalid' in built)
        problems.push(...built.invalid.map((p) => (list.length > 1 ? `[${i}] ${p}` : p)));
      else events.push(built);
    });
    if (problems.length > 0)
      throw new RequestError(ErrorCode.InvalidRequest, `invalid event: ${problems.join('; ')}`);
    return this.publishEvents(events);
  }

  private async publishEvents(events: readonly OpsEvent[]): Promise<PublishResult[]> {
    const results: PublishResult[] = [];
    const accepted: OpsEvent[] = [];
    for (const event of events) {
      const verdict = this.deps.validator.validate(event);
      if (verdict.valid) {
        accepted.push(event);
        results.push({ id: event.id, type: event.type, status: 'accepted' });
        continue;
      }
      const letter = await this.deps.deadLetters.add({
        reason: 'invalid',
        event,
        error: verdict.errors.join('; '),
        attempts: 0,
      });
      this.deps.logger.warn(
        {
          event: 'bus.dead_letter',
          reason: 'invalid',
          type: event.type,
          id: event.id,
          errors: verdict.errors,
        },
        'event failed its schema; sent to the dead letter queue',
      );
      results.push({
        id: event.id,
        type: event.type,
        status: 'dead_lettered',
        errors: verdict.errors,
        deadLetterId: letter.id,
      });
    }
    if (accepted.length > 0) {
      await this.deps.transport.publish(
        accepted.map((event) => ({ topic: this.options.topic, key: this.keyOf(event), event })),
      );
      await this.deps.store.append(accepted);
    }
    return results;
  }

  /**
   * Handles every event of the topic in `group` at least once: an event id the group already handled is
   * passed by (dedup), a failing handler is retried with exponential backoff and jitter, and after the
   * policy's attempts the event goes to the dead letter queue and the group moves on.
   */
  async subscribe(
    group: string,
    handler: EventHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    const wanted = options.types && options.types.length > 0 ? typeMatcher(options.types) : () => true;
    const consumer = `${this.consumerPrefix}-${++this.consumers}`;
    const inner = await this.deps.transport.subscribe(
      { topic: options.topic ?? this.options.topic, group, consumer, batchSize: options.batchSize },
      async (delivery) => {
        const { event } = delivery;
        if (event.replayfor !== undefined && event.replayfor !== group) return;
        if (!wanted(event.type)) return;
        await this.handleOnce(group, delivery, handler);
      },
    );
    const subscription: Subscription = {
      close: async () => {
        this.subscriptions.delete(subscription);
        await inner.close();
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  private async handleOnce(group: string, delivery: Delivery, handler: EventHandler): Promise<void> {
    const { event } = delivery;
    const doneKey = `bus:${group}:${event.id}`;
    if (await this.deps.dedup.has(doneKey)) return;
    const { maxAttempts } = this.options.retry;
    if (delivery.deliveryCount > 1) {
      // Delivered again: an earlier start may have crashed its consumer. Count the starts of redeliveries (the
      // first delivery's start is the one not counted) and stop an event its consumers keep dying on.
      const starts = await this.attempts.increment(doneKey, this.options.dedupTtlSeconds);
      if (starts >= maxAttempts) {
        await this.deadLetter(
          group,
          event,
          `its consumers stopped without finishing it ${starts} times (they may crash on it)`,
          starts,
        );
        await this.attempts.forget(doneKey);
        return;
      }
    }
    const failed = await this.withRetries(() => handler(event, delivery));
    if (failed) await this.deadLetter(group, event, failed.error, failed.attempts);
    else await this.deps.dedup.claim(doneKey, this.options.dedupTtlSeconds);
  }

  /**
   * Runs `work` until it succeeds or the retry policy's attempts are spent, waiting with backoff and jitter
   * in between; says how it failed in the end. While the bus closes, a failure is thrown instead: the event
   * stays unacknowledged and comes back after the restart.
   */
  private async withRetries(
    work: () => Promise<void>,
  ): Promise<{ error: string; attempts: number } | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        await work();
        return undefined;
      } catch (err) {
        if (this.closed) throw err;
        if (attempt >= this.options.retry.maxAttempts) return { error: oneLine(err), attempts: attempt };
        await sleep(backoffDelayMs(this.options.retry, attempt));
      }
    }
  }

  private async deadLetter(group: string, event: OpsEvent, error: string, attempts: number): Promise<void> {
    // Kept as published: a later replay marks it for this group again.
    const original: OpsEvent = { ...event };
    delete original.replayfor;
    await this.deps.deadLetters.add({ reason: 'handler_failed', event: original, group, error, attempts });
    this.deps.logger.warn(
      {
        event: 'bus.dead_letter',
        reason: 'handler_failed',
        group,
        type: event.type,
        id: event.id,
        attempts,
        error,
      },
      'handler kept failing; event sent to the dead letter queue',
    );
  }

  /** The router group's handler: each target is retried on its own, so one failing webhook repeats nothing else. */
  private async routeEvent(event: OpsEvent): Promise<void> {
    for (const routed of this.routes.route(event)) {
      const failed = await this.withRetries(() => this.deliver(routed));
      if (!failed) continue;
      await this.deps.deadLetters.add({
        reason: 'route_failed',
        // The event as published: a replay routes it again, so the rule's current transforms apply.
        event,
        ruleId: routed.ruleId,
        target: describeTarget(routed.target),
        ...failed,
      });
      this.deps.logger.warn(
        { event: 'bus.dead_letter', reason: 'route_failed', rule: routed.ruleId, id: event.id, ...failed },
        'routing target kept failing; event sent to the dead letter queue',
      );
    }
  }

  private async deliver({ target, event }: RoutedEvent): Promise<void> {
    switch (target.kind) {
      case 'topic':
        return this.deps.transport.publish([{ topic: target.topic, key: this.keyOf(event), event }]);
      case 'webhook':
        return postToWebhook(target, event);
      case 'engine': {
        const engine = this.deps.engines?.get(target.engine);
        if (!engine) throw new Error(`the ${target.engine} engine is not installed in this build`);
        return engine.handle(event);
      }
    }
  }

  listDeadLetters(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    return this.deps.deadLetters.list(filter);
  }

  getDeadLetter(id: string): Promise<DeadLetter | undefined> {
    return this.deps.deadLetters.get(id);
  }

  /**
   * Replays dead letters: an invalid event is published again (validated again: fix its schema first); a
   * handler failure goes back to its group only; a routing failure is sent to its target again now. A replay
   * that fails leaves the dead letter in place with the new error.
   */
  async replay(filter: { id: string } | DeadLetterFilter): Promise<ReplayResult> {
    const letters =
      'id' in filter
        ? [await this.deps.deadLetters.get(filter.id)].filter((l): l is DeadLetter => l !== undefined)
        : await this.deps.deadLetters.list(filter);
    if ('id' in filter && letters.length === 0) {
      throw new RequestError(ErrorCode.NotFound, `no dead letter ${filter.id}`);
    }
    const result: ReplayResult = { replayed: [], failed: [] };
    for (const letter of letters) {
      try {
        await this.replayOne(letter);
        await this.deps.deadLetters.remove(letter.id);
        result.replayed.push(letter.id);
      } catch (err) {
        result.failed.push({ id: letter.id, error: oneLine(err) });
      }
    }
    return result;
  }

  private async replayOne(letter: DeadLetter): Promise<void> {
    switch (letter.reason) {
      case 'invalid':
        // Validated again: still invalid, it is filed as a new dead letter and this one goes.
        await this.publishEvents([letter.event]);
        return;
      case 'handler_failed': {
        const event: OpsEvent = { ...letter.event, replayfor: letter.group };
        await this.deps.transport.publish([{ topic: this.options.topic, key: this.keyOf(event), event }]);
        return;
      }
      case 'route_failed': {
        const target = this.routes
          .route(letter.event)
          .find((r) => r.ruleId === letter.ruleId && describeTarget(r.target) === letter.target);
        if (!target) throw new Error(`rule ${letter.ruleId} no longer sends this event to ${letter.target}`);
        await this.deliver({ ...target, event: letter.event });
        return;
      }
    }
  }

  queryEvents(query: EventQuery): Promise<OpsEvent[]> {
    return this.deps.store.query(query);
  }

  getEvent(id: string): Promise<OpsEvent | undefined> {
    return this.deps.store.get(id);
  }

  lag(group: string, topic = this.options.topic): Promise<number> {
    return this.deps.transport.lag(topic, group);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.deps.transport.close();
    await this.deps.store.close();
  }
}

export function describeTarget(target: Target): string {
  switch (target.kind) {
    case 'topic':
      return `topic ${target.topic}`;
    case 'webhook': {
      // Query strings and user info often carry tokens; the description is shown in chat and stored.
      const url = new URL(target.url);
      return `webhook ${url.protocol}//${url.host}${url.pathname}`;
    }
    case 'engine':
      return `engine ${target.engine}`;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]?.slice(0, 500) ?? 'unknown error';
}
