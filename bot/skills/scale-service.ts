import type { Platforms } from '../platform/platforms';
import { carryOut, type ServiceChangeDeps } from './service-change';
import { environmentSlot, replicasSlot, serviceSlot } from './service-slots';
import type { Skill } from './skill';

/** Sets a service's replica count, within the catalog's min and max, and waits for the replicas to be ready. */
export function createScaleServiceSkill(deps: ServiceChangeDeps & { platforms: Platforms }): Skill {
  return {
    intent: 'scale_service',
    permission: 'service.scale',
    summary: 'Scale a service to a number of replicas',
    examples: ['scale orders to 3', 'run 5 replicas of checkout in staging'],
    slots: [serviceSlot('Which service should I scale?'), replicasSlot, environmentSlot(deps.platforms)],
    mutating: true,
    installed: true,
    describe: (s) =>
      `scale ${s.service} in ${s.environment} to ${s.replicas} replica${s.replicas === 1 ? '' : 's'}`,
    handle(ctx) {
      const replicas = Number(ctx.slots.replicas);
      const service = String(ctx.slots.service);
      let from: number | undefined;
      let unchanged = false;
      return carryOut(deps, ctx, {
        action: 'service.scale',
        verb: 'scale',
        parameters: { replicas },
        async apply(driver, before) {
          from = before.replicas?.desired;
          unchanged = from === replicas && before.state === 'running';
          if (unchanged) return 'unchanged';
          await driver.scale(service, replicas);
          return { replicas };
        },
        done: () =>
          unchanged
            ? `${service} in ${ctx.slots.environment} already runs ${replicas} replica${replicas === 1 ? '' : 's'}, all ready; nothing to change.`
            : `Scaled ${service} in ${ctx.slots.environment}${from === undefined ? '' : ` from ${from}`} to ${replicas} replica${replicas === 1 ? '' : 's'}.`,
      });
    },
  };
}
