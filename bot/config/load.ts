import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/errors';
import { packageRoot } from '../core/package-root';
import { configSchema, type OpsbotConfig } from './schema';

export const DEFAULT_CONFIG_FILE = 'opsbot.config.yaml';

/** The demo configuration shipped with the package, used when neither OPSBOT_CONFIG nor ./opsbot.config.yaml exists. */
const PACKAGED_CONFIG = path.join(packageRoot(), DEFAULT_CONFIG_FILE);

/**
 * Well-known environment variables and the config path each one sets. Any other field can be set with
 * OPSBOT__SECTION__FIELD (double underscores between path segments, value parsed as a YAML scalar).
 */
const ENV_OVERRIDES: Record<string, string[]> = {
  OPSBOT_HOST: ['server', 'host'],
  OPSBOT_PORT: ['server', 'port'],
  OPSBOT_PUBLIC_URL: ['server', 'publicUrl'],
  OPSBOT_LOG_LEVEL: ['log', 'level'],
  OPSBOT_SESSION_TTL: ['sessions', 'ttlSeconds'],
  OPSBOT_TOKEN_SECRET: ['auth', 'tokenSecret'],
  REDIS_URL: ['sessions', 'redisUrl'],
  OPSBOT_BUS_TRANSPORT: ['eventbus', 'transport'],
  OPSBOT_ORCHESTRATOR_STORE: ['orchestrator', 'store'],
  OPSBOT_WEBHOOK_TOKEN: ['orchestrator', 'webhookToken'],
  KAFKA_BROKERS: ['eventbus', 'kafka', 'brokers'],
  OPSBOT_PII_SALT: ['quality', 'firewall', 'salt'],
  OPSBOT_INDEX_DIR: ['knowledge', 'indexDir'],
  OPSBOT_LLM_BASE_URL: ['knowledge', 'llm', 'baseUrl'],
  OPSBOT_LLM_MODEL: ['knowledge', 'llm', 'model'],
  OPSBOT_LLM_API_KEY: ['knowledge', 'llm', 'apiKey'],
  OPSBOT_STATE_DIR: ['stateDir'],
  SLACK_SIGNING_SECRET: ['slack', 'signingSecret'],
  SLACK_BOT_TOKEN: ['slack', 'botToken'],
  SLACK_APP_TOKEN: ['slack', 'appToken'],
  SLACK_SOCKET_MODE: ['slack', 'socketMode'],
  SLACK_API_URL: ['slack', 'apiUrl'],
  MICROSOFT_APP_ID: ['teams', 'appId'],
  MICROSOFT_APP_PASSWORD: ['teams', 'appPassword'],
  MICROSOFT_APP_TENANT_ID: ['teams', 'appTenantId'],
  MICROSOFT_APP_TYPE: ['teams', 'appType'],
  OPSBOT_DEMO: ['demo', 'enabled'],
  OPSBOT_DEMO_RATE: ['demo', 'load', 'ratePerSecond'],
  PROMETHEUS_URL: ['metrics', 'prometheus', 'url'],
  PROMETHEUS_BEARER_TOKEN: ['metrics', 'prometheus', 'bearerToken'],
  ALERTMANAGER_URL: ['alerts', 'alertmanager', 'url'],
  ALERTMANAGER_BEARER_TOKEN: ['alerts', 'alertmanager', 'bearerToken'],
};

/** Secrets and ids that must stay strings even when they look like YAML numbers or booleans. */
const STRING_OVERRIDES = new Set([
  'OPSBOT_TOKEN_SECRET',
  'OPSBOT_WEBHOOK_TOKEN',
  'OPSBOT_LLM_API_KEY',
  'OPSBOT_PII_SALT',
  'SLACK_SIGNING_SECRET',
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'MICROSOFT_APP_ID',
  'MICROSOFT_APP_PASSWORD',
  'MICROSOFT_APP_TENANT_ID',
  'PROMETHEUS_BEARER_TOKEN',
  'ALERTMANAGER_BEARER_TOKEN',
]);

export interface LoadedConfig {
  config: OpsbotConfig;
  /** The file the configuration came from. */
  file: string;
}

function resolveConfigPath(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (env.OPSBOT_CONFIG) return path.resolve(cwd, env.OPSBOT_CONFIG);
  const local = path.resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(local) ? local : PACKAGED_CONFIG;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LoadedConfig {
  const file = resolveConfigPath(env, cwd);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read configuration file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  return { config: parseConfig(text, file, env), file };
}

/** Parses, applies environment overrides and validates. Every problem names the field and the reason. */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = {}): OpsbotConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line})` : '';
    throw new ConfigError(`invalid configuration in ${file}${where}: not valid YAML: ${firstLine(err)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`invalid configuration in ${file}: the top level must be a mapping`);
  }
  applyEnvOverrides(raw as Record<string, unknown>, env);

  const parsed = configSchema.safeParse(raw);
  const issues = parsed.success ? crossFieldIssues(parsed.data) : parsed.error.issues.map(formatIssue);
  if (issues.length > 0 || !parsed.success) {
    throw new ConfigError(`invalid configuration in ${file}: ${issues.join('; ')}`, issues);
  }
  return parsed.data;
}

function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    let target = ENV_OVERRIDES[name];
    if (!target && name.startsWith('OPSBOT__'))
      target = name.slice('OPSBOT__'.length).split('__').map(camelCase);
    if (!target) continue;
    setPath(raw, target, STRING_OVERRIDES.has(name) ? value : parseScalar(value));
    // A Redis URL in the environment is the switch to the Redis session store, as the README promises.
    if (name === 'REDIS_URL') setPath(raw, ['sessions', 'store'], 'redis');
    // Kafka's own convention: a comma-separated broker list. It names brokers; OPSBOT_BUS_TRANSPORT picks Kafka.
    if (name === 'KAFKA_BROKERS')
      setPath(
        raw,
        ['eventbus', 'kafka', 'brokers'],
        value
          .split(',')
          .map((b) => b.trim())
          .filter(Boolean),
      );
    // Likewise a Prometheus URL switches the metrics source to it.
    if (name === 'PROMETHEUS_URL') setPath(raw, ['metrics', 'source'], 'prometheus');
  }
}

function camelCase(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function parseScalar(value: string): unknown {
  try {
    const parsed: unknown = parseYaml(value);
    return typeof parsed === 'object' && parsed !== null ? value : parsed;
  } catch {
    return value;
  }
}

function setPath(obj: Record<string, unknown>, keys: string[], value: unknown): void {
  let node = obj;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    return `${field === '(top level)' ? '' : field + '.'}${issue.keys.join(', ')}: unknown field`;
  }
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined'))
    return `${field}: is required`;
  // zod reports a bad record key as "Invalid key in record"; the key's own rule says what is wrong with it.
  if (issue.code === 'invalid_key') return `${field}: ${issue.issues[0]?.message ?? issue.message}`;
  return `${field}: ${issue.message}`;
}

/** Checks zod cannot express: aliases that point at two services, roles that do not exist. */
function crossFieldIssues(config: OpsbotConfig): string[] {
  const issues: string[] = [];
  const owner = new Map<string, string>();
  for (const [name, service] of Object.entries(config.services)) {
    for (const word of [name, ...service.aliases]) {
      const key = word.toLowerCase();
      const previous = owner.get(key);
      if (previous && previous !== name) {
        issues.push(`services.${name}.aliases: "${word}" already names service ${previous}`);
      }
      owner.set(key, name);
    }
  }
  const envOwner = new Map<string, string>();
  for (const [env, def] of Object.entries(config.environments)) {
    for (const word of [env, ...(def?.aliases ?? [])]) {
      const previous = envOwner.get(word.toLowerCase());
      if (previous && previous !== env)
        issues.push(`environments.${env}.aliases: "${word}" already names ${previous}`);
      envOwner.set(word.toLowerCase(), env);
    }
  }
  if (!(config.defaultEnvironment in config.environments)) {
    issues.push(`defaultEnvironment: "${config.defaultEnvironment}" is not declared under environments`);
  }
  const roles = config.policy.roles;
  for (const [role, def] of Object.entries(roles)) {
    def.inherits.forEach((parent, i) => {
      if (!(parent in roles)) issues.push(`policy.roles.${role}.inherits.${i}: unknown role "${parent}"`);
    });
  }
  for (const [user, userRoles] of Object.entries(config.policy.users)) {
    userRoles.forEach((role, i) => {
      if (!(role in roles)) issues.push(`policy.users.${user}.${i}: unknown role "${role}"`);
    });
  }
  issues.push(...channelIssues(config));
  issues.push(...platformIssues(config));
  for (const field of ['anonymousRole', 'authenticatedRole'] as const) {
    if (!(config.policy[field] in roles))
      issues.push(`policy.${field}: unknown role "${config.policy[field]}"`);
  }
  return issues;
}

/** The demo fleet runs under the local driver, on the loopback ports its catalog URLs name. */
function platformIssues(config: OpsbotConfig): string[] {
  const issues: string[] = [];
  for (const [env, driver] of Object.entries(config.platform.environments)) {
    if (!(env in config.environments))
      issues.push(`platform.environments.${env}: is not declared under environments`);
    if (driver?.driver !== 'local') continue;
    for (const name of Object.keys(driver.services)) {
      if (!(name in config.services))
        issues.push(`platform.environments.${env}.services.${name}: not a catalog service`);
    }
  }
  const { eventbus } = config;
  if (eventbus.transport === 'redis' && !eventbus.redis.url && !config.sessions.redisUrl) {
    issues.push('eventbus.redis.url: the redis transport needs a Redis URL (set it, or REDIS_URL)');
  }
  const { demo } = config;
  if (demo.enabled) {
    const driver = config.platform.environments[demo.environment];
    if (driver && driver.driver !== 'local') {
      issues.push(
        `demo.environment: the demo fleet runs under the local driver, but ${demo.environment} uses the ${driver.driver} driver`,
      );
    }
  }
  return issues;
}

/** A half-configured channel fails at start-up, naming what is missing, rather than at the first message. */
function channelIssues(config: OpsbotConfig): string[] {
  const issues: string[] = [];
  const { slack, teams } = config;
  const slackTouched =
    slack.signingSecret !== undefined || slack.botToken !== undefined || slack.appToken !== undefined;
  if (slackTouched || slack.socketMode) {
    if (!slack.botToken) issues.push('slack.botToken: is required to use Slack (set SLACK_BOT_TOKEN)');
    if (slack.socketMode && !slack.appToken)
      issues.push('slack.appToken: Socket Mode needs an app-level token (set SLACK_APP_TOKEN)');
    if (!slack.socketMode && !slack.signingSecret)
      issues.push('slack.signingSecret: is required to receive Slack requests (set SLACK_SIGNING_SECRET)');
  }
  if (teams.enabled && !teams.appId && !isLoopback(config.server.host)) {
    issues.push(
      `teams.enabled: without teams.appId (MICROSOFT_APP_ID) requests are not authenticated, which is only allowed on a loopback address, not ${config.server.host}`,
    );
  }
  if (teams.appId && teams.appType !== 'UserAssignedMSI' && !teams.appPassword) {
    issues.push('teams.appPassword: is required with teams.appId (set MICROSOFT_APP_PASSWORD)');
  }
  if (teams.appType === 'SingleTenant' && teams.appId && !teams.appTenantId) {
    issues.push('teams.appTenantId: a SingleTenant app needs its tenant id (set MICROSOFT_APP_TENANT_ID)');
  }
  return issues;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0] ?? '';
}
