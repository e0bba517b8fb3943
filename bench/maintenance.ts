/**
 * npm run bench:maintenance — the maintenance controller watching the eight-service demo fleet at 1 s, with
 * everything real and in this process (services as local processes under the local driver, the orchestrator
 * with the shipped runbooks, the alert router):
 *   1. controller CPU: this process's CPU (process.cpuUsage: user + system, every thread) over a window with
 *      the fleet idle and no controller, then over the same window with the controller watching all eight
 *      services at 1 s and no faults; the difference is the controller's, per core and per round;
 *   2. self-healing: 20 crashes, one at a time, spread over the services in turn, each at a random point of
 *      the controller's interval — a replica SIGKILLed, then the time to the controller's `failing` transition
 *      (detection) and to its `healthy` one after the service-self-heal run restarted and verified it (MTTR);
 *      p50/p95/max. Targets: detection p95 < 5 s, MTTR p95 < 15 s.
 * The CPU includes what the local driver's front proxies spend on the health requests: they run in this
 * process, as they do in `opsbot demo`.
 * Options: --crashes <n> (20), --cpu-seconds <s> (60).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from '../bot/cli/script-args';
import { seededRandom } from '../bot/core/seeded-random';
import { SERVICE_NAMES } from '../demo/fleet/service-names';
import type { WatchState, WatchTransition } from '../engines/maintenance/maintenance-controller';
import { machineLine, ms, percentile, seconds } from './bench-support';
import { type SelfHealingFleet, startSelfHealingFleet } from './maintenance/self-healing-fleet';

const INTERVAL_MS = 1_000;
const DETECTION_TARGET_MS = 5_000;
const MTTR_TARGET_MS = 15_000;
/** A crash not healed in this long is counted as not healed, and the bench goes on to the next. */
const HEAL_TIMEOUT_MS = 60_000;
/** Between a heal and the next crash: the healed service's first rounds are not the next one's. */
const SETTLE_MS = 1_000;
/**
 * Each crash also waits a random part of an interval more, seeded so runs compare: the services' rounds keep
 * a fixed phase, and crashes at a fixed delay after a heal would always land at the same point of the next
 * service's round, biasing detection.
 */
const CRASH_PHASE_SEED = 10;
const FLEET_READY_TIMEOUT_MS = 20_000;

interface Crash {
  service: string;
  detectionMs?: number;
  mttrMs?: number;
  runStatus?: string;
}

async function main(): Promise<void> {
  const args = parseArgs('bench:maintenance', { crashes: 'number', 'cpu-seconds': 'number' });
  const crashes = Math.round(args.crashes ?? 20);
  const cpuSeconds = args['cpu-seconds'] ?? 60;

  console.log(`bench:maintenance — ${machineLine()}`);
  const fleet = await startSelfHealingFleet({ intervalMs: INTERVAL_MS });
  const transitions: WatchTransition[] = [];
  fleet.controller.onTransition((t) => transitions.push(t));
  try {
    const idle = await cpuOver(cpuSeconds * 1000);
    fleet.controller.start();
    await waitFor(
      () => fleet.controller.status().every((s) => s.state === 'healthy'),
      FLEET_READY_TIMEOUT_MS,
      'every service to be healthy',
    );
    const roundsBefore = rounds(fleet);
    const watching = await cpuOver(cpuSeconds * 1000);
    const roundsRun = rounds(fleet) - roundsBefore;
    reportCpu(idle, watching, roundsRun, cpuSeconds);

    const results: Crash[] = [];
    const phase = seededRandom(CRASH_PHASE_SEED);
    for (let i = 0; i < crashes; i++) {
      await delay(SETTLE_MS + phase() * INTERVAL_MS);
      const service = SERVICE_NAMES[i % SERVICE_NAMES.length] as string;
      results.push(await crashAndHeal(fleet, transitions, service));
    }
    reportCrashes(results);
  } finally {
    await fleet.close();
  }
}

/** This process's CPU, in ms, over `windowMs` of wall time. */
async function cpuOver(windowMs: number): Promise<{ cpuMs: number; wallMs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await delay(windowMs);
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - started };
}

function rounds(fleet: SelfHealingFleet): number {
  return fleet.controller.status().reduce((sum, s) => sum + s.rounds, 0);
}

function reportCpu(
  idle: { cpuMs: number; wallMs: number },
  watching: { cpuMs: number; wallMs: number },
  roundsRun: number,
  cpuSeconds: number,
): void {
  const percent = (w: { cpuMs: number; wallMs: number }) => (w.cpuMs / w.wallMs) * 100;
  const controllerPercent = percent(watching) - percent(idle);
  const controllerMs = (controllerPercent / 100) * watching.wallMs;
  const services = SERVICE_NAMES.length;
  console.log(
    `cpu, fleet idle without the controller (local driver supervising ${services} services): ` +
      `${percent(idle).toFixed(2)}% of one core over ${seconds(idle.wallMs / 1000)}`,
  );
  console.log(
    `cpu, controller watching ${services} services at ${INTERVAL_MS / 1000} s, no faults: ` +
      `${percent(watching).toFixed(2)}% of one core over ${seconds(watching.wallMs / 1000)} ` +
      `(${roundsRun} service rounds, ${(roundsRun / (cpuSeconds * services)).toFixed(2)} per service per second)`,
  );
  console.log(
    `cpu, the controller's share: ${controllerPercent.toFixed(2)}% of one core; ` +
      `${ms(controllerMs / roundsRun, 3)} CPU per service round, ${ms((controllerMs / roundsRun) * services)} per round of all ${services}`,
  );
}

/** SIGKILLs the service's replica and follows it until it is healthy again through the self-heal runbook. */
async function crashAndHeal(
  fleet: SelfHealingFleet,
  transitions: WatchTransition[],
  service: string,
): Promise<Crash> {
  const [replica] = (await fleet.driver.status(service)).instances ?? [];
  if (replica?.pid === undefined || replica.state !== 'ready') {
    throw new Error(`${service} has no ready replica to crash (${replica?.state ?? 'none'})`);
  }
  process.kill(replica.pid, 'SIGKILL');
  const killedAt = Date.now();
  const next = (to: WatchState) =>
    waitFor(
      () => transitions.find((t) => t.service === service && t.to === to && t.at >= killedAt),
      HEAL_TIMEOUT_MS,
      `${service} to become ${to}`,
    ).catch(() => undefined);
  const failing = await next('failing');
  const healing = failing && (await next('healing'));
  const runId = healing?.runIds?.[0];
  const run = runId
    ? await fleet.orchestrator.service.wait(runId, { timeoutMs: HEAL_TIMEOUT_MS })
    : undefined;
  const healthy = healing && (await next('healthy'));
  return {
    service,
    ...(failing ? { detectionMs: failing.at - killedAt } : {}),
    ...(healthy && run?.status === 'succeeded' ? { mttrMs: healthy.at - killedAt } : {}),
    ...(run ? { runStatus: run.status } : {}),
  };
}

function reportCrashes(results: readonly Crash[]): void {
  const figures = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return {
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      max: sorted.at(-1) ?? NaN,
    };
  };
  const detected = results.flatMap((r) => (r.detectionMs === undefined ? [] : [r.detectionMs]));
  const healed = results.flatMap((r) => (r.mttrMs === undefined ? [] : [r.mttrMs]));
  const detection = figures(detected);
  const mttr = figures(healed);
  const line = (what: string, f: { p50: number; p95: number; max: number }, count: number) =>
    `${what}: p50 ${seconds(f.p50 / 1000)}, p95 ${seconds(f.p95 / 1000)}, max ${seconds(f.max / 1000)} ` +
    `(${count} of ${results.length} crashes)`;
  console.log(line('detection (SIGKILL → failing)', detection, detected.length));
  console.log(line('MTTR (SIGKILL → healthy again through service-self-heal)', mttr, healed.length));
  const unhealed = results.filter((r) => r.mttrMs === undefined);
  if (unhealed.length > 0) {
    console.log(
      `not healed: ${unhealed.map((r) => `${r.service} (run ${r.runStatus ?? 'never started'})`).join(', ')}`,
    );
  }
  const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const allDetected = detected.length === results.length;
  const allHealed = healed.length === results.length;
  console.log(
    `targets: detection p95 < ${DETECTION_TARGET_MS / 1000} s ${met(allDetected && detection.p95 < DETECTION_TARGET_MS)}, ` +
      `MTTR p95 < ${MTTR_TARGET_MS / 1000} s ${met(allHealed && mttr.p95 < MTTR_TARGET_MS)}`,
  );
}

async function waitFor<T>(found: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = found();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await delay(20);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
