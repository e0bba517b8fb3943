import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { renderForTerminal } from '../../adapters/terminal/render';
import { ServiceCatalog } from '../config/catalog';
import { loadConfig, type LoadedConfig } from '../config/load';
import { isOpsbotError } from '../core/errors';
import { createLogger, type Logger } from '../core/logger';
import { buildFirewall } from '../../engines/quality/firewall/build-firewall';
import { packageRoot } from '../core/package-root';
import { parseDuration } from '../nlu/durations';
import { buildNlu } from '../nlu/build-nlu';
import { configDirOf, createEmbeddingProvider, createRuntime } from '../runtime';
import { ServerMetrics } from '../server/metrics';
import { startServer, type RunningServer } from '../server/server';
import { signToken } from '../server/signed-token';
import { registerEventsCommands } from './events-commands';
import { registerAuditCommands } from './audit-commands';
import { registerQualityCommands } from './quality-commands';
import { registerRunbooksCommands } from './runbooks-commands';
import { registerSagasCommands } from './sagas-commands';
import { registerPiiCommand } from './pii-command';
import { fail, UsageError } from './exit';
import { registerKnowledgeCommands } from './knowledge-commands';
import { registerPlatformCommands } from './platform-commands';
import { runNluCommand } from './nlu-command';
import { runTerminalChat, terminalTurn } from './terminal-chat';

const STDERR = 2;
/** How often a running server looks for a knowledge index rebuilt by another process. */
const KNOWLEDGE_RELOAD_MS = 5000;

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number, 0 or more');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
}

const program = new Command('opsbot')
  .description('opsbot: a chat-first operations assistant')
  .version(
    (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string })
      .version,
  )
  .showHelpAfterError(false)
  .exitOverride()
  .configureOutput({
    outputError: (text, write) => write(`opsbot: ${text.replace(/^error: /, '').split('\n')[0]}\n`),
  });

program
  .command('serve')
  .description(
    'run the assistant: web chat at /, widget at /widget.js, API at /api/chat, WebSocket at /ws; and the demo fleet when demo.enabled',
  )
  .option('-p, --port <port>', 'port to listen on (default from config: 3000)', port)
  .option('--host <host>', 'address to bind (default from config: 127.0.0.1)')
  .action((options: { port?: number; host?: string }) => serve(loadConfig(), options));

program
  .command('demo')
  .description(
    'run the demo fleet (eight catalog services as local processes, with a load generator) and the assistant',
  )
  .option('-p, --port <port>', 'port the assistant listens on (default from config: 3000)', port)
  .option('--host <host>', 'address to bind (default from config: 127.0.0.1)')
  .option('--rate <requests/s>', 'load at the daily peak, across the fleet (0: no load)', nonNegativeNumber)
  .action((options: { port?: number; host?: string; rate?: number }) => {
    // Through the environment overrides, so the configuration is validated as `serve` validates it.
    const demoEnv: NodeJS.ProcessEnv = { ...process.env, OPSBOT_DEMO: 'true' };
    if (options.rate !== undefined) demoEnv.OPSBOT_DEMO_RATE = String(options.rate);
    return serve(loadConfig(demoEnv), options);
  });

/** Warnings of a CLI command on stderr, through the firewall's logs path like the server's log lines. */
function stderrLogger(loaded: LoadedConfig): Logger {
  const firewall = buildFirewall(loaded.config.quality.firewall);
  return createLogger('warn', STDERR, { scrub: (value) => firewall.redactValue(value, 'logs') });
}

async function serve(loaded: LoadedConfig, options: { port?: number; host?: string }): Promise<void> {
  const firewall = buildFirewall(loaded.config.quality.firewall);
  const logger = createLogger(loaded.config.log.level, 1, {
    buffered: true,
    scrub: (value) => firewall.redactValue(value, 'logs'),
  });
  const metrics = new ServerMetrics();
  const runtime = createRuntime(loaded, { logger, metrics, runsPlatforms: true, firewall });
  let server: RunningServer | undefined = undefined;
  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await server?.close();
    await runtime.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  await runtime.start();
  server = await startServer(
    runtime,
    { metrics, logger },
    { host: options.host ?? loaded.config.server.host, port: options.port ?? loaded.config.server.port },
  );
  logger.info(
    {
      url: server.url,
      config: loaded.file,
      sessions: runtime.sessions.kind,
      demo: loaded.config.demo.enabled,
    },
    `opsbot listening on ${server.url}`,
  );
  if (loaded.config.knowledge.autoBuild) runtime.refreshKnowledge().catch(() => {}); // logged by the knowledge base
  // Pick up an index rebuilt by `opsbot index build` in another process.
  setInterval(() => runtime.knowledge.reloadIfChanged(), KNOWLEDGE_RELOAD_MS).unref();
}

program
  .command('chat')
  .description('talk to opsbot in this terminal')
  .option('--conversation <id>', 'continue a conversation (shared through Redis when REDIS_URL is set)')
  .action(async (options: { conversation?: string }) => {
    const loaded = loadConfig();
    const runtime = createRuntime(loaded, { logger: stderrLogger(loaded) });
    if (loaded.config.knowledge.autoBuild) runtime.refreshKnowledge().catch(() => {});
    // The metrics scraper, so a conversation can ask about the last minutes; local services stay the server's.
    await runtime.start();
    try {
      await runTerminalChat(runtime.assistant, options.conversation ?? randomUUID());
    } finally {
      await runtime.close();
    }
  });

program
  .command('ask')
  .description('ask one question and print the answer')
  .argument('<text>', 'what to ask, e.g. "is payments healthy?"')
  .option('--json', 'print {"reply","nlu"} as JSON')
  .option('--conversation <id>', 'continue a conversation (shared through Redis when REDIS_URL is set)')
  .action(async (text: string, options: { json?: boolean; conversation?: string }) => {
    // One question answers from the index as it is: a first build takes a while, and `serve`, `chat` and
    // `opsbot index build` are where it happens.
    const loaded = loadConfig();
    const runtime = createRuntime(loaded, { logger: stderrLogger(loaded) });
    try {
      const result = await runtime.assistant.handle(terminalTurn(text, options.conversation ?? randomUUID()));
      const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ reply: result.reply, nlu: result.nlu })}\n`
          : `${renderForTerminal(result.reply, { colour })}\n`,
      );
    } finally {
      await runtime.close();
    }
  });

program
  .command('nlu')
  .description('show how opsbot understands text: intent, confidence and entities')
  .argument('[text]', 'the text to analyse')
  .option('--file <in.jsonl>', 'analyse every line of a JSONL file with a "text" field, in order')
  .option('--json', 'print {"text","intent","confidence","entities"} per input as JSON')
  .action(async (text: string | undefined, options: { file?: string; json?: boolean }) => {
    // The same understanding the server has: nlu.engine decides rules or hybrid, as it does there.
    const loaded = loadConfig();
    const { config } = loaded;
    const configDir = configDirOf(loaded);
    const { nlu, predictors, predictorsLoaded } = buildNlu(config, configDir, {
      catalog: new ServiceCatalog(config),
      embeddings: createEmbeddingProvider(config, configDir),
      logger: createLogger('warn', STDERR),
    });
    try {
      process.stdout.write(`${await runNluCommand(nlu, text, options)}\n`);
    } finally {
      await predictorsLoaded;
      await predictors?.close();
    }
  });

program
  .command('token')
  .description('mint a signed token for a web or API user (needs OPSBOT_TOKEN_SECRET or auth.tokenSecret)')
  .requiredOption('--user <id>', 'user id; roles come from policy.users["web:<id>"]')
  .option('--name <name>', 'display name (default: the user id)')
  .option('--ttl <duration>', 'lifetime, e.g. 8h, 30m, 7 days', '8h')
  .action((options: { user: string; name?: string; ttl: string }) => {
    const secret = loadConfig().config.auth.tokenSecret;
    if (!secret)
      throw new UsageError('no token secret: set OPSBOT_TOKEN_SECRET (32+ characters) or auth.tokenSecret');
    const ttlSeconds = parseDuration(options.ttl);
    if (!ttlSeconds)
      throw new UsageError(`--ttl: cannot read "${options.ttl}" as a duration (try 8h or 30m)`);
    process.stdout.write(
      `${signToken({ sub: options.user, name: options.name ?? options.user, ttlSeconds }, secret)}\n`,
    );
  });

registerKnowledgeCommands(program);
registerPlatformCommands(program);
registerEventsCommands(program);
registerRunbooksCommands(program);
registerSagasCommands(program);
registerPiiCommand(program);
registerAuditCommands(program);
registerQualityCommands(program);

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2);
    }
    if (err instanceof UsageError || isOpsbotError(err)) fail(err.message, 2);
    fail(`unexpected error: ${(err as Error).stack ?? String(err)}`, 1);
  }
}

void main();
