import type { ServiceStatus } from '../../../bot/platform/platform-driver';
import type { Action, ActionContext } from '../action';
import { changePlatform, type PlatformChangeDeps } from './platform-change';
import { describeServiceTarget, resolveServiceTarget } from './service-target';

export interface RestartInputs {
  service: string;
  environment?: string;
}

export interface RestartOutput {
  verified: true;
  ms: number;
  /** Replicas ready once verified. */
  replicas: number;
}

/**
 * Restarts a service through its environment's platform driver (a rolling restart where the platform does
 * one) and waits until every replica is new and the health URL answers healthy.
 *
 * It resumes `safe`, made so by state: an attempt after the first (a retry, or a resume after a crash)
 * first looks at the replicas, and when every one of them started after the step did, the restart already
 * happened, so it only verifies instead of restarting again. A platform that reports no start times gets
 * the restart again, which ends in the same state: every replica fresh.
 */
export function createRestartAction(deps: PlatformChangeDeps): Action<RestartInputs, RestartOutput> {
  return {
    name: 'restart',
    summary: 'Restart a service through its platform driver and verify every replica came back healthy',
    inputSchema: {
      type: 'object',
      properties: {
        service: { type: 'string', minLength: 1 },
        environment: { type: 'string', minLength: 1 },
      },
      required: ['service'],
      additionalProperties: false,
    },
    mutating: true,
    resume: 'safe',
    describe(inputs) {
      const target = describeServiceTarget(deps.catalog, inputs.service, inputs.environment);
      return {
        summary: `restart ${target.name} in ${target.environment}`,
        services: [target.name],
        environment: target.environment,
      };
    },
    async execute(inputs, ctx) {
      const target = resolveServiceTarget(deps.catalog, inputs.service, inputs.environment);
      const service = target.service.name;
      const { verification, ms } = await changePlatform(deps, target, ctx, {
        what: `restart ${service} in ${target.environment}`,
        async apply(driver, before) {
          const replicas = before.replicas?.desired ?? before.instances?.length ?? 1;
          if (restartedSinceStepStarted(before, ctx)) return { replicas };
          await driver.restart(service);
          return { replicas, replaced: new Set((before.instances ?? []).map((i) => i.id)) };
        },
      });
      return { verified: true, ms, replicas: verification.ready };
    },
  };
}

/** True on a later attempt when every replica started after the step first did: the restart took place. */
function restartedSinceStepStarted(status: ServiceStatus, ctx: ActionContext): boolean {
  if (ctx.attempt <= 1) return false;
  const stepStartedAt = ctx.run.steps.find((step) => step.id === ctx.stepId)?.startedAt;
  const instances = status.instances ?? [];
  if (stepStartedAt === undefined || instances.length === 0) return false;
  const since = Date.parse(stepStartedAt);
  return instances.every((i) => i.startedAt !== undefined && Date.parse(i.startedAt) >= since);
}
