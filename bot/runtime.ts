import { existsSync } from 'node:fs';
import path from 'node:path';
import { HttpHealthProbe } from '../adapters/http/http-health-probe';
import { AnswerComposer } from '../rag/answers/answer-composer';
import { LlmAnswerSynthesizer } from '../rag/answers/llm-synthesizer';
import type { EmbeddingProvider } from '../rag/embeddings/embedding-provider';
import { TransformersEmbeddingProvider } from '../rag/embeddings/transformers-provider';
import { UseLiteEmbeddingProvider } from '../rag/embeddings/use-lite-provider';
import type { BuildReport } from '../rag/index/index-builder';
import { KnowledgeBase } from '../rag/knowledge-base';
import { closeRedisClient, createRedisClient } from '../adapters/redis/redis-client';
import { RedisDedupStore } from '../adapters/redis/redis-dedup-store';
import { RedisRecordStore } from '../adapters/redis/redis-record-store';
import { RedisSessionStore } from '../adapters/redis/redis-session-store';
import { Assistant } from './assistant';
import { ServiceCatalog } from './config/catalog';
import type { LoadedConfig } from './config/load';
import type { OpsbotConfig } from './config/schema';
import { failOpen, MemoryDedupStore, type DedupStore } from './core/dedup-store';
import type { Component } from './core/health';
import { FileRecordStore, type RecordStore } from './core/record-store';
import type { Logger } from './core/logger';
import type { TurnMetrics } from './core/turn-metrics';
import { textReply } from './core/message';
import { DialogueManager } from './dialogue/dialogue-manager';
import { MemorySessionStore } from './dialogue/memory-session-store';
import type { SessionStore } from './dialogue/session';
import { buildNlu } from './nlu/build-nlu';
import { INTENTS } from './nlu/intents';
import { Notifier } from './notify/notifier';
import { Policy } from './policy/policy';
import {
  confirmSkill,
  denySkill,
  greetingSkill,
  helpSkill,
  outOfScopeSkill,
} from './skills/conversation-skills';
import { SkillRegistry } from './skills/skill';
import { createSystemStatusSkill } from './skills/system-status';
import { createMetricsSkill } from './skills/metrics';
import { createRestartServiceSkill } from './skills/restart-service';
import { createScaleServiceSkill } from './skills/scale-service';
import { buildPlatforms } from './platform/build-platforms';
import type { Platforms } from './platform/platforms';
import { buildMetricsSource } from './metrics/build-metrics-source';
import type { MetricsSource } from './metrics/metrics-source';
import { LogAuditTrail, type AuditTrail } from './core/audit-trail';
import { HashChainedAuditLog } from '../engines/audit/hash-chained-audit-log';
import { createStandardActions } from '../engines/orchestrator/actions/standard-actions';
import { buildOrchestrator, type BuiltOrchestrator } from '../engines/orchestrator/build-orchestrator';
import { FileExecutionHistory } from '../engines/orchestrator/prediction/file-execution-history';
import { OnnxRiskAssessor } from '../engines/orchestrator/prediction/onnx-risk-assessor';
import { RunFeatureExtractor } from '../engines/orchestrator/prediction/run-features';
import type { RiskAssessor, RiskQuestion } from '../engines/orchestrator/risk';
import { createRunRunbookSkill } from './skills/run-runbook';
import { createStartSagaSkill } from './skills/start-saga';
import { createSagaStatusSkill } from './skills/saga-status';
import { createApprovalCommands } from './skills/approval-commands';
import { createCancelRunCommand } from './skills/cancel-run-command';
import { routeIntentsThroughRunbooks } from './skills/runbook-intent-skill';
import { orchestratorElsewhereSkills } from './skills/orchestrator-elsewhere';
import { threadOfTurn } from '../adapters/chat-threads';
import { planReply, runReply } from './skills/plan-reply';
import { AlertRouter, type AlertThreadRecord } from '../engines/orchestrator/alerts/alert-router';
import type { Alert } from '../engines/orchestrator/alerts/alert';
import { RunThreadReporter } from '../engines/orchestrator/alerts/run-thread-reporter';
import { RunbookScheduler } from '../engines/orchestrator/runbook-scheduler';
import { createTroubleshootSkill } from './skills/troubleshoot';
import { buildEventBus, type BuiltEventBus } from '../engines/eventbus/build-event-bus';
import { createQueryEventsSkill } from './skills/query-events';
import { buildFirewall } from '../engines/quality/firewall/build-firewall';
import { eventFieldRedactor } from '../engines/quality/firewall/event-field-redactor';
import { FIREWALL_PATHS, type PiiFirewall } from '../engines/quality/firewall/pii-firewall';
import { QualityMonitor } from '../engines/quality/quality-monitor';
import { loadRuleSetsFile } from '../engines/quality/data/validation-rules';
import { createDataQualitySkill } from './skills/data-quality';
import { redactSecrets } from '../engines/audit/redact-secrets';
import { buildScaler, type BuiltScaler } from '../engines/scaler/build-scaler';
import { createCapacityForecastSkill } from './skills/capacity-forecast';
import { buildAlerting, type Alerting } from '../engines/orchestrator/alerts/build-alerting';
import { createAlertStatusSkill } from './skills/alert-status';
import { createSilenceAlertSkill } from './skills/silence-alert';
import { createScheduleMaintenanceSkill } from './skills/schedule-maintenance';
import {
  buildMaintenanceController,
  maintenanceComponent,
} from '../engines/maintenance/build-maintenance-controller';
import type { MaintenanceController } from '../engines/maintenance/maintenance-controller';
import {
  loadFailurePrediction,
  type FailurePrediction,
} from '../engines/maintenance/failure-prediction/service-failure-predictor';
import { collectServiceSignals } from '../engines/maintenance/failure-prediction/collect-service-signals';
import { createPredictFailuresSkill } from './skills/predict-failures';

export interface Runtime {
  config: OpsbotConfig;
  configFile: string;
  catalog: ServiceCatalog;
  policy: Policy;
  skills: SkillRegistry;
  sessions: SessionStore;
  assistant: Assistant;
  components: readonly Component[];
  /** Adds a part that starts after the runtime (a chat platform) to /readyz and "system status". */
  addComponent(component: Component): void;
  knowledge: KnowledgeBase;
  /** The platform driver of each environment (and the demo fleet when it is on). */
  platforms: Platforms;
  metrics: MetricsSource;
  /**
   * The event bus, in the process that runs the background work (serve, demo). Other processes (a terminal
   * chat, CLI commands) reach it through the server's REST API: the embedded log has one owner.
   */
  eventBus?: BuiltEventBus;
  /**
   * The orchestrator (runbooks and sagas), in the process that runs the background work, like the bus: its
   * journal and the audit log have one owner. Other processes reach it through the REST API.
   */
  orchestrator?: BuiltOrchestrator;
  /** Turns Alertmanager and Grafana alerts into runbook runs (with the orchestrator). */
  alerts?: AlertRouter;
  /** Where actions are recorded: the hash-chained audit log in the owning process, log lines elsewhere. */
  audit: AuditTrail;
  /** The PII and secrets firewall every path in this process goes through. */
  firewall: PiiFirewall;
  /** The quality engine's watch on events routed to it (`engine: quality`), beside the bus. */
  quality?: QualityMonitor;
  /** The predictive scaler, in the process that runs the background work. */
  scaler?: BuiltScaler;
  /** Firing alerts, silences and maintenance windows, in the process that runs the background work. */
  alerting?: Alerting;
  /** The maintenance controller: health watch and self-healing, beside the orchestrator. */
  maintenance?: MaintenanceController;
  /** Starts what runs in the background: local services (the demo fleet) and the metrics scraper. */
  start(): Promise<void>;
  /**
   * Deliveries already handled (platform retries, redelivered activities): memory, or Redis with REDIS_URL.
   * Never throws: when the store fails, a claim succeeds (see failOpen).
   */
  dedup: DedupStore;
  /** A named store of records that outlive the process: a JSON file under stateDir, or a Redis hash. */
  records<T>(name: string): RecordStore<T>;
  /** Posts replies unprompted to Slack, Teams or widget rooms; channel adapters register as they start. */
  notifier: Notifier;
  /** Builds or refreshes the knowledge index from the configured sources when they changed. */
  refreshKnowledge(): Promise<BuildReport | undefined>;
  close(): Promise<void>;
}

/** The composition root: every port gets its implementation here, chosen by configuration. */
export function createRuntime(
  loaded: LoadedConfig,
  deps: {
    logger: Logger;
    metrics?: TurnMetrics;
    /**
     * True in the process that runs the background work: local services (serve, demo) and the event bus; a
     * terminal chat only talks about them.
     */
    runsPlatforms?: boolean;
    /** The firewall the logger already screens with, so both count findings in one place. */
    firewall?: PiiFirewall;
  },
): Runtime {
  const { config } = loaded;
  const firewall = deps.firewall ?? buildFirewall(config.quality.firewall);
  const catalog = new ServiceCatalog(config);
  const policy = new Policy(config.policy);
  // With Redis configured for sessions, the other stores that several processes must share live there too,
  // all on one connection.
  const redisUrl = config.sessions.store === 'redis' ? config.sessions.redisUrl : undefined;
  const redis = redisUrl ? createRedisClient(redisUrl) : undefined;
  const sessions: SessionStore = redis
    ? new RedisSessionStore(redis, config.sessions.ttlSeconds, config.sessions.keyPrefix)
    : new MemorySessionStore(config.sessions.ttlSeconds, config.sessions.maxInMemory);
  const dedup = failOpen(redis ? new RedisDedupStore(redis) : new MemoryDedupStore(), deps.logger);
  const configDir = configDirOf(loaded);
  const embeddings = createEmbeddingProvider(config, configDir);
  const knowledgeSources = config.knowledge.sources.map((s) => path.resolve(configDir, s));
  const { nlu, predictors, predictorsLoaded, description } = buildNlu(config, configDir, {
    catalog,
    embeddings,
    logger: deps.logger,
  });
  const stateDir = path.resolve(configDir, config.stateDir);
  const recordStores = new Map<string, RecordStore<unknown>>();
  const knowledge = new KnowledgeBase(
    path.resolve(configDir, config.knowledge.indexDir),
    embeddings,
    deps.logger,
    (text) => firewall.redactText(text, 'knowledge'),
  ).load();

  const built = buildPlatforms(config, configDir, deps.logger, { runsLocal: deps.runsPlatforms ?? false });
  const { platforms } = built;
  const metricsSource = buildMetricsSource(config, catalog, built);
  // One process appends to the hash chain; the others (a terminal chat) record as log lines.
  const hashChainedAudit = deps.runsPlatforms
    ? new HashChainedAuditLog({
        file: path.resolve(stateDir, config.orchestrator.auditLog),
        logger: deps.logger,
        redact: (entry) => firewall.redactValue(redactSecrets(entry), 'audit'),
      })
    : undefined;
  const audit: AuditTrail = hashChainedAudit ?? new LogAuditTrail(deps.logger);
  const recordsNamed = <T>(name: string): RecordStore<T> => {
    // One store per name: two file stores on one file would each overwrite the other's records.
    let store = recordStores.get(name);
    if (!store) {
      store = redis ? new RedisRecordStore<T>(redis, name) : new FileRecordStore<T>(stateDir, name);
      recordStores.set(name, store);
    }
    return store as RecordStore<T>;
  };
  const quality = deps.runsPlatforms
    ? new QualityMonitor({
        rules: config.quality.rulesFile
          ? loadRuleSetsFile(path.resolve(configDir, config.quality.rulesFile))
          : undefined,
        anomalies: config.quality.anomalies,
      })
    : undefined;
  const eventBus = deps.runsPlatforms
    ? buildEventBus(config, {
        configDir,
        stateDir,
        dedup,
        records: recordsNamed,
        catalog: (name) => {
          const service = catalog.get(name);
          return service ? { ...service } : undefined;
        },
        logger: deps.logger,
        redact: eventFieldRedactor(firewall),
        engines: new Map(quality ? [['quality', quality]] : []),
      })
    : undefined;

  const notifier = new Notifier(config.notifications.targets, (reply) =>
    firewall.redactValue(reply, 'replies'),
  );
  const scalerTarget = config.scaler.notify ?? config.orchestrator.alertsTarget;
  const scaler = deps.runsPlatforms
    ? buildScaler(config, {
        configDir,
        catalog,
        platforms,
        metrics: metricsSource.source,
        eventBus: eventBus?.bus,
        audit,
        logger: deps.logger,
        announce: scalerTarget
          ? async (decision) => void (await notifier.notify(scalerTarget, textReply(decision.explanation)))
          : undefined,
      })
    : undefined;
  const history = deps.runsPlatforms
    ? new FileExecutionHistory({ stateDir, logger: deps.logger })
    : undefined;
  const risk =
    history &&
    lazyRiskAssessor(config, configDir, { metrics: metricsSource.source, outcomes: history }, deps.logger);
  const orchestrator = history
    ? buildOrchestrator(config, {
        configDir,
        stateDir,
        actions: createStandardActions({
          catalog,
          platforms,
          probe: new HttpHealthProbe(config.health.timeoutMs, 0),
          metrics: metricsSource.source,
          notifier,
          publish: eventBus ? (input) => eventBus.bus.publish(input) : undefined,
          shell: config.orchestrator.shell,
          verifyTimeoutMs: config.platform.verifyTimeoutSeconds * 1000,
        }),
        audit,
        logger: deps.logger,
        sessionsRedisUrl: redisUrl,
        history,
        risk,
        rolesAllow: (roles, permission) => policy.rolesAllow(roles, permission),
      })
    : undefined;
  if (orchestrator && eventBus) publishTransitions(orchestrator, eventBus, deps.logger);
  const alerting = deps.runsPlatforms
    ? buildAlerting(config, { records: recordsNamed, catalog, audit })
    : undefined;
  const alerts =
    orchestrator &&
    new AlertRouter({
      ...(alerting?.silencedBy ? { silencedBy: alerting.silencedBy } : {}),
      ...(alerting ? { record: (routed: readonly Alert[]) => alerting.record(routed) } : {}),
      orchestrator: orchestrator.service,
      notifier,
      target: config.orchestrator.alertsTarget,
      renderPlan: planReply,
      threads: recordsNamed<AlertThreadRecord>('alert-threads'),
      logger: deps.logger,
      // With no trigger bound to the alert, the runbooks that read closest to it are offered, never started.
      suggest: async (alert) => {
        if (knowledge.status().state !== 'ready') return [];
        const query = [alert.labels.alertname, alert.annotations.summary, alert.annotations.description]
          .filter(Boolean)
          .join(' ');
        const hits = await knowledge.search(query, { k: 3, filter: { kind: 'runbook' } });
        return hits
          .filter((hit) => hit.meta.id !== undefined && hit.relevance > config.knowledge.minRelevance)
          .map((hit) => ({ runbookId: hit.meta.id as string, title: hit.title, score: hit.relevance }));
      },
    });
  // Healing goes through the alert router, so it needs the orchestrator; watching without healing is no use.
  const maintenance =
    alerts && alerting && config.maintenance.enabled
      ? buildMaintenanceController(
          {
            environments: config.maintenance.environments ?? platforms.environments(),
            intervalMs: config.maintenance.intervalSeconds * 1000,
            failureThreshold: config.maintenance.failureThreshold,
            recoveryThreshold: config.maintenance.recoveryThreshold,
            maxHealsPerHour: config.maintenance.maxHealsPerHour,
            checkTimeoutMs: config.maintenance.checkTimeoutMs,
          },
          {
            catalog,
            logger: deps.logger,
            raise: (raised) => alerts.route(raised),
            suppressedBy: (service, environment) => alerting.windows.suppressedBy(service, environment),
            prometheus: config.metrics.prometheus,
          },
        )
      : undefined;
  const scheduler =
    orchestrator &&
    new RunbookScheduler({
      orchestrator: orchestrator.service,
      store: orchestrator.store,
      notifier,
      target: config.orchestrator.alertsTarget,
      renderPlan: planReply,
      logger: deps.logger,
    });
  const threadReporter =
    orchestrator &&
    new RunThreadReporter({
      orchestrator: orchestrator.service,
      notifier,
      renderRun: (run) => runReply(run),
      logger: deps.logger,
    });

  const components: Component[] = [
    {
      name: 'session store',
      requiredForReadiness: true,
      async check() {
        const started = performance.now();
        try {
          await sessions.ping();
          return { state: 'ok', detail: `${sessions.kind}, ${Math.round(performance.now() - started)} ms` };
        } catch (err) {
          return { state: 'critical', detail: `${sessions.kind}: ${(err as Error).message}` };
        }
      },
    },
    {
      name: 'nlu',
      requiredForReadiness: true,
      check: async () => ({
        state: 'ok',
        detail: `${description}, ${INTENTS.length} intents`,
      }),
    },
    ...(predictors ? [predictors.component()] : []),
    {
      name: 'knowledge index (RAG)',
      requiredForReadiness: false,
      async check() {
        const status = knowledge.status();
        switch (status.state) {
          case 'ready':
            return {
              state: 'ok',
              detail: `${status.manifest.documents} documents, ${status.manifest.chunks} chunks, built ${status.manifest.createdAt}`,
            };
          case 'building':
            return {
              state: 'warning',
              detail: `building${status.progress ? ` (${status.progress.phase} ${status.progress.done}/${status.progress.total})` : ''}`,
            };
          case 'missing':
            return { state: 'warning', detail: 'not built yet (opsbot index build)' };
          case 'error':
            return { state: 'critical', detail: status.message };
        }
      },
    },
    {
      name: 'platform drivers',
      requiredForReadiness: false,
      check: async () => {
        const envs = platforms.environments();
        return envs.length > 0
          ? { state: 'ok', detail: envs.map((env) => `${env}: ${platforms.driver(env)?.kind}`).join(', ') }
          : {
              state: 'warning',
              detail: 'none configured: services can be checked but not restarted or scaled',
            };
      },
    },
    {
      name: 'metrics source',
      requiredForReadiness: false,
      check: async () => ({ state: 'ok', detail: metricsSource.source.description }),
    },
    ...(eventBus ? [eventBus.component] : []),
    ...(orchestrator ? [orchestrator.component] : []),
    {
      name: 'quality engine',
      requiredForReadiness: false,
      check: async () => ({
        state: 'ok',
        detail: [
          config.quality.firewall.enabled
            ? `PII firewall on ${FIREWALL_PATHS.filter((p) => firewall.enabled(p)).join(', ')}`
            : 'PII firewall off',
          quality
            ? `${quality.report().length} event types watched${config.quality.rulesFile ? ` against ${config.quality.rulesFile}` : ', no validation rules'}`
            : 'events are watched in the server',
        ].join('; '),
      }),
    },
    {
      name: 'predictive scaler',
      requiredForReadiness: false,
      check: async () => ({
        state: 'ok',
        detail: scaler ? scaler.describe() : 'runs in the server',
      }),
    },
    maintenance
      ? maintenanceComponent(maintenance)
      : {
          name: 'maintenance controller',
          requiredForReadiness: false,
          check: async () => ({
            state: 'ok',
            detail: config.maintenance.enabled ? 'runs in the server' : 'off (maintenance.enabled: false)',
          }),
        },
    ...(alerting
      ? [
          {
            name: 'alerts and silences',
            requiredForReadiness: false,
            check: async () => ({ state: 'ok', detail: alerting.description }),
          } satisfies Component,
        ]
      : []),
  ];

  let releasePrediction: (() => Promise<void>) | undefined;
  const skills = new SkillRegistry()
    .register(greetingSkill)
    .register(helpSkill)
    .register(outOfScopeSkill)
    .register(confirmSkill)
    .register(denySkill)
    .register(
      createSystemStatusSkill({
        probe: new HttpHealthProbe(config.health.timeoutMs, config.health.cacheSeconds),
        components: () => components,
        platforms,
        metrics: metricsSource.source,
      }),
    )
    .register(createMetricsSkill({ source: metricsSource.source }));
  const serviceChanges = {
    platforms,
    audit,
    // Verification must see the service as it is now, never a cached answer from before the change.
    probe: new HttpHealthProbe(config.health.timeoutMs, 0),
    verifyTimeoutMs: config.platform.verifyTimeoutSeconds * 1000,
  };
  skills
    .register(createRestartServiceSkill(serviceChanges))
    .register(createScaleServiceSkill(serviceChanges));
  const { llm } = config.knowledge;
  const composer = new AnswerComposer({
    minRelevance: config.knowledge.minRelevance,
    synthesizer: llm.baseUrl
      ? new LlmAnswerSynthesizer({
          baseUrl: llm.baseUrl,
          model: llm.model,
          apiKey: llm.apiKey,
          timeoutMs: llm.timeoutMs,
          redact: (text) => firewall.redactText(text, 'llm'),
        })
      : undefined,
  });
  skills.register(createTroubleshootSkill({ knowledge, composer }));
  skills.register(createQueryEventsSkill({ bus: eventBus?.bus, audit }));
  skills.register(createDataQualitySkill({ monitor: quality, firewall }));
  skills.register(createCapacityForecastSkill({ scaler: scaler?.scaler }));
  if (maintenance) {
    let prediction: FailurePrediction = { on: false, reason: 'the failure model is still loading' };
    const failurePrediction = loadFailurePrediction(
      path.resolve(configDir, config.maintenance.predictionModel),
    ).then((loaded) => void (prediction = loaded));
    skills.register(
      createPredictFailuresSkill({
        prediction: () => prediction,
        signals: (environment) =>
          collectServiceSignals(environment, {
            controller: maintenance,
            metrics: metricsSource.source,
            platforms,
          }),
      }),
    );
    releasePrediction = async () => {
      await failurePrediction;
      if (prediction.on) await prediction.predictor.release?.();
    };
  } else if (deps.runsPlatforms) {
    skills.register({
      intent: 'predict_failures',
      permission: 'failures.read',
      summary: 'Predict which services are likely to fail',
      examples: ['which services are likely to fail?'],
      slots: [],
      mutating: false,
      installed: false,
      handle: async () =>
        textReply(
          'Failure prediction reads the maintenance controller’s health history, and the controller is off here ' +
            '(maintenance.enabled: false, or no orchestrator to heal through). Nothing was predicted.',
        ),
    });
  }
  if (alerting) {
    skills
      .register(createAlertStatusSkill({ alerts: alerting.firing }))
      .register(createSilenceAlertSkill({ silences: alerting.silences, audit }))
      .register(createScheduleMaintenanceSkill({ windows: alerting.windows }));
  }
  if (orchestrator) {
    skills
      .register(createRunRunbookSkill({ orchestrator: orchestrator.service, threadOf: threadOfTurn }))
      .register(createStartSagaSkill({ orchestrator: orchestrator.service, threadOf: threadOfTurn }))
      .register(createSagaStatusSkill({ orchestrator: orchestrator.service }));
    routeIntentsThroughRunbooks(
      skills,
      orchestrator.service.definitions('runbook'),
      { orchestrator: orchestrator.service, threadOf: threadOfTurn },
      (message) => deps.logger.warn(message),
    );
  } else {
    for (const skill of orchestratorElsewhereSkills()) skills.replace(skill);
  }

  const dialogue = new DialogueManager({
    nlu,
    skills,
    policy,
    catalog,
    logger: deps.logger,
    interceptors: orchestrator
      ? [
          createApprovalCommands(orchestrator.service),
          createCancelRunCommand({
            orchestrator: orchestrator.service,
            rolesAllow: (roles, permission) => policy.rolesAllow(roles, permission),
          }),
        ]
      : [],
  });
  const assistant = new Assistant({
    dialogue,
    sessions,
    logger: deps.logger,
    metrics: deps.metrics,
    firewall,
  });

  return {
    config,
    configFile: loaded.file,
    catalog,
    policy,
    skills,
    sessions,
    assistant,
    components,
    addComponent: (component) => void components.push(component),
    knowledge,
    platforms,
    metrics: metricsSource.source,
    eventBus,
    orchestrator,
    ...(alerts ? { alerts } : {}),
    audit,
    firewall,
    ...(quality ? { quality } : {}),
    ...(scaler ? { scaler } : {}),
    ...(alerting ? { alerting } : {}),
    ...(maintenance ? { maintenance } : {}),
    async start() {
      await built.start();
      metricsSource.start();
      await eventBus?.start();
      threadReporter?.start();
      await orchestrator?.start();
      scheduler?.start();
      scaler?.scaler.start();
      maintenance?.start();
    },
    dedup,
    records: recordsNamed,
    notifier,
    refreshKnowledge: () => knowledge.refresh(knowledgeSources, configDir),
    async close() {
      await predictorsLoaded;
      await Promise.all([
        sessions.close(),
        dedup.close(),
        predictors?.close(),
        metricsSource.source.close?.(),
        built.close(),
        (async () => {
          // Runs stop before the bus they publish to and the audit log they write.
          scheduler?.stop();
          await Promise.all([scaler?.close(), maintenance?.stop(), releasePrediction?.()]);
          await orchestrator?.close();
          await Promise.all([history?.close(), risk?.close(), threadReporter?.stop()]);
          await eventBus?.close();
          await hashChainedAudit?.close();
        })(),
      ]);
      // Last: the stores above may still be using the connection.
      if (redis) await closeRedisClient(redis);
    },
  };
}

/** Paths in the configuration are relative to the file they are written in. */
export function configDirOf(loaded: LoadedConfig): string {
  return existsSync(loaded.file) ? path.dirname(loaded.file) : process.cwd();
}

export function createEmbeddingProvider(config: OpsbotConfig, configDir: string): EmbeddingProvider {
  const embeddings = config.knowledge.embeddings;
  if (embeddings.provider === 'transformers') {
    return new TransformersEmbeddingProvider({
      model: embeddings.model,
      localModelPath: embeddings.localModelPath
        ? path.resolve(configDir, embeddings.localModelPath)
        : undefined,
      allowRemoteModels: embeddings.allowRemoteModels,
    });
  }
  return new UseLiteEmbeddingProvider();
}

/** Every run transition on the bus as `ops.saga.step.succeeded`, `ops.runbook.awaiting_approval`, … */
function publishTransitions(orchestrator: BuiltOrchestrator, eventBus: BuiltEventBus, logger: Logger): void {
  orchestrator.service.onTransition(({ type, run, step }) => {
    if (type === 'lease_renewed') return;
    void eventBus.bus
      .publish({
        type: `ops.${run.kind}.${type}`,
        source: 'opsbot/orchestrator',
        subject: run.id,
        correlationid: run.correlationId,
        data: {
          runId: run.id,
          definition: run.definitionId,
          status: run.status,
          actor: run.actor,
          ...(step
            ? { step: { id: step.id, status: step.status, attempts: step.attempts, error: step.error } }
            : {}),
          ...(run.error ? { error: run.error } : {}),
        },
      })
      .catch((err: unknown) =>
        logger.warn({ err, runId: run.id, type }, 'could not publish a run transition'),
      );
  });
}

/**
 * The failure model, loaded in the background: the first runs after start-up go unscored rather than wait,
 * and a missing or stale model turns prediction off with a warning instead of stopping opsbot.
 */
function lazyRiskAssessor(
  config: OpsbotConfig,
  configDir: string,
  sources: { metrics: MetricsSource; outcomes: FileExecutionHistory },
  logger: Logger,
): RiskAssessor & { close(): Promise<void> } {
  const file = path.resolve(configDir, config.orchestrator.prediction.model);
  let loaded: OnnxRiskAssessor | undefined;
  let description = `loading ${config.orchestrator.prediction.model}`;
  const loading = (async () => {
    try {
      loaded = await OnnxRiskAssessor.load(file, {
        features: new RunFeatureExtractor(sources),
        thresholds: config.orchestrator.prediction,
      });
      description = `failure prediction ${loaded.description}`;
    } catch (err) {
      description = `failure prediction off: ${(err as Error).message}`;
      logger.warn({ err }, 'failure prediction is off');
    }
  })();
  return {
    get description() {
      return description;
    },
    assess: (question: RiskQuestion) => (loaded ? loaded.assess(question) : Promise.resolve(undefined)),
    async close() {
      await loading;
      await loaded?.release();
    },
  };
}
