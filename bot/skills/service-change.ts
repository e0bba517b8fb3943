import type { AuditPhase, AuditTrail } from '../core/audit-trail';
import { ErrorCode, isOpsbotError } from '../core/errors';
import type { HealthProbe } from '../core/health';
import { textReply, type Block, type Reply } from '../core/message';
import type { EnvironmentName } from '../config/schema';
import { DriverError, type PlatformDriver, type ServiceStatus } from '../platform/platform-driver';
import type { Platforms } from '../platform/platforms';
import { verifyRollout, type RolloutExpectation } from '../platform/rollout-verification';
import type { SkillContext } from './skill';

export interface ServiceChangeDeps {
  platforms: Platforms;
  audit: AuditTrail;
  /** Checks health URLs without a cache: verification must see the service as it is now. */
  probe: HealthProbe;
  verifyTimeoutMs: number;
}

/** One change to one service, as the restart and scale skills describe it. */
export interface ServiceChange {
  /** "service.restart" */
  action: string;
  /** "restart", "scale" — for sentences. */
  verb: string;
  parameters: Record<string, unknown>;
  /** Calls the driver; returns what verification should then see, given the status before. */
  apply(driver: PlatformDriver, before: ServiceStatus): Promise<RolloutExpectation | 'unchanged'>;
  /** The first sentence of the reply once the driver accepted the change. */
  done(before: ServiceStatus): string;
}

/**
 * Carries out a change the user has confirmed: under the service's lock, reads the status before, calls the
 * driver, then waits until the platform shows the change (replicas ready, old ones gone, health URL healthy)
 * and says what it saw. Every step goes to the audit trail. A driver that fails or times out changes nothing
 * that opsbot knows of, and the reply says so with the driver's own words.
 */
export async function carryOut(
  deps: ServiceChangeDeps,
  ctx: SkillContext,
  change: ServiceChange,
): Promise<Reply> {
  const service = String(ctx.slots.service);
  const environment = String(ctx.slots.environment) as EnvironmentName;
  const driver = deps.platforms.driver(environment);
  if (!driver) {
    return textReply(
      `No platform driver is configured for ${environment}, so I can't ${change.verb} ${service} there. Nothing was changed.`,
    );
  }
  const audit = (phase: AuditPhase, details: Record<string, unknown>) =>
    deps.audit.record({
      action: change.action,
      phase,
      actor: ctx.user.id,
      roles: ctx.roles,
      service,
      environment,
      driver: driver.kind,
      details: { ...change.parameters, ...details },
      correlationId: ctx.correlationId,
    });
  const queuedBehind = deps.platforms.changing(environment, service);

  return deps.platforms.exclusive(environment, service, async () => {
    audit('started', queuedBehind ? { waitedForEarlierChange: true } : {});
    const started = performance.now();
    let before: ServiceStatus;
    let expected: RolloutExpectation | 'unchanged';
    try {
      before = await driver.status(service);
      expected = await change.apply(driver, before);
    } catch (err) {
      const failure = describeFailure(err, `${change.verb} ${service} in ${environment}`);
      audit('failed', { error: failure.message, code: failure.code });
      const blocks: Block[] = [{ type: 'section', text: failure.text }];
      if (failure.output) blocks.push({ type: 'code', code: failure.output });
      return { text: failure.text, blocks };
    }
    if (expected === 'unchanged') {
      audit('unchanged', {});
      return textReply(change.done(before));
    }
    const verification = await verifyRollout(
      driver,
      service,
      { ...expected, healthUrl: ctx.catalog.get(service)?.environments[environment]?.healthUrl },
      { timeoutMs: deps.verifyTimeoutMs, probe: deps.probe },
    );
    const ms = Math.round(performance.now() - started);
    const pidsBefore = pids(before);
    const pidsAfter = pids(verification.status);
    audit(verification.verified ? 'succeeded' : 'failed', {
      verified: verification.verified,
      ms,
      ...(verification.problem ? { problem: verification.problem } : {}),
      pidsBefore,
      pidsAfter,
    });
    const ready = `${verification.ready}/${expected.replicas} replica${expected.replicas === 1 ? '' : 's'} ready`;
    const waited = queuedBehind ? ' (it waited for an earlier change to this service to finish first)' : '';
    const check = verification.verified
      ? `Verified after ${seconds(ms)}: ${ready}${expected.replicas > 0 ? ' and the health check passes' : ''}.`
      : `Not verified after ${seconds(ms)}: ${verification.problem}. Check ${service} (system status ${service}).`;
    const text = `${change.done(before)}${waited} ${check}`;
    const fields = [
      { label: 'Service', value: `${service} (${environment})` },
      { label: 'Replicas', value: ready },
      { label: 'Driver', value: driver.kind },
    ];
    if (pidsBefore.length > 0 || pidsAfter.length > 0) {
      fields.push({
        label: 'Processes',
        value: `${pidsBefore.join(', ') || 'none'} → ${pidsAfter.join(', ') || 'none'}`,
      });
    }
    return {
      text,
      blocks: [
        { type: 'section', text },
        {
          type: 'status',
          badges: [
            {
              label: service,
              state: verification.verified ? 'ok' : 'warning',
              detail: verification.verified ? 'verified' : (verification.problem ?? 'not verified'),
            },
          ],
        },
        { type: 'fields', fields },
      ],
    };
  });
}

/** What the user and the audit trail are told when the driver refused or timed out; `what`: "restart payments in production". */
function describeFailure(
  err: unknown,
  what: string,
): { code: string; message: string; output?: string; text: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof DriverError && err.code === ErrorCode.DriverTimeout) {
    return {
      code: err.code,
      message,
      output: err.output || undefined,
      text: `The ${what} timed out: ${message}. The driver stopped it; nothing else was changed.`,
    };
  }
  return {
    code: isOpsbotError(err) ? err.code : ErrorCode.Internal,
    message,
    output: err instanceof DriverError ? err.output || undefined : undefined,
    text: `I could not ${what}: ${message}. Nothing was changed.`,
  };
}

function pids(status: ServiceStatus): number[] {
  return (status.instances ?? [])
    .filter((i) => i.state !== 'exited' && i.pid !== undefined)
    .map((i) => i.pid as number);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
