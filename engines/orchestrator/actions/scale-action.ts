import { LruMap } from '../../../bot/core/lru-map';
import type { ServiceStatus } from '../../../bot/platform/platform-driver';
import { PermanentActionError, type Action } from '../action';
import { changePlatform, type PlatformChangeDeps } from './platform-change';
import { describeServiceTarget, resolveServiceTarget } from './service-target';

/** Steps whose replica count before is remembered across their attempts; far more than run at once. */
const REMEMBERED_STEPS = 1_000;

export interface ScaleInputs {
  service: string;
  environment?: string;
  replicas: number;
}

export interface ScaleOutput {
  /** Replicas asked for before the step, for an undo (`{{ steps.<id>.output.from }}`); null when unknown. */
  from: number | null;
  to: number;
  verified: true;
  ms: number;
}

/**
 * Sets a service's replica count, within the catalog's min and max, and waits for the replicas to be ready
 * and healthy. Setting N twice is the same as once, so it resumes `safe`.
 *
 * `from` is the count before the step's first attempt: a later attempt in this process, which may find the
 * count already changed by the one before, reports the first one's. After a crash that memory is gone, and
 * a resumed attempt reports what it finds.
 */
export function createScaleAction(deps: PlatformChangeDeps): Action<ScaleInputs, ScaleOutput> {
  const countsBefore = new LruMap<string, number | null>(REMEMBERED_STEPS);
  return {
    name: 'scale',
    summary: "Set a service's replica count within the catalog's limits and verify the replicas are ready",
    inputSchema: {
      type: 'object',
      properties: {
        service: { type: 'string', minLength: 1 },
        environment: { type: 'string', minLength: 1 },
        replicas: { type: 'integer', minimum: 0 },
      },
      required: ['service', 'replicas'],
      additionalProperties: false,
    },
    mutating: true,
    resume: 'safe',
    describe(inputs) {
      const target = describeServiceTarget(deps.catalog, inputs.service, inputs.environment);
      return {
        summary: `scale ${target.name} in ${target.environment} to ${inputs.replicas} replica${inputs.replicas === 1 ? '' : 's'}`,
        services: [target.name],
        environment: target.environment,
      };
    },
    async execute(inputs, ctx) {
      const target = resolveServiceTarget(deps.catalog, inputs.service, inputs.environment);
      const { name, replicas: limits } = target.service;
      const to = Number(inputs.replicas);
      if (!Number.isInteger(to) || to < 0) {
        throw new PermanentActionError(`${inputs.replicas} is not a number of replicas`);
      }
      if (to < limits.min || to > limits.max) {
        throw new PermanentActionError(`${name} allows ${limits.min}–${limits.max} replicas, not ${to}`);
      }
      let from: number | null = null;
      const { ms } = await changePlatform(deps, target, ctx, {
        what: `scale ${name} in ${target.environment} to ${to}`,
        async apply(driver, before) {
          from = countsBefore.get(ctx.idempotencyKey) ?? desiredReplicas(before);
          countsBefore.set(ctx.idempotencyKey, from);
          // Already there, every replica running: as the chat skill does, no call to make.
          if (!(before.replicas?.desired === to && before.state === 'running')) await driver.scale(name, to);
          return { replicas: to };
        },
      });
      return { from, to, verified: true, ms };
    },
  };
}

/** The count the platform was asked for, or failing that the replicas it shows that have not exited. */
function desiredReplicas(status: ServiceStatus): number | null {
  if (status.replicas) return status.replicas.desired;
  if (status.instances) return status.instances.filter((i) => i.state !== 'exited').length;
  return null;
}
