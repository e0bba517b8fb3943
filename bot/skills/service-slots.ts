import type { EnvironmentName } from '../config/schema';
import type { Platforms } from '../platform/platforms';
import type { SlotSpec } from './skill';

export function serviceSlot(prompt: string): SlotSpec {
  return { entity: 'service', required: true, prompt };
}

/**
 * The environment, the catalog's default when not said. With `platforms`, an environment no driver is
 * configured for is refused before any confirmation: asking "are you sure?" about something opsbot cannot do
 * would be a lie.
 */
export function environmentSlot(platforms?: Platforms): SlotSpec {
  return {
    entity: 'environment',
    required: true,
    prompt: 'In which environment?',
    fallback: (catalog) => catalog.defaultEnvironment,
    validate: (env, slots, catalog) => {
      const service = slots.service === undefined ? undefined : catalog.get(String(slots.service));
      if (service && !(String(env) in service.environments)) {
        return `${service.name} does not run in ${env} (it runs in ${Object.keys(service.environments).join(', ')}).`;
      }
      if (platforms && !platforms.driver(env as EnvironmentName)) {
        const configured = platforms.environments();
        const where = configured.length > 0 ? ` (drivers are configured for ${configured.join(', ')})` : '';
        return `No platform driver is configured for ${env}, so I can't change anything there${where}.`;
      }
      return undefined;
    },
  };
}

/** For a question about one service or all of them, in the default environment unless another is named. */
export const ANY_SERVICE_SLOTS: readonly SlotSpec[] = [
  { entity: 'service', required: false, prompt: 'Which service?' },
  {
    entity: 'environment',
    required: false,
    prompt: 'Which environment?',
    fallback: (catalog) => catalog.defaultEnvironment,
  },
];

export const replicasSlot: SlotSpec = {
  entity: 'replicas',
  required: true,
  prompt: 'To how many replicas?',
  validate: (value, slots, catalog) => {
    const service = slots.service === undefined ? undefined : catalog.get(String(slots.service));
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) return 'The number of replicas must be a whole number.';
    if (service && (n < service.replicas.min || n > service.replicas.max)) {
      return `${service.name} allows ${service.replicas.min}–${service.replicas.max} replicas, so I can't scale it to ${n}.`;
    }
    return undefined;
  },
};
