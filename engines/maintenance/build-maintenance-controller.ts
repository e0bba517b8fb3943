import { createHealthCheck, type HealthCheckDefaults } from '../../adapters/health/create-health-check';
import type { ServiceCatalog } from '../../bot/config/catalog';
import type { EnvironmentName } from '../../bot/config/schema';
import type { Component } from '../../bot/core/health';
import type { Logger } from '../../bot/core/logger';
import { serviceCheckSpecs } from './check-specs';
import type { Clock } from './clock';
import { HealthHistory } from './health-history';
import {
  MaintenanceController,
  type MaintenanceControllerDeps,
  type MaintenanceSettings,
  type WatchTarget,
} from './maintenance-controller';

/** How long a check may take when its spec gives no timeout: one interval at the 1 s default. */
export const DEFAULT_CHECK_TIMEOUT_MS = 1_000;

export interface MaintenanceWatchSettings extends MaintenanceSettings {
  /** The environments watched: there, every catalog service with a health URL or checks is. */
  environments: readonly EnvironmentName[];
  /** Only these services; every catalog service when left out. */
  services?: readonly string[];
  /** For checks that give no timeout of their own. */
  checkTimeoutMs?: number;
  /** Rounds of check results kept per service and environment (an hour's at 1 s by default). */
  historyRounds?: number;
}

export interface MaintenanceWatchDeps extends Pick<MaintenanceControllerDeps, 'raise' | 'suppressedBy'> {
  catalog: ServiceCatalog;
  logger: Logger;
  /** The metrics source's Prometheus, for query checks that name no URL. */
  prometheus?: HealthCheckDefaults['prometheus'];
  clock?: Clock;
}

/** The watch targets of the catalog: each service's checks in each watched environment it runs in. */
export function watchTargets(
  catalog: ServiceCatalog,
  settings: Pick<MaintenanceWatchSettings, 'environments' | 'services' | 'checkTimeoutMs'>,
  prometheus?: HealthCheckDefaults['prometheus'],
): WatchTarget[] {
  const defaults: HealthCheckDefaults = {
    timeoutMs: settings.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS,
    ...(prometheus ? { prometheus } : {}),
  };
  const only = settings.services && new Set(settings.services);
  const targets: WatchTarget[] = [];
  for (const service of catalog.list()) {
    if (only && !only.has(service.name)) continue;
    for (const environment of settings.environments) {
      const specs = serviceCheckSpecs(service.environments[environment]);
      if (specs.length === 0) continue;
      targets.push({
        service: service.name,
        environment,
        checks: specs.map((spec) => createHealthCheck(spec, defaults)),
      });
    }
  }
  return targets;
}

/** The maintenance controller over the catalog's services, with the protocol checks from adapters/health. */
export function buildMaintenanceController(
  settings: MaintenanceWatchSettings,
  deps: MaintenanceWatchDeps,
): MaintenanceController {
  return new MaintenanceController(
    {
      targets: watchTargets(deps.catalog, settings, deps.prometheus),
      raise: deps.raise,
      ...(deps.suppressedBy ? { suppressedBy: deps.suppressedBy } : {}),
      logger: deps.logger,
      history: new HealthHistory(settings.historyRounds),
      ...(deps.clock ? { clock: deps.clock } : {}),
    },
    settings,
  );
}

/** The controller in /readyz and "system status": a warning while a service is failing or being healed. */
export function maintenanceComponent(controller: MaintenanceController): Component {
  return {
    name: 'maintenance controller',
    requiredForReadiness: false,
    check: async () => ({
      state: controller.troubled() ? 'warning' : 'ok',
      detail: controller.describe(),
    }),
  };
}
