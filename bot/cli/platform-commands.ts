import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { ServiceCatalog } from '../config/catalog';
import { loadConfig } from '../config/load';
import { ENVIRONMENTS, type EnvironmentName } from '../config/schema';
import { createLogger } from '../core/logger';
import { buildPlatforms } from '../platform/build-platforms';
import type { PlatformDriver } from '../platform/platform-driver';
import { configDirOf } from '../runtime';
import { UsageError } from './exit';

const STDERR = 2;

function replicaCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number, 0 or more');
  return n;
}

function lineCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new InvalidArgumentError('must be a whole number from 1 to 10000');
  return n;
}

interface Target {
  driver: PlatformDriver;
  service: string;
  environment: EnvironmentName;
  catalog: ServiceCatalog;
  close(): Promise<void>;
}

/**
 * The environment's driver, built as the server builds it, and the catalog name of `service`. The local
 * driver's processes belong to the server that started them, so this process cannot reach them.
 */
function target(service: string | undefined, options: { environment?: string }): Target {
  const loaded = loadConfig();
  const { config } = loaded;
  const catalog = new ServiceCatalog(config);
  const environment = options.environment
    ? catalog.resolveEnvironment(options.environment)
    : catalog.defaultEnvironment;
  if (!environment) {
    throw new UsageError(
      `--environment: "${options.environment}" is not one of ${ENVIRONMENTS.join(', ')} or their aliases`,
    );
  }
  const built = buildPlatforms(config, configDirOf(loaded), createLogger('warn', STDERR), {
    runsLocal: false,
  });
  const driver = built.platforms.driver(environment);
  if (!driver) {
    throw new UsageError(
      `no platform driver is configured for ${environment} (platform.environments in ${loaded.file})`,
    );
  }
  let name = '';
  if (service !== undefined) {
    const resolved = catalog.resolveService(service);
    if (!resolved) throw new UsageError(`"${service}" is not a service in the catalog`);
    name = resolved;
  }
  return { driver, service: name, environment, catalog, close: () => built.close() };
}

/** Runs one driver call and prints its result: as JSON with --json, else as `text` renders it. */
async function withTarget<R>(
  service: string | undefined,
  options: { environment?: string; json?: boolean },
  act: (t: Target) => Promise<R>,
  text: (result: R) => string,
): Promise<void> {
  const t = target(service, options);
  try {
    const result = await act(t);
    process.stdout.write(`${options.json ? JSON.stringify(result) : text(result)}\n`);
  } finally {
    await t.close();
  }
}

/** `opsbot platform …`: the platform drivers from a terminal, for the person who holds the configuration. */
export function registerPlatformCommands(program: Command): void {
  const platform = program
    .command('platform')
    .description('read and change services through the configured platform driver (kubernetes, command)');
  const env = ['-e, --environment <name>', 'environment (default: the catalog default)'] as const;

  platform
    .command('list')
    .description('services the driver sees')
    .option(...env)
    .option('--json', 'print a JSON array')
    .action((options: { environment?: string; json?: boolean }) =>
      withTarget(
        undefined,
        options,
        (t) => t.driver.list(),
        (names) => names.join('\n'),
      ),
    );

  platform
    .command('status')
    .description('state, replicas and instances of a service')
    .argument('<service>')
    .option(...env)
    .option('--json', 'print the status as JSON')
    .action((service: string, options: { environment?: string; json?: boolean }) =>
      withTarget(
        service,
        options,
        (t) => t.driver.status(t.service),
        (s) =>
          [
            `${s.service}: ${s.state}${s.replicas ? `, ${s.replicas.ready}/${s.replicas.desired} replicas ready` : ''}${s.detail ? ` (${s.detail})` : ''}`,
            ...(s.instances ?? []).map(
              (i) => `  ${i.id} ${i.state}${i.pid !== undefined ? ` pid ${i.pid}` : ''}`,
            ),
          ].join('\n'),
      ),
    );

  platform
    .command('restart')
    .description('restart a service (a rollout restart on Kubernetes)')
    .argument('<service>')
    .option(...env)
    .option('--json', 'print {"restarted": service} as JSON')
    .action((service: string, options: { environment?: string; json?: boolean }) =>
      withTarget(
        service,
        options,
        async (t) => {
          await t.driver.restart(t.service);
          return { restarted: t.service, environment: t.environment };
        },
        (r) => `restart of ${r.restarted} accepted`,
      ),
    );

  platform
    .command('scale')
    .description("set a service's replicas, within the catalog's min and max")
    .argument('<service>')
    .argument('<replicas>', 'replica count', replicaCount)
    .option(...env)
    .option('--json', 'print {"scaled", "replicas"} as JSON')
    .action((service: string, replicas: number, options: { environment?: string; json?: boolean }) =>
      withTarget(
        service,
        options,
        async (t) => {
          const limits = t.catalog.get(t.service)?.replicas;
          if (limits && (replicas < limits.min || replicas > limits.max)) {
            throw new UsageError(`${t.service} allows ${limits.min}–${limits.max} replicas, not ${replicas}`);
          }
          await t.driver.scale(t.service, replicas);
          return { scaled: t.service, replicas, environment: t.environment };
        },
        (r) => `scale of ${r.scaled} to ${r.replicas} accepted`,
      ),
    );

  platform
    .command('events')
    .description('recent platform events of a service')
    .argument('<service>')
    .option(...env)
    .option('-n, --limit <count>', 'how many', lineCount, 20)
    .option('--json', 'print a JSON array of events')
    .action((service: string, options: { environment?: string; json?: boolean; limit: number }) =>
      withTarget(
        service,
        options,
        (t) => t.driver.events(t.service, options.limit),
        (events) =>
          events
            .map((e) => `${e.time} ${e.type === 'warning' ? 'WARN' : 'info'} ${e.reason}: ${e.message}`)
            .join('\n'),
      ),
    );

  platform
    .command('logs')
    .description('the last lines a service logged')
    .argument('<service>')
    .option(...env)
    .option('-n, --lines <count>', 'how many', lineCount, 50)
    .option('--json', 'print a JSON array of lines')
    .action((service: string, options: { environment?: string; json?: boolean; lines: number }) =>
      withTarget(
        service,
        options,
        (t) => t.driver.logs(t.service, options.lines),
        (lines) => lines.join('\n'),
      ),
    );
}
