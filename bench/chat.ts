/**
 * npm run bench:chat — drives POST /api/chat of a real opsbot server (a separate process, started here with
 * a generated config) with autocannon, over a mix of utterances, and prints latency percentiles and
 * throughput. Options: --duration <s> (20), --connections <n> (50).
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { parseArgs, usageError } from '../bot/cli/script-args';
import { machineLine, ms, percentile, startOpsbotServer } from './bench-support';

const TARGET_P95_MS = 20;
const TARGET_RPS = 1000;

/** What on-call engineers type, including multi-turn pieces ("scale payments" then "5") and refusals. */
const UTTERANCES = [
  'is payments healthy?',
  'status of everything',
  'help',
  'hello',
  'scale payments',
  '5',
  'no',
  'restart orders in staging',
  'why is checkout returning 502s?',
  'p95 latency of checkout over the last hour',
  'show the last 10 order.created events',
  'what alerts are firing?',
  'silence KubePodCrashLooping for 2h',
  'tell me a joke',
];

async function main(): Promise<void> {
  const args = parseArgs('bench:chat', { duration: 'number', connections: 'number', nlu: 'string' });
  const duration = args.duration ?? 20;
  const connections = args.connections ?? 50;
  if (args.nlu !== undefined && args.nlu !== 'rules' && args.nlu !== 'hybrid')
    usageError('bench:chat', `--nlu is rules or hybrid, not "${args.nlu}"`);
  const apiKey = randomBytes(24).toString('hex');

  // The demo config, plus an API key with operator rights so the mix exercises slots and confirmations.
  const server = await startOpsbotServer((config) => {
    config.auth = { apiKeys: [{ id: 'bench', key: apiKey, user: { id: 'bench', name: 'bench' } }] };
    config.policy.users['api:bench'] = ['operator'];
    if (args.nlu) config.nlu = { engine: args.nlu };
  });
  const { url } = server;
  try {
    let conversations = 0;
    const latencies: number[] = [];
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: `${url}/api/chat`,
          method: 'POST',
          connections,
          duration,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
          // Each connection is one user: it sends the mix in order, waiting for each reply as a person does,
          // so multi-turn pieces ("scale payments", "5", "no") meet. autocannon gives every pass over these
          // requests a fresh context, so each pass is a new conversation: sessions are created and reused.
          requests: UTTERANCES.map((text, i) => ({
            setupRequest: (req: autocannon.Request, context: { conversation?: string }) => {
              if (i === 0) context.conversation = `bench-${conversations++}`;
              return { ...req, body: JSON.stringify({ text, conversation: context.conversation }) };
            },
          })),
        },
        (err, res: autocannon.Result) => (err ? reject(err as Error) : resolve(res)),
      );
      instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
    });
    latencies.sort((a, b) => a - b);

    const p50 = percentile(latencies, 50);
    const p95 = percentile(latencies, 95);
    const p99 = percentile(latencies, 99);
    const rps = result.requests.total / duration;
    const pass = p95 < TARGET_P95_MS && rps >= TARGET_RPS;
    console.log(
      `opsbot bench:chat — POST /api/chat, ${connections} connections, ${duration} s, ${UTTERANCES.length}-utterance mix`,
    );
    console.log(`machine:     ${machineLine()}`);
    console.log(
      `requests:    ${result.requests.total} (${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx)`,
    );
    console.log(`throughput:  ${rps.toFixed(0)} requests/s`);
    console.log(
      `latency:     p50 ${ms(p50)}   p95 ${ms(p95)}   p99 ${ms(p99)}   max ${ms(latencies[latencies.length - 1] ?? NaN)}`,
    );
    console.log(
      `target:      p95 < ${TARGET_P95_MS} ms and >= ${TARGET_RPS} requests/s → ${pass ? 'met' : 'NOT met'}`,
    );
    if (result.errors > 0 || result.non2xx > 0) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

main().catch((err) => {
  console.error(`bench:chat: ${(err as Error).message}`);
  process.exit(1);
});
