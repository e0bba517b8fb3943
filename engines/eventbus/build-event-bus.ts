import path from 'node:path';
import type { OpsbotConfig } from '../../bot/config/schema';
import type { DedupStore } from '../../bot/core/dedup-store';
import type { Component } from '../../bot/core/health';
import type { Logger } from '../../bot/core/logger';
import type { RecordStore } from '../../bot/core/record-store';
import { RedisAttemptCounter } from '../../adapters/redis/redis-attempt-counter';
import { closeRedisClient, createRedisClient } from '../../adapters/redis/redis-client';
import { DeadLetterQueue, type DeadLetter } from './dead-letters';
import { EventBus, ROUTER_GROUP, type EngineSink } from './event-bus';
import { MemoryEventStore } from './memory-event-store';
import type { PartitionKeySpec } from './partition-key';
import { compileRules, describeRule } from './routing';
import { RoutingRules } from './routing-rules';
import { SchemaRegistry, type StoredSchema } from './schema-registry';
import type { EventTransport } from './transport';
import { KafkaTransport } from './transports/kafka-transport';
import { MemoryTransport } from './transports/memory-transport';
import { RedisTransport } from './transports/redis-transport';

export interface BuiltEventBus {
  bus: EventBus;
  rules: RoutingRules;
  schemas: SchemaRegistry;
  component: Component;
  /** Loads schemas and rules (refusing bad ones with the reason) and starts the router group. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The event bus of a configuration: its transport, schema registry, routing rules, dead letters and store. */
export function buildEventBus(
  config: OpsbotConfig,
  deps: {
    configDir: string;
    stateDir: string;
    dedup: DedupStore;
    records: <T>(name: string) => RecordStore<T>;
    catalog: (service: string) => Record<string, unknown> | undefined;
    logger: Logger;
    /** The quality engine's redactor for a rule's `redact` transform. */
    redact?: (value: unknown, path: string) => unknown;
    /** Engines that take routed events in-process, by the name a rule's `engine` target gives. */
    engines?: ReadonlyMap<string, EngineSink>;
  },
): BuiltEventBus {
  const settings = config.eventbus;
  const transport = createTransport(config, deps.stateDir);
  const schemas = new SchemaRegistry(deps.records<StoredSchema>('bus-schemas'), {
    requireSchemas: settings.requireSchemas,
  });
  const deadLetters = new DeadLetterQueue(deps.records<DeadLetter>('bus-dead-letters'));
  // Consumers on Redis may be several processes: the count of their crashes on one event lives there too.
  const attemptsRedis = settings.transport === 'redis' ? createRedisClient(redisUrlOf(config)) : undefined;
  const bus = new EventBus({
    transport,
    engines: deps.engines,
    validator: schemas,
    deadLetters,
    store: new MemoryEventStore({
      dir: path.join(deps.stateDir, 'bus-events'),
      capacity: settings.storeCapacity,
    }),
    dedup: deps.dedup,
    attempts: attemptsRedis
      ? new RedisAttemptCounter(attemptsRedis, `${settings.redis.keyPrefix}attempts:`)
      : undefined,
    logger: deps.logger.child({ component: 'eventbus' }),
    options: {
      topic: settings.topic,
      partitionKey: settings.partitionKey as PartitionKeySpec,
      retry: settings.retry,
      dedupTtlSeconds: settings.dedupTtlSeconds,
    },
  });
  // A rule naming an engine that is not installed is refused with the reason.
  const routingDeps = {
    catalog: deps.catalog,
    redact: deps.redact,
    engines: [...(deps.engines?.keys() ?? [])],
  };
  const rules = new RoutingRules(
    settings.rules,
    deps.records<unknown>('bus-routing-rules'),
    (specs) => {
      const table = compileRules(specs, routingDeps);
      return { routes: table, summaries: new Map(table.rules.map((r) => [r.id, describeRule(r)])) };
    },
    (routes) => bus.setRoutes(routes),
  );

  return {
    bus,
    rules,
    schemas,
    component: {
      name: 'event bus',
      requiredForReadiness: false,
      async check() {
        try {
          const [lag, dead, listed] = await Promise.all([
            bus.lag(ROUTER_GROUP),
            deadLetters.size(),
            rules.list(),
          ]);
          return {
            state: dead > 0 ? 'warning' : 'ok',
            detail: `${transport.kind}, topic ${settings.topic}, ${listed.length} routing rule${listed.length === 1 ? '' : 's'}, router lag ${lag}, ${dead} dead letter${dead === 1 ? '' : 's'}`,
          };
        } catch (err) {
          return { state: 'critical', detail: `${transport.kind}: ${(err as Error).message}` };
        }
      },
    },
    async start() {
      await schemas.load();
      if (settings.schemasDir)
        await schemas.loadSchemaFiles(path.resolve(deps.configDir, settings.schemasDir));
      await rules.load();
      await bus.start();
    },
    async close() {
      await bus.close();
      if (attemptsRedis) await closeRedisClient(attemptsRedis);
    },
  };
}

function createTransport(config: OpsbotConfig, stateDir: string): EventTransport {
  const settings = config.eventbus;
  switch (settings.transport) {
    case 'memory':
      return new MemoryTransport({
        dir: path.join(stateDir, 'bus'),
        partitions: settings.partitions,
        fsync: settings.memory.fsync,
        maxLogBytes: settings.memory.maxLogMegabytes * 1024 * 1024,
      });
    case 'redis':
      return new RedisTransport({
        url: redisUrlOf(config),
        keyPrefix: settings.redis.keyPrefix,
        partitions: settings.partitions,
        maxLen: settings.redis.maxLen,
      });
    case 'kafka':
      return new KafkaTransport({ brokers: settings.kafka.brokers, clientId: settings.kafka.clientId });
  }
}

function redisUrlOf(config: OpsbotConfig): string {
  return config.eventbus.redis.url ?? config.sessions.redisUrl ?? '';
}
