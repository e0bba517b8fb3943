/**
 * npm run bench:adapters — a real opsbot server (a separate process) with Slack and Teams on, driven the way
 * the platforms drive it: signed Slack slash commands and app_mention events, and Bot Framework activities.
 * Local stand-ins for Slack's Web API / response_url and for the Bot Connector receive the replies, so each
 * request is timed from the moment it is sent until its reply arrives. Prints, for each surface, the ack
 * (HTTP response) and reply latency percentiles at the given concurrency.
 * Options: --duration <s per phase> (10), --concurrency <n> (50), --surface slack-command | slack-mention |
 * teams (one only), --profile <dir> (write the server's CPU profile there, to see where its time goes).
 */
import { createHmac } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs, usageError } from '../bot/cli/script-args';
import { machineLine, ms, percentile, startOpsbotServer } from './bench-support';

const SIGNING_SECRET = 'bench-signing-secret-0123456789abcdef';
const SURFACES = ['slack-command', 'slack-mention', 'teams'];
const TARGET_ACK_P99_MS = 100;
const TARGET_REPLY_P95_MS = 50;
/** A reply that has not arrived by then counts as a failure rather than stalling the run. */
const REPLY_TIMEOUT_MS = 10_000;

/**
 * Utterances whose skills wait on nothing outside opsbot (no health probe, no index): the target is about the
 * adapters and the core, "excluding anything the skill itself waits on".
 */
const UTTERANCES = [
  'help',
  'hello',
  'scale payments',
  '5',
  'no',
  'restart orders in staging',
  'p95 latency of checkout over the last hour',
  'what alerts are firing?',
  'show the last 10 order.created events',
  'tell me a joke',
];

/** Replies the platforms' stand-ins received, by the id the request carried; resolves whoever waits for it. */
class ReplyBoard {
  private readonly waiting = new Map<string, (at: number) => void>();
  /** Resolves with the arrival time, or NaN when no reply came within REPLY_TIMEOUT_MS or none is due. */
  expect(id: string): Promise<number> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(id, NaN), REPLY_TIMEOUT_MS);
      this.waiting.set(id, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  }
  arrived(id: string): void {
    this.settle(id, performance.now());
  }
  /** No reply is coming (the request was refused): stop waiting for one. */
  forget(id: string): void {
    this.settle(id, NaN);
  }
  private settle(id: string, at: number): void {
    const resolve = this.waiting.get(id);
    if (!resolve) return;
    this.waiting.delete(id);
    resolve(at);
  }
}

async function listen(handler: (req: IncomingMessage, body: string) => string): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(handler(req, Buffer.concat(chunks).toString('utf8')));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** POSTs and resolves when the response has been read, with the time that took. */
function post(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function signed(body: string, contentType: string): Record<string, string> {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', SIGNING_SECRET).update(`v0:${timestamp}:${body}`).digest('hex');
  return {
    'content-type': contentType,
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': `v0=${signature}`,
  };
}

interface Phase {
  name: string;
  /** Sends request number `n` of worker `w`; resolves with its ack time and when its reply arrived. */
  send(w: number, n: number): Promise<{ ackMs: number; replyMs: number; ok: boolean }>;
}

async function runPhase(phase: Phase, concurrency: number, seconds: number) {
  const acks: number[] = [];
  const replies: number[] = [];
  let failures = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let n = 0; performance.now() < deadline; n++) {
        const r = await phase.send(w, n);
        if (!r.ok || Number.isNaN(r.replyMs)) {
          failures += 1;
          continue;
        }
        acks.push(r.ackMs);
        replies.push(r.replyMs);
      }
    }),
  );
  return { acks: acks.sort((a, b) => a - b), replies: replies.sort((a, b) => a - b), failures };
}

async function main(): Promise<void> {
  const args = parseArgs('bench:adapters', {
    duration: 'number',
    concurrency: 'number',
    profile: 'string',
    surface: 'string',
  });
  if (args.surface !== undefined && !SURFACES.includes(args.surface)) {
    usageError('bench:adapters', `--surface must be one of ${SURFACES.join(', ')}`);
  }
  const seconds = args.duration ?? 10;
  const concurrency = args.concurrency ?? 50;
  const board = new ReplyBoard();

  // Slack's Web API and response URLs: replies are matched to requests by response_url id or thread ts.
  let ts = 0;
  const slack = await listen((req, body) => {
    const url = req.url ?? '';
    if (url.startsWith('/response/')) board.arrived(url.slice('/response/'.length));
    if (url === '/api/auth.test') return '{"ok":true,"user_id":"UBOT","bot_id":"BBOT","team_id":"T1"}';
    if (url === '/api/chat.postMessage') {
      const thread = new URLSearchParams(body).get('thread_ts') ?? JSON.parse(body || '{}').thread_ts;
      if (thread) board.arrived(`mention:${thread}`);
      return JSON.stringify({ ok: true, ts: `${1_800_000_000 + ++ts}.000100` });
    }
    return '{"ok":true}';
  });
  // The Bot Connector: a reply is POSTed to /v3/conversations/{id}/activities/{replyToId}.
  const connector = await listen((req) => {
    const match = /\/v3\/conversations\/[^/]+\/activities\/([^/?]+)/.exec(req.url ?? '');
    if (match?.[1]) board.arrived(`teams:${decodeURIComponent(match[1])}`);
    return JSON.stringify({ id: `reply-${++ts}` });
  });

  const server = await startOpsbotServer(
    (config, dir) => {
      config.log = { level: 'warn' };
      config.knowledge = { autoBuild: false, indexDir: path.join(dir, 'index') };
      config.stateDir = path.join(dir, 'state');
      config.slack = {
        signingSecret: SIGNING_SECRET,
        botToken: 'xoxb-bench',
        apiUrl: `http://127.0.0.1:${portOf(slack)}/api/`,
      };
      config.teams = { enabled: true };
    },
    args.profile ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(args.profile)] : [],
  );
  const { url } = server;
  const slackUrl = `http://127.0.0.1:${portOf(slack)}`;
  /** Sends a request whose reply will carry `replyId`; both times run from the moment it is sent. */
  const timed = async (
    replyId: string,
    send: () => Promise<{ status: number; ms: number }>,
  ): Promise<{ ackMs: number; replyMs: number; ok: boolean }> => {
    // Waiting starts before sending: a reply can arrive before the ack has been read.
    const replied = board.expect(replyId);
    const started = performance.now();
    const ack = await send();
    if (ack.status !== 200) {
      board.forget(replyId);
      return { ackMs: ack.ms, replyMs: NaN, ok: false };
    }
    return { ackMs: ack.ms, replyMs: (await replied) - started, ok: true };
  };
  const connectorUrl = `http://127.0.0.1:${portOf(connector)}`;

  let commands = 0;
  const slashCommand: Phase = {
    name: 'Slack /ops (slash command → response_url)',
    async send(w, n) {
      const id = `c-${++commands}`;
      const body = new URLSearchParams({
        team_id: 'T1',
        channel_id: `C${w}`,
        user_id: `U${w}`,
        user_name: `user${w}`,
        command: '/ops',
        text: UTTERANCES[n % UTTERANCES.length] ?? 'help',
        response_url: `${slackUrl}/response/${id}`,
        trigger_id: id,
      }).toString();
      return timed(id, () =>
        post(`${url}/slack/events`, signed(body, 'application/x-www-form-urlencoded'), body),
      );
    },
  };
  let mentions = 0;
  const appMention: Phase = {
    name: 'Slack app_mention (event → chat.postMessage)',
    async send(w, n) {
      const eventTs = `${1_700_000_000 + ++mentions}.000100`;
      const body = JSON.stringify({
        team_id: 'T1',
        api_app_id: 'A1',
        type: 'event_callback',
        event_id: `Ev${mentions}`,
        event_time: Math.floor(Date.now() / 1000),
        event: {
          type: 'app_mention',
          user: `U${w}`,
          text: `<@UBOT> ${UTTERANCES[n % UTTERANCES.length]}`,
          ts: eventTs,
          channel: 'C1',
          event_ts: eventTs,
        },
      });
      return timed(`mention:${eventTs}`, () =>
        post(`${url}/slack/events`, signed(body, 'application/json'), body),
      );
    },
  };
  let activities = 0;
  const teamsMessage: Phase = {
    name: 'Teams message (activity → Bot Connector reply)',
    async send(w, n) {
      // Activity ids must be unique across the run: opsbot rightly ignores a redelivered id.
      const id = `a-${++activities}`;
      const body = JSON.stringify({
        type: 'message',
        id,
        timestamp: new Date().toISOString(),
        channelId: 'msteams',
        serviceUrl: connectorUrl,
        from: {
          id: `29:user${w}`,
          name: `User ${w}`,
          aadObjectId: `00000000-0000-0000-0000-${String(w).padStart(12, '0')}`,
        },
        conversation: { id: `a:conv-${w}`, conversationType: 'personal', tenantId: 't1' },
        recipient: { id: '28:opsbot', name: 'opsbot' },
        text: UTTERANCES[n % UTTERANCES.length],
      });
      return timed(`teams:${id}`, () =>
        post(`${url}/api/messages`, { 'content-type': 'application/json' }, body),
      );
    },
  };

  try {
    console.log(
      `opsbot bench:adapters — ${concurrency} concurrent requests, ${seconds} s per surface, ${UTTERANCES.length}-utterance mix`,
    );
    console.log(`machine: ${machineLine()}; opsbot in its own process`);
    const fmt = (value: number) => ms(value).padStart(9);
    let allMet = true;
    const phases = { 'slack-command': slashCommand, 'slack-mention': appMention, teams: teamsMessage };
    for (const [surface, phase] of Object.entries(phases)) {
      if (args.surface !== undefined && surface !== args.surface) continue;
      // A short warm-up so JIT and connection set-up are not measured.
      await runPhase(phase, concurrency, 1);
      const cpuBefore = await server.cpuMs();
      const r = await runPhase(phase, concurrency, seconds);
      const cpuPerRequest = ((await server.cpuMs()) - cpuBefore) / (r.acks.length + r.failures);
      const ackP99 = percentile(r.acks, 99);
      const replyP95 = percentile(r.replies, 95);
      const slash = phase === slashCommand;
      const met =
        replyP95 < TARGET_REPLY_P95_MS && (!slash || ackP99 < TARGET_ACK_P99_MS) && r.failures === 0;
      allMet &&= met;
      console.log(`\n${phase.name}`);
      console.log(
        `  requests  ${r.acks.length} (${(r.acks.length / seconds).toFixed(0)}/s), ${r.failures} failed; opsbot used ${cpuPerRequest.toFixed(2)} ms of CPU per request`,
      );
      console.log(
        `  ack       p50 ${fmt(percentile(r.acks, 50))}  p95 ${fmt(percentile(r.acks, 95))}  p99 ${fmt(ackP99)}`,
      );
      console.log(
        `  reply     p50 ${fmt(percentile(r.replies, 50))}  p95 ${fmt(replyP95)}  p99 ${fmt(percentile(r.replies, 99))}`,
      );
      console.log(
        `  target    ${slash ? `ack p99 < ${TARGET_ACK_P99_MS} ms, ` : ''}reply p95 < ${TARGET_REPLY_P95_MS} ms → ${met ? 'met' : 'NOT met'}`,
      );
    }
    if (!allMet) process.exitCode = 1;
  } finally {
    await server.stop();
    agent.destroy();
    slack.close();
    connector.close();
  }
}

main().catch((err) => {
  console.error(`bench:adapters: ${(err as Error).message}`);
  process.exit(1);
});
