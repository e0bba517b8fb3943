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
  /** From the start of verification to the check that passed, or to giving up. */
  ms: number;
  /** Why it is not verified yet, in words: "1/3 replicas ready", "health check: connection refused". */
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
  const started = performance.now();
  let last: { status: ServiceStatus; problem?: string } = {
    status: { service, state: 'unknown' },
    problem: 'not checked yet',
  };
  for (;;) {
    last = await check(driver, service, expected, options.probe);
    const ms = Math.round(performance.now() - started);
    if (!last.problem) return { verified: true, status: last.status, ms };
    if (ms >= options.timeoutMs) return { verified: false, status: last.status, ms, problem: last.problem };
    await new Promise((resolve) => setTimeout(resolve, VERIFY_POLL_MS));
  }
}

async function check(
  driver: PlatformDriver,
  service: string,
  expected: RolloutExpectation,
  probe: HealthProbe,
): Promise<{ status: ServiceStatus; problem?: string }> {
  let status: ServiceStatus;
  try {
    status = await driver.status(service);
  } catch (err) {
    return { status: { service, state: 'unknown' }, problem: (err as Error).message };
  }
  const ready = status.instances
    ? status.instances.filter((i) => i.state === 'ready').length
    : (status.replicas?.ready ?? (status.state === 'running' ? expected.replicas : 0));
  if (ready !== expected.replicas) {
    return { status, problem: `${ready}/${expected.replicas} replicas ready` };
  }
  const stale = status.instances?.filter((i) => i.state === 'ready' && expected.replaced?.has(i.id)) ?? [];
  if (stale.length > 0) {
    return { status, problem: `${stale.length} replica${stale.length === 1 ? '' : 's'} not replaced yet` };
  }
  if (expected.healthUrl && expected.replicas > 0) {
    const health = await probe.check(expected.healthUrl);
    if (health.state !== 'ok') return { status, problem: `health check: ${health.detail}` };
  }
  return { status };
}
