import { z } from 'zod';
import { FIREWALL_PATHS, type FirewallPath } from '../../engines/quality/firewall/pii-firewall';
import { PII_TYPES } from '../../engines/quality/pii/finding';

/** Canonical environment names; the catalog maps aliases ("prod", "stg", …) onto them. */
export const ENVIRONMENTS = ['production', 'staging', 'development'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

const serviceName = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes, starting with a letter');

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** A health check beyond the health URL, run by the maintenance controller (engines/maintenance/check-specs.ts). */
const healthCheckSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('http'),
    url: httpUrl,
    timeoutMs: z.int().min(50).max(60_000).optional(),
  }),
  z.strictObject({
    type: z.literal('tcp'),
    address: z.string().regex(/^(?:\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'host:port, or [IPv6]:port'),
    timeoutMs: z.int().min(50).max(60_000).optional(),
  }),
  z.strictObject({
    type: z.literal('prometheus'),
    query: z.string().min(1),
    url: httpUrl.optional(),
    timeoutMs: z.int().min(50).max(60_000).optional(),
  }),
]);

const serviceEndpoints = z.strictObject({
  healthUrl: httpUrl.optional(),
  metricsUrl: httpUrl.optional(),
  /** More checks the maintenance controller runs: TCP connects, PromQL queries, other URLs. */
  checks: z.array(healthCheckSchema).optional(),
});

const serviceSchema = z.strictObject({
  description: z.string().default(''),
  aliases: z.array(z.string().min(1)).default([]),
  owners: z.array(z.string().min(1)).min(1, 'every service needs at least one owner'),
  /** Where the service runs, with the URLs to check it there. */
  environments: z
    .partialRecord(z.enum(ENVIRONMENTS), serviceEndpoints)
    .refine((envs) => Object.keys(envs).length > 0, {
      message: 'a service must run in at least one environment',
    }),
  replicas: z
    .strictObject({ min: z.int().min(0), max: z.int().min(1) })
    .refine((r) => r.min <= r.max, { message: 'min must not exceed max' })
    .default({ min: 1, max: 10 }),
});

const environmentSchema = z.strictObject({ aliases: z.array(z.string().min(1)).default([]) });

const permission = z
  .string()
  .regex(/^(\*|[a-z_]+\.[a-z_*]+)$/, 'a permission looks like "service.restart" or "*"');

const roleSchema = z.strictObject({
  inherits: z.array(z.string()).default([]),
  permissions: z.array(permission).default([]),
});

const apiKeySchema = z.strictObject({
  id: z.string().min(1),
  /** The key itself; prefer `keySha256` so the config file holds no usable secret. */
  key: z.string().min(16, 'an API key must be at least 16 characters').optional(),
  keySha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256 digest')
    .optional(),
  user: z.strictObject({ id: z.string().min(1), name: z.string().min(1) }),
});

/** Slack (bolt). HTTP mode needs the signing secret and bot token; Socket Mode the app and bot tokens. */
const slackSchema = z.strictObject({
  signingSecret: z.string().min(1).optional(),
  botToken: z
    .string()
    .regex(/^xoxb-/, 'a bot token starts with xoxb-')
    .optional(),
  appToken: z
    .string()
    .regex(/^xapp-/, 'an app-level token starts with xapp-')
    .optional(),
  /** Connect out to Slack over a WebSocket instead of receiving HTTP requests at /slack/events. */
  socketMode: z.boolean().default(false),
  /** The Web API base URL, e.g. a local fake in tests; Slack's own when unset. */
  apiUrl: httpUrl.optional(),
  /** The slash command registered in the app manifest. */
  slashCommand: z
    .string()
    .regex(/^\/[a-z0-9_-]{1,31}$/, 'looks like "/ops"')
    .default('/ops'),
  /** Who sees a slash command's answer: the whole channel (an on-call team works in the open) or only the caller. */
  commandResponse: z.enum(['in_channel', 'ephemeral']).default('in_channel'),
});

/** Microsoft Teams (Bot Framework). With an app id every request's JWT is validated; without one, local use only. */
const teamsSchema = z.strictObject({
  /** Serve /api/messages anonymously (Bot Framework Emulator, tests); only allowed on a loopback address. */
  enabled: z.boolean().default(false),
  appId: z.string().min(1).optional(),
  appPassword: z.string().min(1).optional(),
  appTenantId: z.string().min(1).optional(),
  appType: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).default('MultiTenant'),
});

/** Named places engines post to: a Slack channel (or thread), a Teams conversation, a web widget room. */
export const notifyTargetSchema = z.discriminatedUnion('channel', [
  z.strictObject({
    channel: z.literal('slack'),
    conversation: z.string().regex(/^[CGD][A-Z0-9]+$/, 'a Slack channel id such as C0123ABCD'),
    threadTs: z
      .string()
      .regex(/^\d+\.\d+$/, 'a message timestamp such as 1700000000.000100')
      .optional(),
  }),
  z.strictObject({ channel: z.literal('teams'), conversation: z.string().min(1) }),
  z.strictObject({
    channel: z.literal('web'),
    room: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash, underscore'),
  }),
]);

/** What a scaler policy reads as load: requests/s, CPU (in replicas' worth of CPU), or an event bus group's lag. */
export const SCALER_METRICS = ['throughput', 'cpu', 'lag'] as const;

/** How the scaler forecasts one service's load: the model with the lowest backtest error, or one named model. */
export const FORECAST_MODELS = ['auto', 'holt-winters', 'onnx', 'seasonal-naive'] as const;

/**
 * One service's scaling policy. Load is measured in the metric's unit; `capacityPerReplica` is how much of it
 * one replica serves at 100% (req/s for throughput, 1 for cpu, pending records one consumer keeps up with for
 * lag).
 */
const scalerPolicySchema = z
  .strictObject({
    environment: z.enum(ENVIRONMENTS).default('production'),
    metric: z.enum(SCALER_METRICS).default('throughput'),
    /** For metric lag: the event bus consumer group whose lag is read (opsbot's own router by default). */
    group: z.string().min(1).optional(),
    capacityPerReplica: z.number().positive(),
    /** The utilisation each replica is planned at, leaving the rest as headroom. */
    targetUtilisation: z.number().gt(0).max(1).default(0.7),
    /** The catalog's replicas.min / max unless given. */
    minReplicas: z.int().min(0).optional(),
    maxReplicas: z.int().min(1).optional(),
    scaleUpCooldownSeconds: z.int().min(0).max(86_400).default(60),
    scaleDownCooldownSeconds: z.int().min(0).max(86_400).default(300),
    /** How long a new replica takes to serve: capacity is provisioned this far ahead of the forecast. */
    startupSeconds: z.int().min(0).max(3600).default(30),
    costPerReplicaHour: z.number().min(0).default(0),
    sla: z
      .strictObject({
        /**
         * Utilisation above which a replica no longer meets its latency objective: the forecast's upper band is
         * kept under it. The SLA is stated as this ceiling, not as a latency, which the scaler cannot model.
         */
        utilisationCeiling: z.number().gt(0).max(1).default(0.9),
      })
      .prefault({}),
    forecast: z
      .strictObject({
        model: z.enum(FORECAST_MODELS).default('auto'),
        /**
         * Spacing of the load history the forecast is made from. A minute keeps four days of a daily season
         * (what the forecast reads) at 5,760 points: Prometheus refuses a range query of more than 11,000.
         */
        stepSeconds: z.int().min(1).max(3600).default(60),
        /** The length of one seasonal cycle: a day, or the demo's shortened day. */
        seasonSeconds: z
          .int()
          .min(2)
          .max(30 * 86_400)
          .default(86_400),
        /** How far ahead the forecast looks, beyond the start-up time. */
        horizonSeconds: z.int().min(1).max(86_400).default(600),
      })
      .prefault({}),
  })
  .refine((p) => p.sla.utilisationCeiling >= p.targetUtilisation, {
    message: 'sla.utilisationCeiling must not be below targetUtilisation',
    path: ['sla', 'utilisationCeiling'],
  })
  .refine(
    (p) => p.minReplicas === undefined || p.maxReplicas === undefined || p.minReplicas <= p.maxReplicas,
    {
      message: 'minReplicas must not exceed maxReplicas',
    },
  )
  .refine((p) => p.forecast.seasonSeconds % p.forecast.stepSeconds === 0, {
    message: 'forecast.seasonSeconds must be a whole number of forecast.stepSeconds',
    path: ['forecast', 'seasonSeconds'],
  });

/** One operation of the command driver: a program and its arguments, never run through a shell. */
const commandSpecSchema = z.strictObject({
  argv: z.array(z.string().min(1)).min(1, 'needs at least the program'),
  timeoutMs: z.int().min(100).max(600_000).optional(),
});

/** A service the local driver runs: its command, and the stable port its replicas are reached on. */
const localServiceSchema = z.strictObject({
  command: z.array(z.string().min(1)).min(1, 'needs at least the program'),
  port: z.int().min(1).max(65535),
  healthPath: z.string().startsWith('/').default('/health'),
  env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).default({}),
  cwd: z.string().min(1).optional(),
  replicas: z.int().min(0).max(50).default(1),
});

/** How opsbot reads and changes the platform of one environment. */
const platformDriverSchema = z.discriminatedUnion('driver', [
  z.strictObject({
    driver: z.literal('local'),
    /** Services run as local processes; with the demo on, catalog services not listed get the demo service. */
    services: z.record(serviceName, localServiceSchema).default({}),
  }),
  z.strictObject({
    driver: z.literal('kubernetes'),
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes namespace name'),
    /** A kubeconfig file; in-cluster credentials or ~/.kube/config when unset. */
    kubeconfig: z.string().min(1).optional(),
    context: z.string().min(1).optional(),
    labelSelector: z.string().min(1).optional(),
    /** Catalog service to workload; a Deployment named like the service when not listed. */
    workloads: z
      .record(
        serviceName,
        z.strictObject({
          kind: z.enum(['Deployment', 'StatefulSet']).default('Deployment'),
          name: z.string().min(1),
        }),
      )
      .default({}),
    timeoutMs: z.int().min(100).max(120_000).optional(),
  }),
  z.strictObject({
    driver: z.literal('command'),
    commands: z.strictObject({
      list: commandSpecSchema.optional(),
      status: commandSpecSchema.optional(),
      restart: commandSpecSchema.optional(),
      scale: commandSpecSchema.optional(),
      events: commandSpecSchema.optional(),
      logs: commandSpecSchema.optional(),
    }),
  }),
]);

const redactionMode = z.enum(['mask', 'type', 'hash', 'partial']);
const piiType = z.enum(PII_TYPES);
const redactionSchema = z.strictObject({
  default: redactionMode.default('type'),
  perType: z.partialRecord(piiType, redactionMode).default({}),
});
const firewallPathSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Only these types are looked for on the path; all unless given. */
  types: z.array(piiType).min(1).optional(),
  redaction: z
    .strictObject({
      default: redactionMode.optional(),
      perType: z.partialRecord(piiType, redactionMode).optional(),
    })
    .optional(),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.int().min(0).max(65535).default(3000),
      /**
       * The address where chat platforms reach this server (behind a proxy or tunnel), e.g.
       * https://opsbot.example.com. Slack shows charts as images only when it is set: it fetches them here.
       */
      publicUrl: httpUrl
        .refine((u) => !/[?#]/.test(u), 'must not have a query or fragment')
        .transform((u) => u.replace(/\/+$/, ''))
        .optional(),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  sessions: z
    .strictObject({
      store: z.enum(['memory', 'redis']).default('memory'),
      redisUrl: z
        .string()
        .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
        .optional(),
      ttlSeconds: z
        .int()
        .min(60)
        .max(30 * 86400)
        .default(3600),
      keyPrefix: z.string().default('opsbot:session:'),
      maxInMemory: z.int().min(100).default(10000),
    })
    .prefault({})
    .refine((s) => s.store !== 'redis' || s.redisUrl !== undefined, {
      message: 'store "redis" needs redisUrl (or set REDIS_URL)',
      path: ['redisUrl'],
    }),
  health: z
    .strictObject({
      timeoutMs: z.int().min(50).max(30000).default(2000),
      cacheSeconds: z.number().min(0).max(300).default(5),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** HMAC secret for signed tokens (HS256). Without it, only API keys and anonymous guests exist. */
      tokenSecret: z.string().min(32, 'must be at least 32 characters').optional(),
      apiKeys: z
        .array(apiKeySchema)
        .default([])
        .refine((keys) => keys.every((k) => (k.key === undefined) !== (k.keySha256 === undefined)), {
          message: 'each API key needs exactly one of key or keySha256',
        }),
    })
    .prefault({}),
  policy: z.strictObject({
    roles: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/), roleSchema),
    /** Channel identities ("web:alice", "slack:U024BE7LH", "terminal:*") to role names. */
    users: z
      .record(z.string().regex(/^[a-z]+:.+$/, 'keys look like "channel:user-id"'), z.array(z.string()))
      .default({}),
    anonymousRole: z.string().default('guest'),
    authenticatedRole: z.string().default('viewer'),
  }),
  knowledge: z
    .strictObject({
      /** Folders of runbooks and docs, relative to the configuration file's folder. */
      sources: z.array(z.string().min(1)).min(1).default(['knowledge', 'runbooks']),
      /** Where the index lives, relative to the configuration file's folder. */
      indexDir: z.string().min(1).default('.opsbot/index'),
      /** Build or refresh the index in the background at start-up when the sources changed. */
      autoBuild: z.boolean().default(true),
      /** Below this relevance (0..1) an answer says it does not know rather than quote a weak match. */
      minRelevance: z.number().min(0).max(1).default(0.5),
      embeddings: z
        .discriminatedUnion('provider', [
          z.strictObject({ provider: z.literal('use-lite') }),
          z.strictObject({
            provider: z.literal('transformers'),
            model: z.string().min(1),
            localModelPath: z.string().min(1).optional(),
            allowRemoteModels: z.boolean().default(false),
          }),
        ])
        .prefault({ provider: 'use-lite' }),
      /** Optional answer synthesis through an OpenAI-compatible chat model; off unless baseUrl is set. */
      llm: z
        .strictObject({
          baseUrl: httpUrl.optional(),
          model: z.string().min(1).default('gpt-4o-mini'),
          apiKey: z.string().min(1).optional(),
          timeoutMs: z.int().min(100).max(120000).default(20000),
        })
        .prefault({}),
    })
    .prefault({}),
  nlu: z
    .strictObject({
      /**
       * "hybrid": rules where they are exact, the learned intent classifier (sentence embedding + ONNX) for
       * the rest, one embedding per new unsure phrasing. "rules": cue rules and lexicons only, sub-millisecond,
       * no model in memory, but phrasings nobody wrote a rule for fall to out_of_scope.
       */
      engine: z.enum(['rules', 'hybrid']).default('hybrid'),
      /** Folder of the predictor models (intent.onnx + intent.json); the package's own models/ when unset. */
      modelsDir: z.string().min(1).optional(),
    })
    .prefault({}),
  slack: slackSchema.prefault({}),
  teams: teamsSchema.prefault({}),
  notifications: z
    .strictObject({
      targets: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/), notifyTargetSchema).default({}),
    })
    .prefault({}),
  /** Where embedded stores keep state that must survive a restart, relative to the configuration file's folder. */
  stateDir: z.string().min(1).default('.opsbot/state'),
  platform: z
    .strictObject({
      /** The driver per environment; an environment without one can be asked about but not changed. */
      environments: z.partialRecord(z.enum(ENVIRONMENTS), platformDriverSchema).default({}),
      /** How long a restart or scale may take to come back healthy before opsbot reports it as not verified. */
      verifyTimeoutSeconds: z.int().min(1).max(3600).default(60),
    })
    .prefault({}),
  demo: z
    .strictObject({
      /** Run the demo fleet: the catalog's services as real local processes under the local driver. */
      enabled: z.boolean().default(false),
      /** The environment whose catalog URLs the demo services listen on. */
      environment: z.enum(ENVIRONMENTS).default('production'),
      /** Requests per second one demo replica handles before its simulated CPU saturates. */
      capacityRps: z.int().min(1).max(100_000).default(50),
      load: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** Requests per second at the daily peak, across the fleet. */
          ratePerSecond: z.number().min(0).max(100_000).default(20),
          /** A simulated day lasts this long, so the daily pattern shows within a demo. */
          dayLengthSeconds: z.int().min(10).max(86_400).default(600),
          seed: z.int().default(1),
        })
        .prefault({}),
    })
    .prefault({}),
  eventbus: z
    .strictObject({
      /** "memory": in-process with a log under stateDir (embedded default); "redis": Streams; "kafka": kafkajs. */
      transport: z.enum(['memory', 'redis', 'kafka']).default('memory'),
      /** The topic every published event goes to; routing rules copy events to other topics. */
      topic: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,200}$/)
        .default('opsbot.events'),
      partitions: z.int().min(1).max(1024).default(8),
      /** Events with the same value stay in order: correlationid, subject, source, type or data.<field>. */
      partitionKey: z
        .string()
        .regex(
          /^(?:correlationid|subject|source|type|data\.[A-Za-z0-9_.-]+)$/,
          'correlationid, subject, source, type or data.<field>',
        )
        .default('correlationid'),
      retry: z
        .strictObject({
          maxAttempts: z.int().min(1).max(100).default(5),
          initialDelayMs: z.int().min(1).max(60_000).default(100),
          maxDelayMs: z.int().min(1).max(3_600_000).default(10_000),
        })
        .prefault({}),
      dedupTtlSeconds: z
        .int()
        .min(60)
        .max(30 * 86400)
        .default(86400),
      memory: z
        .strictObject({
          /** "interval" syncs the log to disk every 100 ms; "always" before each publish returns (power-loss safe). */
          fsync: z.enum(['always', 'interval', 'never']).default('interval'),
          maxLogMegabytes: z.int().min(1).max(1_000_000).default(256),
        })
        .prefault({}),
      redis: z
        .strictObject({
          /** Defaults to sessions.redisUrl (REDIS_URL). */
          url: z
            .string()
            .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
            .optional(),
          keyPrefix: z.string().default('opsbot:bus:'),
          maxLen: z.int().min(1000).default(1_000_000),
        })
        .prefault({}),
      kafka: z
        .strictObject({
          brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'host:port')).default([]),
          clientId: z.string().default('opsbot'),
        })
        .prefault({}),
      /** Folder of event schemas (JSON or YAML files of {type, version, schema}), relative to the config file. */
      schemasDir: z.string().min(1).optional(),
      /** Refuse (dead-letter) events whose type has no registered schema. */
      requireSchemas: z.boolean().default(false),
      /** Routing rules; more can be added through POST /api/v1/routing/rules. Checked when the bus starts. */
      rules: z.array(z.unknown()).default([]),
      /** Recent events kept for queries ("find events for order 1234"). */
      storeCapacity: z.int().min(100).max(10_000_000).default(100_000),
    })
    .prefault({})
    .superRefine((bus, ctx) => {
      if (bus.transport === 'kafka' && bus.kafka.brokers.length === 0)
        ctx.addIssue({
          code: 'custom',
          path: ['kafka', 'brokers'],
          message: 'the kafka transport needs brokers (set KAFKA_BROKERS)',
        });
    }),
  orchestrator: z
    .strictObject({
      /** "file": a journal under stateDir (embedded default); "redis": runs, approvals and keys in Redis. */
      store: z.enum(['file', 'redis']).default('file'),
      /** Defaults to sessions.redisUrl (REDIS_URL). */
      redisUrl: z
        .string()
        .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
        .optional(),
      keyPrefix: z.string().default('opsbot:orch:'),
      /** Markdown runbooks with executable steps, relative to the config file. */
      runbooksDir: z.string().min(1).default('runbooks'),
      /** Saga definitions (YAML), relative to the config file. */
      sagasDir: z.string().min(1).default('sagas'),
      /** Finished runs kept for listing and history; older ones are dropped from the store. */
      keepFinishedRuns: z.int().min(100).max(10_000_000).default(10_000),
      /** Where alert-started plans are posted: a notifications.targets name. */
      alertsTarget: z.string().min(1).optional(),
      /** Bearer token Grafana (and Alertmanager, if it sends one) must present on /webhooks/*. */
      webhookToken: z.string().min(16).optional(),
      /** The shell action: off unless enabled, and then only these executables (absolute paths or names on PATH). */
      shell: z
        .strictObject({
          enabled: z.boolean().default(false),
          allow: z.array(z.string().min(1)).default([]),
        })
        .prefault({}),
      prediction: z
        .strictObject({
          /** The failure model (ONNX with its JSON metadata beside it), relative to the config file. */
          model: z.string().min(1).default('models/saga-failure.onnx'),
          /**
           * Probability of failure from which a run is high risk: it then needs approval and gets more time. 0.3
           * halved failed sagas in sim:sagas where 0.5 cut a quarter, at the price of approving about a quarter
           * of the runs during fault episodes (see README, "Failure prediction").
           */
          highRisk: z.number().min(0).max(1).default(0.3),
          mediumRisk: z.number().min(0).max(1).default(0.2),
        })
        .prefault({}),
      /** The hash-chained audit log, relative to stateDir. */
      auditLog: z.string().min(1).default('audit/audit.log'),
    })
    .prefault({}),
  alerts: z
    .strictObject({
      /**
       * Alertmanager's API, when there is one (ALERTMANAGER_URL): alert_status lists its alerts, silence_alert and
       * maintenance windows create silences there. Without it opsbot keeps its own alert list and silences.
       */
      alertmanager: z
        .strictObject({
          url: httpUrl.optional(),
          timeoutMs: z.int().min(100).max(120_000).default(5000),
          bearerToken: z.string().min(1).optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  maintenance: z
    .strictObject({
      /** The maintenance controller: health checks with history, self-healing through runbooks, windows. */
      enabled: z.boolean().default(true),
      intervalSeconds: z.number().min(0.2).max(3600).default(1),
      /** Watched environments; those with a platform driver (healing needs one) unless given. */
      environments: z.array(z.enum(ENVIRONMENTS)).optional(),
      /** Consecutive failed rounds that make a failure sustained, and passed rounds that end it. */
      failureThreshold: z.int().min(1).max(100).optional(),
      recoveryThreshold: z.int().min(1).max(100).optional(),
      /** Heals per service per hour before the controller stops raising and leaves it to people. */
      maxHealsPerHour: z.int().min(1).max(100).optional(),
      /** A check's timeout when it gives none. */
      checkTimeoutMs: z.int().min(50).max(60_000).optional(),
      /** The failure model (ONNX with its JSON metadata beside it), relative to the config file. */
      predictionModel: z.string().min(1).default('models/service-failure.onnx'),
    })
    .prefault({}),
  scaler: z
    .strictObject({
      /** "recommend" posts and records what it would do; "act" also scales through the platform drivers. */
      mode: z.enum(['recommend', 'act']).default('recommend'),
      intervalSeconds: z.int().min(1).max(3600).default(15),
      /** Where decisions are posted: a notifications.targets name (orchestrator.alertsTarget unless given). */
      notify: z.string().min(1).optional(),
      /** The currency symbol costs are written in. */
      currency: z.string().min(1).max(4).default('€'),
      /** The ONNX forecaster (JSON metadata beside it), relative to the config file. */
      model: z.string().min(1).default('models/load-forecast.onnx'),
      /** Per catalog service (or "opsbot-consumers" for the bus's own consumers on lag). */
      services: z.record(z.string().min(1), scalerPolicySchema).default({}),
    })
    .prefault({}),
  quality: z
    .strictObject({
      /** The PII and secrets firewall (see README, "Quality engine"). */
      firewall: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** Findings scoring below this (0..1) are left alone. */
          threshold: z.number().min(0).max(1).default(0.5),
          /** The HMAC key of hash-mode pseudonyms (OPSBOT_PII_SALT); needed only when a path uses hash. */
          salt: z.string().min(16, 'a pseudonym salt must be at least 16 characters').optional(),
          redaction: redactionSchema.prefault({}),
          paths: z
            .strictObject(
              Object.fromEntries(FIREWALL_PATHS.map((p) => [p, firewallPathSchema.optional()])) as Record<
                FirewallPath,
                z.ZodOptional<typeof firewallPathSchema>
              >,
            )
            .default({}),
        })
        .prefault({})
        .superRefine((firewall, ctx) => {
          const modes = [
            firewall.redaction.default,
            ...Object.values(firewall.redaction.perType),
            ...Object.values(firewall.paths).flatMap((p) =>
              p?.redaction ? [p.redaction.default, ...Object.values(p.redaction.perType ?? {})] : [],
            ),
          ];
          if (firewall.enabled && modes.includes('hash') && firewall.salt === undefined)
            ctx.addIssue({
              code: 'custom',
              path: ['salt'],
              message: 'hash redaction needs a salt (set OPSBOT_PII_SALT)',
            });
        }),
      /** Validation rules for events routed to the quality engine, relative to the config file. */
      rulesFile: z.string().min(1).optional(),
      /** Anomaly detection on the numeric fields of routed events and on service metrics. */
      anomalies: z
        .strictObject({
          /** Robust z-score from which a point is an anomaly. */
          threshold: z.number().min(1).max(20).default(3.5),
          /** Points per seasonal cycle (0: no season), e.g. 24 for hourly points with a daily cycle. */
          season: z.int().min(0).max(10_000).default(0),
          /** Events are counted and their numeric fields averaged per bucket of this many seconds. */
          bucketSeconds: z.int().min(1).max(86_400).default(60),
        })
        .prefault({}),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      /** "scrape": opsbot scrapes the services' /metrics itself (embedded default); "prometheus": its HTTP API. */
      source: z.enum(['scrape', 'prometheus']).default('scrape'),
      scrape: z
        .strictObject({
          intervalSeconds: z.number().min(0.2).max(300).default(5),
          /** History kept in memory per service; older questions are answered with what is there. */
          retentionMinutes: z.int().min(1).max(1440).default(60),
          timeoutMs: z.int().min(50).max(30_000).default(2000),
        })
        .prefault({}),
      prometheus: z
        .strictObject({
          url: httpUrl.optional(),
          bearerToken: z.string().min(1).optional(),
          timeoutMs: z.int().min(100).max(120_000).default(10_000),
          /** PromQL per metric with {service}, {environment}, {quantile} and {window}; defaults fit the demo fleet. */
          queries: z
            .partialRecord(
              z.enum(['latency', 'error_rate', 'throughput', 'cpu', 'cpu_replicas']),
              z.string().min(1),
            )
            .default({}),
        })
        .prefault({}),
    })
    .prefault({})
    .refine((m) => m.source !== 'prometheus' || m.prometheus.url !== undefined, {
      message: 'source "prometheus" needs prometheus.url (or set PROMETHEUS_URL)',
      path: ['prometheus', 'url'],
    }),
  environments: z.partialRecord(z.enum(ENVIRONMENTS), environmentSchema).default({
    production: { aliases: ['prod', 'prd'] },
    staging: { aliases: ['stage', 'stg'] },
    development: { aliases: ['dev'] },
  }),
  defaultEnvironment: z.enum(ENVIRONMENTS).default('production'),
  services: z.record(serviceName, serviceSchema),
});

export type OpsbotConfig = z.infer<typeof configSchema>;
export type ServiceConfig = z.infer<typeof serviceSchema>;
export type SlackConfig = z.infer<typeof slackSchema>;
export type TeamsConfig = z.infer<typeof teamsSchema>;
export type NotifyTarget = z.infer<typeof notifyTargetSchema>;
export type PlatformDriverConfig = z.infer<typeof platformDriverSchema>;
export type LocalServiceConfig = z.infer<typeof localServiceSchema>;
export type CommandSpecConfig = z.infer<typeof commandSpecSchema>;
export type ScalerPolicyConfig = z.infer<typeof scalerPolicySchema>;
