import path from 'node:path';
import { CommandDriver } from '../../adapters/platform/command-driver';
import { KubernetesDriver } from '../../adapters/platform/kubernetes-driver';
import { LocalDriver, type LocalServiceSpec } from '../../adapters/platform/local-driver';
import { demoServiceSpecs, LoadGeneratorProcess } from '../../demo/demo-fleet';
import type { EnvironmentName, OpsbotConfig, PlatformDriverConfig } from '../config/schema';
import type { Logger } from '../core/logger';
import { ErrorCode } from '../core/errors';
import { DriverError, type PlatformDriver, type ServiceStatus } from './platform-driver';
import { Platforms } from './platforms';

/** The platform drivers of a configuration, and the demo fleet when it is on. */
export interface BuiltPlatforms {
  platforms: Platforms;
  /** Local drivers by environment: their replicas' URLs are what the embedded metrics scraper reads. */
  local: Partial<Record<EnvironmentName, LocalDriver>>;
  /** Starts local processes (the demo fleet) and the demo's load generator; resolves once they are up. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `runsLocal: false` is for processes that only talk (a terminal chat, a CLI command) while a server runs the
 * local processes: their local environments get a driver that says where the processes are, rather than a
 * second fleet fighting the first for its ports.
 */
export function buildPlatforms(
  config: OpsbotConfig,
  configDir: string,
  logger: Logger,
  options: { runsLocal: boolean },
): BuiltPlatforms {
  const drivers: Partial<Record<EnvironmentName, PlatformDriver>> = {};
  const local: Partial<Record<EnvironmentName, LocalDriver>> = {};
  const configured = { ...config.platform.environments };
  // The demo runs under the local driver of its environment, declared or not.
  if (config.demo.enabled) configured[config.demo.environment] ??= { driver: 'local', services: {} };

  for (const [env, driverConfig] of Object.entries(configured) as [EnvironmentName, PlatformDriverConfig][]) {
    if (driverConfig.driver === 'local' && !options.runsLocal) {
      drivers[env] = new LocalProcessesElsewhere();
    } else if (driverConfig.driver === 'local') {
      const specs: LocalServiceSpec[] = Object.entries(driverConfig.services).map(([name, s]) => ({
        name,
        command: s.command as [string, ...string[]],
        port: s.port,
        healthPath: s.healthPath,
        env: s.env,
        cwd: s.cwd ? path.resolve(configDir, s.cwd) : configDir,
        replicas: s.replicas,
      }));
      if (config.demo.enabled && config.demo.environment === env) specs.push(...demoServiceSpecs(config));
      const driver = new LocalDriver(specs);
      drivers[env] = driver;
      local[env] = driver;
    } else if (driverConfig.driver === 'kubernetes') {
      drivers[env] = new KubernetesDriver({
        namespace: driverConfig.namespace,
        kubeconfig: driverConfig.kubeconfig ? path.resolve(configDir, driverConfig.kubeconfig) : undefined,
        context: driverConfig.context,
        labelSelector: driverConfig.labelSelector,
        workloads: driverConfig.workloads,
        timeoutMs: driverConfig.timeoutMs,
      });
    } else {
      drivers[env] = new CommandDriver(
        driverConfig.commands as ConstructorParameters<typeof CommandDriver>[0],
      );
    }
  }

  const platforms = new Platforms(drivers);
  let load: LoadGeneratorProcess | undefined;
  return {
    platforms,
    local,
    async start() {
      await Promise.all(Object.values(local).map((driver) => driver.start()));
      const demoDriver = local[config.demo.environment];
      const { load: loadConfig } = config.demo;
      if (config.demo.enabled && demoDriver && loadConfig.enabled && loadConfig.ratePerSecond > 0) {
        const targets = Object.fromEntries(
          demoServiceSpecs(config).map((spec) => [spec.name, demoDriver.frontUrl(spec.name)]),
        );
        load = new LoadGeneratorProcess({
          targets,
          ratePerSecond: loadConfig.ratePerSecond,
          dayLengthSeconds: loadConfig.dayLengthSeconds,
          seed: loadConfig.seed,
        });
        logger.info({ pid: load.pid, rate: loadConfig.ratePerSecond }, 'demo load generator started');
      }
    },
    async close() {
      await load?.stop();
      await platforms.close();
    },
  };
}

/** The local driver as seen from a process that did not start the local services. */
class LocalProcessesElsewhere implements PlatformDriver {
  readonly kind = 'local';

  private refuse(): never {
    throw new DriverError(
      ErrorCode.DriverFailed,
      'local services are run by the opsbot server that started them (opsbot serve or opsbot demo); ask that server, in its web chat or over its API',
    );
  }

  list = async (): Promise<string[]> => this.refuse();
  restart = async (): Promise<void> => this.refuse();
  scale = async (): Promise<void> => this.refuse();
  events = async () => [];
  logs = async () => [];

  async status(service: string): Promise<ServiceStatus> {
    return { service, state: 'unknown', detail: 'run by the opsbot server, not this process' };
  }
}
