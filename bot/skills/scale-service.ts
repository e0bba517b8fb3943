import type { ServiceStatus } from '../platform/platform-driver';
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
      [
        `scale ${s.service ?? 'a service'}`,
        s.environment === undefined ? '' : ` in ${s.environment}`,
        s.replicas === undefined ? '' : ` to ${s.replicas} replica${s.replicas === 1 ? '' : 's'}`,
      ].join(''),
    handle(ctx) {
      const replicas = Number(ctx.slots.replicas);
      const service = String(ctx.slots.service);
      const where = `${service} in ${ctx.slots.environment}`;
      const count = `${replicas} replica${replicas === 1 ? '' : 's'}`;
      // Already there: the same replica count asked for and every replica running.
      const unchanged = (before: ServiceStatus) =>
        before.replicas?.desired === replicas && before.state === 'running';
      return carryOut(deps, ctx, {
        action: 'service.scale',
        verb: 'scale',
        parameters: { replicas },
        async apply(driver, before) {
          if (unchanged(before)) return 'unchanged';
          await driver.scale(service, replicas);
          return { replicas };
        },
        done: (before) => {
          if (unchanged(before)) return `${where} already runs ${count}, all ready; nothing to change.`;
          const from = before.replicas?.desired;
          return `Scaled ${where}${from === undefined ? '' : ` from ${from}`} to ${count}.`;
        },
      });
    },
  };
}
