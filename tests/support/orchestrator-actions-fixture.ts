import { ServiceCatalog } from '../../bot/config/catalog';
import type { HealthProbe } from '../../bot/core/health';
import type { MetricsSource } from '../../bot/metrics/metrics-source';
import { Notifier } from '../../bot/notify/notifier';
import type { Platforms } from '../../bot/platform/platforms';
import type { ActionRegistry } from '../../engines/orchestrator/action';
import { createStandardActions } from '../../engines/orchestrator/actions/standard-actions';
import { testConfig } from './runtime';

/** A dependency no lint or parse may touch: reading it means a step would have run. */
function untouchable<T>(name: string): T {
  return new Proxy(
    {},
    {
      get(_target, property) {
        throw new Error(`${name}.${String(property)} was used: lint and parsing never run a step`);
      },
    },
  ) as T;
}

/**
 * The registry's real actions as lint and the parsers see them: names, input schemas and whether they mutate
 * (`approval` is the executor's own, not a registry action). Their dependencies are inert: nothing here runs.
 */
export function fixtureActions(): ActionRegistry {
  return createStandardActions({
    catalog: new ServiceCatalog(testConfig()),
    platforms: untouchable<Platforms>('platforms'),
    probe: untouchable<HealthProbe>('probe'),
    metrics: untouchable<MetricsSource>('metrics'),
    notifier: new Notifier(),
    publish: () => Promise.reject(new Error('lint and parsing never publish')),
    shell: { enabled: false, allow: [] },
    verifyTimeoutMs: 1000,
  });
}
