import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { OpsbotConfig } from '../bot/config/schema';
import { packageRoot } from '../bot/core/package-root';
import type { LocalServiceSpec } from '../adapters/platform/local-driver';

/** How long the load generator gets to stop after SIGTERM before it is killed. */
const LOAD_GENERATOR_STOP_MS = 3000;

/** The compiled entry points: the demo always runs the built JavaScript, whether opsbot runs from dist or tests. */
function builtEntry(file: string): string {
  return path.join(packageRoot(), 'dist', 'demo', 'fleet', file);
}

/**
 * The demo fleet as local-driver specs: every catalog service whose health URL in the demo environment is a
 * loopback address runs the demo service on that URL's port. Services the local driver's own config lists
 * keep their command.
 */
export function demoServiceSpecs(config: OpsbotConfig): LocalServiceSpec[] {
  const env = config.demo.environment;
  const driver = config.platform.environments[env];
  const explicit = driver?.driver === 'local' ? driver.services : {};
  const specs: LocalServiceSpec[] = [];
  for (const [name, service] of Object.entries(config.services)) {
    if (name in explicit) continue;
    const healthUrl = service.environments[env]?.healthUrl;
    if (!healthUrl) continue;
    const url = new URL(healthUrl);
    if (!isLoopback(url.hostname)) continue;
    specs.push({
      name,
      command: [process.execPath, builtEntry('demo-service-main.js')],
      host: url.hostname,
      port: Number(url.port || 80),
      healthPath: url.pathname,
      env: { DEMO_CAPACITY_RPS: String(config.demo.capacityRps) },
      replicas: Math.max(1, service.replicas.min),
    });
  }
  return specs;
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1';
}

/** The demo's load generator, a process of its own so that its work never counts as opsbot's. */
export class LoadGeneratorProcess {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(options: {
    targets: Record<string, string>;
    ratePerSecond: number;
    dayLengthSeconds: number;
    seed: number;
  }) {
    this.child = spawn(process.execPath, [builtEntry('load-generator-main.js')], {
      env: {
        ...process.env,
        LOAD_TARGETS: JSON.stringify(options.targets),
        LOAD_RATE: String(options.ratePerSecond),
        LOAD_DAY_SECONDS: String(options.dayLengthSeconds),
        LOAD_SEED: String(options.seed),
      },
      // Its once-a-second stats lines are for people running it by hand; opsbot reads the services' own metrics.
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    // opsbot exiting without stop() (a crash, a test runner) must not leave load running against nothing.
    const killOnExit = () => this.child.kill('SIGKILL');
    process.once('exit', killOnExit);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', () => {
        process.removeListener('exit', killOnExit);
        resolve();
      }),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), LOAD_GENERATOR_STOP_MS);
    await this.exited;
    clearTimeout(timer);
  }
}
