import type { HealthProbe } from '../core/health';
import type { PlatformDriver, ServiceStatus } from './platform-driver';

/** How often a change is checked while opsbot waits for it to come good. */
export const VERIFY_POLL_MS = 250;

/** What a change should lead to: this many ready replicas, none of them one of the replaced instances. */
export interface RolloutExpectation {
  replicas: number;
  /** Instance ids from before a restart: verified only when none of them is still serving. */
  replaced?: ReadonlySet<string>;
  /** The service's health URL, which must answer healthy too (what users reach, not only what the platform says). */
  healthUrl?: string;
}

export interface RolloutVerification {
  verified: boolean;
  status: ServiceStatus;
  /** Replicas ready at the last check. */
  ready: number;
  /** Why it is not verified, in words: "1/3 replicas ready", "health check: connection refused". */
  problem?: string;
}

/**
 * Polls the platform (and the health URL) until the change shows, or `timeoutMs` passes. A driver error
 * while polling is a reason to keep polling (a pod list can fail mid-rollout), reported if it is the last.
 */
export async function verifyRollout(
  driver: PlatformDriver,
  service: string,
  expected: RolloutExpectation,
  options: { timeoutMs: number; probe: HealthProbe },
): Promise<RolloutVerification> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const result = await check(driver, service, expected, options.probe);
    if (!result.problem || performance.now() >= deadline) return { verified: !result.problem, ...result };
    await new Promise((resolve) => setTimeout(resolve, VERIFY_POLL_MS));
  }
}

/** Replicas the platform reports ready: counted from its instances when it lists them. */
function readyReplicas(status: ServiceStatus, expected: number): number {
  if (status.instances) return status.instances.filter((i) => i.state === 'ready').length;
  // A platform that only says "running" (a status command's exit code) is taken at its word.
  return status.replicas?.ready ?? (status.state === 'running' ? expected : 0);
}

async function check(
  driver: PlatformDriver,
  service: string,
  expected: RolloutExpectation,
  probe: HealthProbe,
): Promise<Omit<RolloutVerification, 'verified'>> {
  let status: ServiceStatus;
  try {
    status = await driver.status(service);
  } catch (err) {
    return { status: { service, state: 'unknown' }, ready: 0, problem: (err as Error).message };
  }
  const ready = readyReplicas(status, expected.replicas);
  if (ready !== expected.replicas) {
    return { status, ready, problem: `${ready}/${expected.replicas} replicas ready` };
  }
  const stale = status.instances?.filter((i) => i.state === 'ready' && expected.replaced?.has(i.id)) ?? [];
  if (stale.length > 0) {
    return {
      status,
      ready,
      problem: `${stale.length} replica${stale.length === 1 ? '' : 's'} not replaced yet`,
    };
  }
  if (expected.healthUrl && expected.replicas > 0) {
    const health = await probe.check(expected.healthUrl);
    if (health.state !== 'ok') return { status, ready, problem: `health check: ${health.detail}` };
  }
  return { status, ready };
}
