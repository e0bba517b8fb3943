import { checkComponent, type Component, type HealthProbe, type ProbeResult } from '../core/health';
import type { Block, StatusBadge } from '../core/message';
import type { CatalogService } from '../config/catalog';
import type { EnvironmentName } from '../config/schema';
import type { Skill } from './skill';

const STATE_WORDS: Record<StatusBadge['state'], string> = {
  ok: 'healthy',
  warning: 'degraded',
  critical: 'down',
  unknown: 'unknown',
  info: 'info',
};

interface ServiceHealth {
  service: CatalogService;
  url?: string;
  result: ProbeResult | { state: 'unknown'; detail: string; checkedAt?: undefined };
}

/** Health of catalog services from real HTTP checks of their health URLs, plus opsbot's own components. */
export function createSystemStatusSkill(deps: {
  probe: HealthProbe;
  components: () => readonly Component[];
  now?: () => number;
}): Skill {
  const now = deps.now ?? Date.now;

  async function checkService(service: CatalogService, env: EnvironmentName): Promise<ServiceHealth> {
    const url = service.environments[env]?.healthUrl;
    if (!url) return { service, result: { state: 'unknown', detail: `no health URL configured for ${env}` } };
    return { service, url, result: await deps.probe.check(url) };
  }

  function age(checkedAt: number | undefined): string {
    if (checkedAt === undefined) return '';
    const seconds = Math.round((now() - checkedAt) / 1000);
    return seconds >= 1 ? ` (checked ${seconds}s ago)` : '';
  }

  return {
    intent: 'system_status',
    permission: 'status.read',
    summary: 'Check the health of services and of opsbot itself',
    examples: ['is payments healthy?', 'status of everything'],
    slots: [
      { entity: 'service', required: false, prompt: 'Which service?' },
      {
        entity: 'environment',
        required: false,
        prompt: 'Which environment?',
        fallback: (catalog) => catalog.defaultEnvironment,
      },
    ],
    mutating: false,
    installed: true,
    async handle({ slots, catalog }) {
      const env = (slots.environment ?? catalog.defaultEnvironment) as EnvironmentName;
      if (slots.service !== undefined) {
        const service = catalog.get(String(slots.service));
        if (!service) return { text: `I don't know a service called ${slots.service}.`, blocks: [] };
        if (!service.environments[env]) {
          const where = Object.keys(service.environments).join(', ');
          const text = `${service.name} does not run in ${env} according to the catalog (it runs in ${where}).`;
          return { text, blocks: [{ type: 'section', text }] };
        }
        const health = await checkService(service, env);
        const word = STATE_WORDS[health.result.state];
        const text = `${service.name} (${env}) is ${word}: ${health.result.detail}${age(health.result.checkedAt)}.`;
        const blocks: Block[] = [
          { type: 'section', text },
          {
            type: 'status',
            badges: [{ label: service.name, state: health.result.state, detail: health.result.detail }],
          },
          {
            type: 'fields',
            fields: [
              { label: 'Environment', value: env },
              { label: 'Owners', value: service.owners.join(', ') },
              { label: 'Health URL', value: health.url ?? 'not configured' },
            ],
          },
        ];
        return { text, blocks };
      }

      const services = catalog.list().filter((s) => s.environments[env]);
      const [healths, components] = await Promise.all([
        Promise.all(services.map((s) => checkService(s, env))),
        Promise.all(deps.components().map(async (c) => ({ name: c.name, ...(await checkComponent(c)) }))),
      ]);
      const healthy = healths.filter((h) => h.result.state === 'ok').length;
      const problems = healths
        .filter((h) => h.result.state !== 'ok')
        .map((h) => `${h.service.name} ${STATE_WORDS[h.result.state]} (${h.result.detail})`);
      const summary =
        `${healthy} of ${healths.length} services in ${env} are healthy.` +
        (problems.length > 0 ? ` Not healthy: ${problems.join('; ')}.` : '');
      const opsbotLine = components.map((c) => `${c.name}: ${c.detail}`).join('; ');
      return {
        text: `${summary}\nopsbot: ${opsbotLine}.`,
        blocks: [
          { type: 'section', text: summary },
          {
            type: 'status',
            badges: healths.map((h) => ({
              label: h.service.name,
              state: h.result.state,
              detail: h.result.detail,
            })),
          },
          { type: 'section', text: '**opsbot components**' },
          {
            type: 'status',
            badges: components.map((c) => ({ label: c.name, state: c.state, detail: c.detail })),
          },
        ],
      };
    },
  };
}
