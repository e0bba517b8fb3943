import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { HttpHealthProbe } from '../../adapters/http/http-health-probe';
import { LocalDriver } from '../../adapters/platform/local-driver';
import { ServiceCatalog } from '../../bot/config/catalog';
import { parseConfig } from '../../bot/config/load';
import { createLogger } from '../../bot/core/logger';
import { packageRoot } from '../../bot/core/package-root';
import { FileRecordStore } from '../../bot/core/record-store';
import { Notifier } from '../../bot/notify/notifier';
import { Platforms } from '../../bot/platform/platforms';
import { planReply } from '../../bot/skills/plan-reply';
import { demoServiceSpecs } from '../../demo/demo-fleet';
import { SERVICE_NAMES } from '../../demo/fleet/service-names';
import { HashChainedAuditLog } from '../../engines/audit/hash-chained-audit-log';
import { buildMaintenanceController } from '../../engines/maintenance/build-maintenance-controller';
import type {
  MaintenanceController,
  MaintenanceControllerDeps,
  MaintenanceSettings,
} from '../../engines/maintenance/maintenance-controller';
import { createStandardActions } from '../../engines/orchestrator/actions/standard-actions';
import { AlertRouter, type AlertThreadRecord } from '../../engines/orchestrator/alerts/alert-router';
import { buildOrchestrator, type BuiltOrchestrator } from '../../engines/orchestrator/build-orchestrator';
import { freePort, tempDir } from '../bench-support';

/** How long a restart may take to verify, as platform.verifyTimeoutSeconds. */
const VERIFY_TIMEOUT_MS = 20_000;

/** The demo fleet healing itself, in this process: what the bench measures and the self-healing test checks. */
export interface SelfHealingFleet {
  driver: LocalDriver;
  orchestrator: BuiltOrchestrator;
  audit: HashChainedAuditLog;
  auditFile: string;
  /** Not started: the bench measures the fleet without it first. */
  controller: MaintenanceController;
  close(): Promise<void>;
}

/**
 * The eight demo services as real processes under the local driver, on free ports (the shipped 7101-7108 may
 * be a running demo's), the orchestrator with the shipped runbooks and the hash-chained audit log, the alert
 * router, and the maintenance controller raising its alerts through it: the same parts the server wires.
 */
export async function startSelfHealingFleet(
  settings: MaintenanceSettings,
  options: {
    /** Run and watch only these demo services; all eight unless given. */
    services?: readonly string[];
    suppressedBy?: MaintenanceControllerDeps['suppressedBy'];
    /** Runbooks from here instead of the shipped ones (a self-heal runbook with another policy). */
    runbooksDir?: string;
  } = {},
): Promise<SelfHealingFleet> {
  const root = packageRoot();
  const { dir: stateDir, remove } = tempDir('opsbot-bench-maintenance-');
  const raw = parse(readFileSync(path.join(root, 'opsbot.config.yaml'), 'utf8')) as Record<
    string,
    unknown
  > & {
    services: Record<string, { environments: Record<string, unknown> }>;
  };
  for (const name of SERVICE_NAMES) {
    const service = raw.services[name] as { environments: Record<string, unknown> };
    service.environments.production = { healthUrl: `http://127.0.0.1:${await freePort()}/health` };
  }
  raw.demo = { enabled: true, load: { enabled: false } };
  raw.stateDir = stateDir;
  raw.knowledge = { autoBuild: false };
  if (options.runbooksDir) {
    raw.orchestrator = { ...(raw.orchestrator as object), runbooksDir: options.runbooksDir };
  }
  const config = parseConfig(stringify(raw), 'bench:maintenance config');
  const logger = createLogger('silent');
  const catalog = new ServiceCatalog(config);

  const only = options.services;
  const driver = new LocalDriver(
    demoServiceSpecs(config).filter((spec) => !only || only.includes(spec.name)),
  );
  await driver.start();
  const notifier = new Notifier();
  const auditFile = path.join(stateDir, 'audit.log');
  const audit = new HashChainedAuditLog({ file: auditFile });
  const orchestrator = buildOrchestrator(config, {
    configDir: root,
    stateDir,
    actions: createStandardActions({
      catalog,
      platforms: new Platforms({ production: driver }),
      probe: new HttpHealthProbe(config.health.timeoutMs, 0),
      metrics: {
        description: 'none',
        query: () => Promise.reject(new Error('bench:maintenance reads no metrics')),
      },
      notifier,
      shell: config.orchestrator.shell,
      verifyTimeoutMs: VERIFY_TIMEOUT_MS,
    }),
    audit,
    logger,
  });
  await orchestrator.start();
  const router = new AlertRouter({
    orchestrator: orchestrator.service,
    notifier,
    renderPlan: planReply,
    threads: new FileRecordStore<AlertThreadRecord>(stateDir, 'alert-threads'),
    logger,
  });
  const controller = buildMaintenanceController(
    { ...settings, environments: ['production'], ...(only ? { services: only } : {}) },
    {
      catalog,
      raise: (alerts) => router.route(alerts),
      ...(options.suppressedBy ? { suppressedBy: options.suppressedBy } : {}),
      logger,
    },
  );
  return {
    driver,
    orchestrator,
    audit,
    auditFile,
    controller,
    async close() {
      await controller.stop();
      await orchestrator.close();
      await audit.close();
      await driver.close();
      remove();
    },
  };
}
