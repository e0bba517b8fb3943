import type { Platforms } from '../platform/platforms';
import { carryOut, type ServiceChangeDeps } from './service-change';
import { environmentSlot, serviceSlot } from './service-slots';
import type { Skill } from './skill';

/** Restarts a service through its environment's driver (a rolling restart where the platform does one). */
export function createRestartServiceSkill(deps: ServiceChangeDeps & { platforms: Platforms }): Skill {
  return {
    intent: 'restart_service',
    permission: 'service.restart',
    summary: 'Restart a service',
    examples: ['restart payments', 'bounce the orders service in staging'],
    slots: [serviceSlot('Which service should I restart?'), environmentSlot(deps.platforms)],
    mutating: true,
    installed: true,
    describe: (s) =>
      `restart ${s.service ?? 'a service'}${s.environment === undefined ? '' : ` in ${s.environment}`}`,
    handle: (ctx) =>
      carryOut(deps, ctx, {
        action: 'service.restart',
        verb: 'restart',
        parameters: {},
        async apply(driver, before) {
          await driver.restart(String(ctx.slots.service));
          const replicas = before.replicas?.desired ?? before.instances?.length ?? 1;
          return { replicas, replaced: new Set((before.instances ?? []).map((i) => i.id)) };
        },
        done: () => `Restarted ${ctx.slots.service} in ${ctx.slots.environment}.`,
      }),
  };
}
