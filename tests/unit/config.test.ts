import { loadConfig, parseConfig } from '../../bot/config/load';
import { ConfigError } from '../../bot/core/errors';
import { demoConfigData } from '../support/runtime';
import { stringify } from 'yaml';

function problems(adjust: (raw: Record<string, any>) => void, env: NodeJS.ProcessEnv = {}): string {
  const raw = demoConfigData();
  adjust(raw);
  try {
    parseConfig(stringify(raw), 'opsbot.config.yaml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('configuration', () => {
  it('loads the shipped demo with its defaults', () => {
    const { config } = loadConfig({ OPSBOT_CONFIG: 'opsbot.config.yaml' });
    expect(config.server).toEqual({ host: '127.0.0.1', port: 3000 });
    expect(config.sessions.store).toBe('memory');
    expect(config.defaultEnvironment).toBe('production');
    expect(Object.keys(config.services)).toHaveLength(8);
  });

  it('lets environment variables override the file', () => {
    const { config } = loadConfig({
      OPSBOT_CONFIG: 'opsbot.config.yaml',
      OPSBOT_PORT: '4100',
      OPSBOT_HOST: '0.0.0.0',
      REDIS_URL: 'redis://cache:6379/2',
      OPSBOT__HEALTH__TIMEOUT_MS: '750',
    });
    expect(config.server).toEqual({ host: '0.0.0.0', port: 4100 });
    expect(config.sessions).toMatchObject({ store: 'redis', redisUrl: 'redis://cache:6379/2' });
    expect(config.health.timeoutMs).toBe(750);
  });

  it('configures platforms, the demo and metrics, with switches in the environment', () => {
    const { config } = loadConfig({
      OPSBOT_CONFIG: 'opsbot.config.yaml',
      OPSBOT_DEMO: 'false',
      OPSBOT_DEMO_RATE: '75',
      PROMETHEUS_URL: 'http://prom:9090',
      PROMETHEUS_BEARER_TOKEN: '12345',
    });
    expect(config.platform.environments.production).toEqual({ driver: 'local', services: {} });
    expect(config.demo).toMatchObject({ enabled: false, load: { ratePerSecond: 75 } });
    expect(config.metrics).toMatchObject({
      source: 'prometheus',
      prometheus: { url: 'http://prom:9090', bearerToken: '12345' },
    });
  });

  it.each<[string, (raw: Record<string, any>) => void, RegExp]>([
    [
      'a demo on an environment another driver runs',
      (raw) => (raw.platform.environments.production = { driver: 'kubernetes', namespace: 'shop' }),
      /demo\.environment: the demo fleet runs under the local driver, but production uses the kubernetes driver/,
    ],
    [
      'a local service the catalog does not know',
      (raw) =>
        (raw.platform.environments.production.services = {
          billing: { command: ['node', 'b.js'], port: 7201 },
        }),
      /platform\.environments\.production\.services\.billing: not a catalog service/,
    ],
    [
      'a command driver step without a program',
      (raw) =>
        (raw.platform.environments.staging = { driver: 'command', commands: { restart: { argv: [] } } }),
      /platform\.environments\.staging\.commands\.restart\.argv: needs at least the program/,
    ],
    [
      'Prometheus without its URL',
      (raw) => (raw.metrics = { source: 'prometheus' }),
      /metrics\.prometheus\.url: source "prometheus" needs prometheus\.url/,
    ],
  ])('refuses %s, naming the field', (_name, adjust, expected) => {
    expect(problems(adjust)).toMatch(expected);
  });

  it.each<[string, (raw: Record<string, any>) => void, RegExp]>([
    ['a bad port', (r) => (r.server.port = 70000), /server\.port: Too big: expected number to be <=65535/],
    [
      'a missing owner',
      (r) => (r.services.payments.owners = []),
      /services\.payments\.owners: every service needs at least one owner/,
    ],
    [
      'a health URL that is not http',
      (r) => (r.services.orders.environments.production.healthUrl = 'ftp://x/health'),
      /services\.orders\.environments\.production\.healthUrl: must be an http\(s\) URL/,
    ],
    ['an unknown field', (r) => (r.server.prot = 1), /server\.prot: unknown field/],
    [
      'an unknown environment',
      (r) => (r.services.search.environments.qa = {}),
      /services\.search\.environments\.qa/,
    ],
    [
      'an alias claimed by two services',
      (r) => r.services.orders.aliases.push('pay'),
      /services\.orders\.aliases: "pay" already names service payments/,
    ],
    [
      'a role that does not exist',
      (r) => (r.policy.users['web:x'] = ['superuser']),
      /policy\.users\.web:x\.0: unknown role "superuser"/,
    ],
    [
      'redis without a URL',
      (r) => (r.sessions.store = 'redis'),
      /sessions\.redisUrl: store "redis" needs redisUrl/,
    ],
    [
      'a service name with spaces',
      (r) => (r.services['my service'] = r.services.payments),
      /services\.my service: must be lower-case/,
    ],
    [
      'a short token secret',
      (r) => (r.auth.tokenSecret = 'short'),
      /auth\.tokenSecret: must be at least 32 characters/,
    ],
  ])('refuses %s, naming the field and the reason', (_what, adjust, message) => {
    expect(problems(adjust)).toMatch(message);
  });

  it('takes the public URL charts are served from, without a trailing slash, and refuses one with a query', () => {
    const { config } = loadConfig({
      OPSBOT_CONFIG: 'opsbot.config.yaml',
      OPSBOT_PUBLIC_URL: 'https://ops.example.com/bot/',
    });
    expect(config.server.publicUrl).toBe('https://ops.example.com/bot');
    expect(problems(() => {}, { OPSBOT_PUBLIC_URL: 'https://ops.example.com/?x=1' })).toMatch(
      /server\.publicUrl: must not have a query or fragment/,
    );
    expect(problems(() => {}, { OPSBOT_PUBLIC_URL: 'ftp://ops.example.com' })).toMatch(
      /server\.publicUrl: must be an http\(s\) URL/,
    );
  });

  it('configures the event bus, with its switches in the environment', () => {
    const shipped = loadConfig({ OPSBOT_CONFIG: 'opsbot.config.yaml' }).config.eventbus;
    expect(shipped).toMatchObject({
      transport: 'memory',
      topic: 'opsbot.events',
      partitionKey: 'correlationid',
    });
    const kafka = loadConfig({
      OPSBOT_CONFIG: 'opsbot.config.yaml',
      OPSBOT_BUS_TRANSPORT: 'kafka',
      KAFKA_BROKERS: 'k1:9092, k2:9092,',
    }).config.eventbus;
    expect(kafka).toMatchObject({ transport: 'kafka', kafka: { brokers: ['k1:9092', 'k2:9092'] } });
    expect(problems(() => {}, { OPSBOT_BUS_TRANSPORT: 'kafka' })).toMatch(
      /eventbus\.kafka\.brokers: the kafka transport needs brokers \(set KAFKA_BROKERS\)/,
    );
    expect(problems(() => {}, { OPSBOT_BUS_TRANSPORT: 'redis' })).toMatch(
      /eventbus\.redis\.url: the redis transport needs a Redis URL/,
    );
    expect(problems((raw) => (raw.eventbus.partitionKey = 'data'))).toMatch(
      /eventbus\.partitionKey: correlationid, subject/,
    );
  });

  it('refuses a bad value that came from the environment', () => {
    expect(problems(() => {}, { OPSBOT_PORT: 'eighty' })).toMatch(
      /server\.port: Invalid input: expected number, received string/,
    );
  });

  it('refuses YAML that does not parse, with the line', () => {
    expect(() => parseConfig('server:\n  port: [1, 2\n', 'bad.yaml')).toThrow(
      /invalid configuration in bad\.yaml \(line \d\): not valid YAML/,
    );
  });

  it('says which file it could not read', () => {
    expect(() => loadConfig({ OPSBOT_CONFIG: '/nonexistent/opsbot.yaml' })).toThrow(
      'cannot read configuration file /nonexistent/opsbot.yaml: ENOENT',
    );
  });

  it('turns Slack and Teams on from their usual environment variables, keeping secrets as strings', () => {
    const { config } = loadConfig({
      OPSBOT_CONFIG: 'opsbot.config.yaml',
      SLACK_SIGNING_SECRET: '12345',
      SLACK_BOT_TOKEN: 'xoxb-1-2',
      SLACK_API_URL: 'http://127.0.0.1:9/api/',
      MICROSOFT_APP_ID: '00000000-0000-0000-0000-000000000001',
      MICROSOFT_APP_PASSWORD: 'true',
    });
    expect(config.slack).toMatchObject({
      signingSecret: '12345',
      botToken: 'xoxb-1-2',
      apiUrl: 'http://127.0.0.1:9/api/',
      socketMode: false,
      slashCommand: '/ops',
    });
    expect(config.teams).toMatchObject({
      appId: '00000000-0000-0000-0000-000000000001',
      appPassword: 'true',
    });
  });

  it.each([
    [
      'a Slack bot token without a signing secret',
      { SLACK_BOT_TOKEN: 'xoxb-1' },
      /slack\.signingSecret: is required to receive Slack requests \(set SLACK_SIGNING_SECRET\)/,
    ],
    [
      'Socket Mode without an app token',
      { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SOCKET_MODE: 'true' },
      /slack\.appToken: Socket Mode needs an app-level token/,
    ],
    ['a signing secret without a bot token', { SLACK_SIGNING_SECRET: 's' }, /slack\.botToken: is required/],
    [
      'a user token where the bot token goes',
      { SLACK_BOT_TOKEN: 'xoxp-1' },
      /slack\.botToken: a bot token starts with xoxb-/,
    ],
    [
      'a Teams app id without its password',
      { MICROSOFT_APP_ID: 'app' },
      /teams\.appPassword: is required with teams\.appId/,
    ],
    [
      'an anonymous Teams endpoint on a public address',
      { OPSBOT__TEAMS__ENABLED: 'true', OPSBOT_HOST: '0.0.0.0' },
      /teams\.enabled: without teams\.appId .* only allowed on a loopback address, not 0\.0\.0\.0/,
    ],
  ])('refuses %s', (_what, env, message) => {
    expect(problems(() => {}, env)).toMatch(message);
  });

  it('refuses a notification target that names no real place', () => {
    expect(
      problems(
        (r) => (r.notifications = { targets: { oncall: { channel: 'slack', conversation: 'general' } } }),
      ),
    ).toMatch(/notifications\.targets\.oncall\.conversation: a Slack channel id such as C0123ABCD/);
  });
});
