import path from 'node:path';
import type Redis from 'ioredis';
import { RedisRunStore } from '../../adapters/redis/redis-run-store';
import { closeRedisClient, createRedisClient } from '../../adapters/redis/redis-client';
import type { OpsbotConfig } from '../../bot/config/schema';
import type { AuditTrail } from '../../bot/core/audit-trail';
import type { Component } from '../../bot/core/health';
import type { Logger } from '../../bot/core/logger';
import type { ActionRegistry } from './action';
import { DefinitionCatalog } from './definition-catalog';
import { FileRunStore } from './file-run-store';
import { OrchestratorService } from './orchestrator-service';
import type { ExecutionHistory, RiskAssessor } from './risk';
import type { RunStore } from './run-store';

export interface BuiltOrchestrator {
  service: OrchestratorService;
  definitions: DefinitionCatalog;
  store: RunStore;
  component: Component;
  /** Resumes runs a previous process left, then keeps approvals and leases. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface OrchestratorDeps {
  configDir: string;
  stateDir: string;
  actions: ActionRegistry;
  audit: AuditTrail;
  logger: Logger;
  /** Redis URL from sessions when orchestrator.redisUrl is not set. */
  sessionsRedisUrl?: string;
  history?: ExecutionHistory;
  risk?: RiskAssessor;
  rolesAllow?: (roles: readonly string[], permission: string) => boolean;
}

/** The orchestrator with its store chosen by configuration: a journal under stateDir, or Redis. */
export function buildOrchestrator(config: OpsbotConfig, deps: OrchestratorDeps): BuiltOrchestrator {
  const settings = config.orchestrator;
  let redis: Redis | undefined;
  let store: RunStore;
  if (settings.store === 'redis') {
    const url = settings.redisUrl ?? deps.sessionsRedisUrl;
    if (!url)
      throw new Error(
        'orchestrator.store is redis but no Redis URL is set (orchestrator.redisUrl or REDIS_URL)',
      );
    redis = createRedisClient(url);
    store = new RedisRunStore(redis, settings.keyPrefix, settings.keepFinishedRuns);
  } else {
    store = new FileRunStore(path.join(deps.stateDir, 'orchestrator'), {
      keepFinished: settings.keepFinishedRuns,
    });
  }
  const definitions = new DefinitionCatalog({
    runbooksDir: path.resolve(deps.configDir, settings.runbooksDir),
    sagasDir: path.resolve(deps.configDir, settings.sagasDir),
    relativeTo: deps.configDir,
    actions: deps.actions,
    logger: deps.logger,
  });
  const service = new OrchestratorService({
    store,
    actions: deps.actions,
    definitions: () => definitions.all(),
    audit: deps.audit,
    logger: deps.logger,
    history: deps.history,
    risk: deps.risk,
    rolesAllow: deps.rolesAllow,
  });
  return {
    service,
    definitions,
    store,
    component: {
      name: 'orchestrator',
      requiredForReadiness: false,
      async check() {
        const { runbooks, runnable, sagas, problems } = definitions.summary();
        const detail = `${runbooks} runbooks (${runnable} with steps), ${sagas} sagas, ${service.activeRuns} running here; store ${store.kind}; ${deps.risk ? deps.risk.description : 'failure prediction off'}`;
        return problems > 0
          ? { state: 'warning', detail: `${detail}; ${problems} definition errors (opsbot runbooks lint)` }
          : { state: 'ok', detail };
      },
    },
    start: () => service.startBackgroundWork(),
    async close() {
      await service.close();
      await store.close();
      if (redis) await closeRedisClient(redis);
    },
  };
}
