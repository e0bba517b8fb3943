import type { ServiceCatalog } from '../../../bot/config/catalog';
import type { HealthProbe } from '../../../bot/core/health';
import type { MetricsSource } from '../../../bot/metrics/metrics-source';
import type { Notifier } from '../../../bot/notify/notifier';
import type { Platforms } from '../../../bot/platform/platforms';
import { ActionRegistry } from '../action';
import { createEventAction, type PublishEvent } from './event-action';
import { createHttpAction } from './http-action';
import { createNotifyAction } from './notify-action';
import { createQueryAction } from './query-action';
import { createRestartAction } from './restart-action';
import { createScaleAction } from './scale-action';
import { createShellAction, type ShellSettings } from './shell-action';
import { createWaitAction } from './wait-action';

export interface StandardActionDeps {
  catalog: ServiceCatalog;
  platforms: Platforms;
  /**
   * Checks health URLs for verification and waits. Construct it uncached (`new HttpHealthProbe(timeoutMs, 0)`):
   * a cached answer from before a restart would verify the restart.
   */
  probe: HealthProbe;
  metrics: MetricsSource;
  notifier: Notifier;
  /** The event bus's `publish`; without it there is no `event` action (no bus in this build). */
  publish?: PublishEvent;
  /** orchestrator.shell from the configuration. */
  shell: ShellSettings;
  /** platform.verifyTimeoutSeconds in milliseconds: how long a restart or scale may take to verify. */
  verifyTimeoutMs: number;
  /** For the http action; the global fetch when left out. */
  fetch?: typeof fetch;
}

/**
 * The actions workflows are written with: http, event, query, restart, scale, wait, notify and shell. Shell
 * is registered even when disabled, refusing to run, so lint knows the name and says why it would not run.
 * Every one of them, stopped by its signal, rejects with the signal's reason.
 */
export function createStandardActions(deps: StandardActionDeps): ActionRegistry {
  const registry = new ActionRegistry()
    .register(createHttpAction({ catalog: deps.catalog, fetch: deps.fetch }))
    .register(createQueryAction({ catalog: deps.catalog, metrics: deps.metrics }))
    .register(createRestartAction(deps))
    .register(createScaleAction(deps))
    .register(createWaitAction({ catalog: deps.catalog, probe: deps.probe, metrics: deps.metrics }))
    .register(createNotifyAction({ notifier: deps.notifier }))
    .register(createShellAction(deps.shell));
  if (deps.publish) registry.register(createEventAction({ publish: deps.publish }));
  return registry;
}
