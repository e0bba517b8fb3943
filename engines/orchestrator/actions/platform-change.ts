import type { ServiceCatalog } from '../../../bot/config/catalog';
import type { HealthProbe } from '../../../bot/core/health';
import type { PlatformDriver, ServiceStatus } from '../../../bot/platform/platform-driver';
import type { Platforms } from '../../../bot/platform/platforms';
import {
  VERIFY_POLL_MS,
  verifyRollout,
  type RolloutExpectation,
  type RolloutVerification,
} from '../../../bot/platform/rollout-verification';
import { PermanentActionError, type ActionContext } from '../action';
import { pause } from './abortable-pause';
import type { ServiceTarget } from './service-target';

export interface PlatformChangeDeps {
  catalog: ServiceCatalog;
  platforms: Platforms;
  /** Uncached: verification must see the service as it is now. */
  probe: HealthProbe;
  /** How long a change may take to show (replicas ready, health URL healthy) before the step fails. */
  verifyTimeoutMs: number;
}

/** One change to one service: "restart", "scale to 3". */
export interface PlatformChange {
  /** "restart payments in production", for errors. */
  what: string;
  /** Calls the driver, given the status before; returns what verification should then see. */
  apply(driver: PlatformDriver, before: ServiceStatus): Promise<RolloutExpectation>;
}

export interface PlatformChangeResult {
  before: ServiceStatus;
  verification: RolloutVerification;
  ms: number;
}

/**
 * Carries out a change the way the chat skills do (bot/skills/service-change.ts): under the service's change
 * lock, so it never interleaves with a restart someone asked for in chat, it reads the status, calls the
 * driver, then polls until the platform and the health URL show the change. A driver error is retried (the
 * platform refused; nothing changed that opsbot knows of). A change the platform accepted but that did not
 * verify fails for good, with what was seen: doing it again blindly would not fix what stopped it.
 */
export async function changePlatform(
  deps: PlatformChangeDeps,
  target: ServiceTarget,
  ctx: ActionContext,
  change: PlatformChange,
): Promise<PlatformChangeResult> {
  const service = target.service.name;
  const driver = deps.platforms.driver(target.environment);
  if (!driver) {
    const configured = deps.platforms.environments();
    const where = configured.length > 0 ? ` (drivers are configured for ${configured.join(', ')})` : '';
    throw new PermanentActionError(`no platform driver is configured for ${target.environment}${where}`);
  }
  return deps.platforms.exclusive(target.environment, service, async () => {
    // It may have waited for the lock past its timeout or a cancel: then it must not start.
    ctx.signal.throwIfAborted();
    const started = performance.now();
    let before: ServiceStatus;
    let expected: RolloutExpectation;
    try {
      before = await driver.status(service);
      expected = await change.apply(driver, before);
    } catch (err) {
      throw new Error(`could not ${change.what}: ${(err as Error).message}`, { cause: err });
    }
    const verification = await verify(driver, service, {
      expected: { ...expected, healthUrl: target.service.environments[target.environment]?.healthUrl },
      deadline: started + deps.verifyTimeoutMs,
      probe: deps.probe,
      signal: ctx.signal,
    });
    const ms = Math.round(performance.now() - started);
    if (!verification.verified) {
      throw new PermanentActionError(
        `${change.what} was not verified after ${(ms / 1000).toFixed(1)} s: ${verification.problem}`,
      );
    }
    return { before, verification, ms };
  });
}

/**
 * {@link verifyRollout} one check at a time (a timeout of 0 checks once), so the step's signal can stop the
 * polling between checks rather than leave it running, and holding the lock, after the step gave up.
 */
async function verify(
  driver: PlatformDriver,
  service: string,
  options: { expected: RolloutExpectation; deadline: number; probe: HealthProbe; signal: AbortSignal },
): Promise<RolloutVerification> {
  for (;;) {
    const result = await verifyRollout(driver, service, options.expected, {
      timeoutMs: 0,
      probe: options.probe,
    });
    options.signal.throwIfAborted();
    if (result.verified || performance.now() >= options.deadline) return result;
    await pause(Math.min(VERIFY_POLL_MS, Math.max(0, options.deadline - performance.now())), options.signal);
  }
}
