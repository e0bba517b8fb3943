import { HttpHealthProbe } from '../adapters/http/http-health-probe';
import { RedisSessionStore } from '../adapters/redis/redis-session-store';
import { Assistant } from './assistant';
import { ServiceCatalog } from './config/catalog';
import type { LoadedConfig } from './config/load';
import type { OpsbotConfig } from './config/schema';
import type { Component } from './core/health';
import type { Logger } from './core/logger';
import type { TurnMetrics } from './core/turn-metrics';
import { DialogueManager } from './dialogue/dialogue-manager';
import { MemorySessionStore } from './dialogue/memory-session-store';
import type { SessionStore } from './dialogue/session';
import { INTENTS } from './nlu/intents';
import { RuleNlu } from './nlu/rule-nlu';
import { Policy } from './policy/policy';
import {
  confirmSkill,
  denySkill,
  greetingSkill,
  helpSkill,
  outOfScopeSkill,
} from './skills/conversation-skills';
import { notInstalledSkills } from './skills/not-installed';
import { SkillRegistry } from './skills/skill';
import { createSystemStatusSkill } from './skills/system-status';

/** Engines that later issues add; until then they report themselves as missing rather than pretend. */
const ENGINES_NOT_IN_THIS_BUILD = [
  'event bus',
  'orchestrator',
  'predictive scaler',
  'quality engine',
  'maintenance controller',
  'knowledge index (RAG)',
];

export interface Runtime {
  config: OpsbotConfig;
  configFile: string;
  catalog: ServiceCatalog;
  policy: Policy;
  skills: SkillRegistry;
  sessions: SessionStore;
  assistant: Assistant;
  components: readonly Component[];
  close(): Promise<void>;
}

/** The composition root: every port gets its implementation here, chosen by configuration. */
export function createRuntime(
  loaded: LoadedConfig,
  deps: { logger: Logger; metrics?: TurnMetrics },
): Runtime {
  const { config } = loaded;
  const catalog = new ServiceCatalog(config);
  const policy = new Policy(config.policy);
  const sessions = createSessionStore(config);
  const nlu = new RuleNlu(catalog);

  const components: Component[] = [
    {
      name: 'session store',
      requiredForReadiness: true,
      async check() {
        const started = performance.now();
        try {
          await sessions.ping();
          return { state: 'ok', detail: `${sessions.kind}, ${Math.round(performance.now() - started)} ms` };
        } catch (err) {
          return { state: 'critical', detail: `${sessions.kind}: ${(err as Error).message}` };
        }
      },
    },
    {
      name: 'nlu',
      requiredForReadiness: true,
      check: async () => ({ state: 'ok', detail: `rules and lexicons, ${INTENTS.length} intents` }),
    },
    ...ENGINES_NOT_IN_THIS_BUILD.map((name): Component => ({
      name,
      requiredForReadiness: false,
      check: async () => ({ state: 'unknown', detail: 'not installed in this build' }),
    })),
  ];

  const skills = new SkillRegistry()
    .register(greetingSkill)
    .register(helpSkill)
    .register(outOfScopeSkill)
    .register(confirmSkill)
    .register(denySkill)
    .register(
      createSystemStatusSkill({
        probe: new HttpHealthProbe(config.health.timeoutMs, config.health.cacheSeconds),
        components: () => components,
      }),
    );
  for (const skill of notInstalledSkills()) skills.register(skill);

  const dialogue = new DialogueManager({ nlu, skills, policy, catalog, logger: deps.logger });
  const assistant = new Assistant({ dialogue, sessions, logger: deps.logger, metrics: deps.metrics });

  return {
    config,
    configFile: loaded.file,
    catalog,
    policy,
    skills,
    sessions,
    assistant,
    components,
    close: () => sessions.close(),
  };
}

function createSessionStore(config: OpsbotConfig): SessionStore {
  const { sessions } = config;
  if (sessions.store === 'redis' && sessions.redisUrl) {
    return new RedisSessionStore(sessions.redisUrl, sessions.ttlSeconds, sessions.keyPrefix);
  }
  return new MemorySessionStore(sessions.ttlSeconds, sessions.maxInMemory);
}
