/**
 * bench:fleet — the demo fleet as opsbot runs it: `opsbot serve` with the demo on (eight services as local
 * processes, the load generator in a process of its own), then
 *   1. the requests/s the fleet sustains under the load generator, counted from the services' own
 *      http_requests_total, and opsbot's CPU while it watches them (scrapes every service each second, health
 *      checks every second), read from opsbot's /metrics;
 *   2. restart and scale through the chat API, as an operator does it ("restart payments", "yes"): the time
 *      from the "yes" to the reply, which comes once opsbot has verified the service is healthy again,
 *      p50/p95 over 20 runs each.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from '../bot/cli/script-args';
import { loadMultiplier, type LoadPatternOptions } from '../demo/fleet/load-pattern';
import { SERVICE_NAMES } from '../demo/fleet/service-names';
import { elapsedMs, freePort, machineLine, percentile, startOpsbotServer, seconds } from './bench-support';

/** The load the bench configures: a simulated day as long as a real one, and bursts from this seed. */
const LOAD_PATTERN = { dayLengthSeconds: 86_400, bursts: { seed: 1 } } satisfies LoadPatternOptions;
/** How finely the targeted rate is averaged over the window: the load generator's own tick. */
const RATE_SAMPLE_SECONDS = 0.05;
/** Lets the fleet and the load generator get going before the measured window. */
const WARM_UP_MS = 3000;
/** fleetRequests reads each service's front port, which shows every request only with a single replica. */
const REPLICAS = 1;

async function main(): Promise<void> {
  const args = parseArgs('bench:fleet', { rate: 'number', duration: 'number', runs: 'number' });
  const rate = args.rate ?? 600;
  const duration = args.duration ?? 30;
  const runs = args.runs ?? 20;
  const apiKey = randomBytes(24).toString('hex');
  const ports: Record<string, number> = {};
  for (const name of SERVICE_NAMES) ports[name] = await freePort();

  console.log(`bench:fleet — ${machineLine()}`);
  const server = await startOpsbotServer((config) => {
    const services = config.services as Record<
      string,
      { environments: Record<string, unknown>; replicas: { min: number } }
    >;
    for (const name of SERVICE_NAMES) {
      services[name]!.environments.production = {
        healthUrl: `http://127.0.0.1:${ports[name]}/health`,
        metricsUrl: `http://127.0.0.1:${ports[name]}/metrics`,
      };
      services[name]!.replicas.min = REPLICAS;
    }
    config.log = { level: 'warn' };
    config.knowledge = { autoBuild: false };
    config.demo = {
      enabled: true,
      load: {
        enabled: true,
        ratePerSecond: rate,
        dayLengthSeconds: LOAD_PATTERN.dayLengthSeconds,
        seed: LOAD_PATTERN.bursts.seed,
      },
    };
    config.metrics = { source: 'scrape', scrape: { intervalSeconds: 1 } };
    config.auth = { apiKeys: [{ id: 'bench', key: apiKey, user: { id: 'bench', name: 'bench' } }] };
    config.policy.users['api:bench'] = ['operator'];
  });
  try {
    await delay(WARM_UP_MS);
    const before = await fleetRequests(ports);
    const cpuBefore = await server.cpuMs();
    const started = performance.now();
    const startedAt = Date.now() / 1000;
    await delay(duration * 1000);
    const after = await fleetRequests(ports);
    const cpuAfter = await server.cpuMs();
    const wall = elapsedMs(started);
    const targeted = rate * meanMultiplier(startedAt, Date.now() / 1000);
    const served = after.total - before.total;
    const errors = after.errors - before.errors;
    console.log(
      `fleet: ${Math.round(served / (wall / 1000)).toLocaleString('en-US')} requests/s sustained over ${seconds(wall / 1000)} ` +
        `(load generator targeted ${Math.round(targeted).toLocaleString('en-US')}/s on average over the window, ` +
        `${rate}/s at the daily peak; ${((errors / Math.max(1, served)) * 100).toFixed(2)}% 5xx), ` +
        `${SERVICE_NAMES.length} services, ${REPLICAS} replica each`,
    );
    console.log(
      `opsbot while watching (scrape every 1 s, health checks, load in its own process): ` +
        `${(((cpuAfter - cpuBefore) / wall) * 100).toFixed(1)}% of one core`,
    );

    const chat = chatClient(server.url, apiKey);
    const restarts: number[] = [];
    for (let i = 0; i < runs; i++)
      restarts.push(await change(chat, `restart payments`, `r${i}`, /^Restarted payments/));
    report('restart payments → healthy (rolling, 1 replica)', restarts);

    const scales: number[] = [];
    for (let i = 0; i < runs; i++) {
      const to = i % 2 === 0 ? 3 : 1;
      scales.push(await change(chat, `scale orders to ${to}`, `s${i}`, /^Scaled orders/));
    }
    report('scale orders 1 ↔ 3 → replicas ready', scales);
  } finally {
    await server.stop();
  }
}

/**
 * The load pattern's mean multiplier over [from, to) in epoch seconds. The load generator sends
 * ratePerSecond × loadMultiplier(epoch seconds) with the day length and seed the bench configured, so this
 * times the rate is what it aimed at during the window.
 */
function meanMultiplier(from: number, to: number): number {
  let sum = 0;
  let samples = 0;
  for (let t = from; t < to; t += RATE_SAMPLE_SECONDS, samples += 1) sum += loadMultiplier(t, LOAD_PATTERN);
  return sum / Math.max(1, samples);
}

/** Requests the fleet's services have answered so far, from each front port's /metrics (one replica each). */
async function fleetRequests(ports: Record<string, number>): Promise<{ total: number; errors: number }> {
  let total = 0;
  let errors = 0;
  for (const port of Object.values(ports)) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const [, labels, value] of text.matchAll(/^http_requests_total\{([^}]*)\} (\S+)$/gm)) {
      total += Number(value);
      if (/code="5\d\d"/.test(labels as string)) errors += Number(value);
    }
  }
  return { total, errors };
}

type Chat = (text: string, conversation: string) => Promise<string>;

function chatClient(url: string, apiKey: string): Chat {
  return async (text, conversation) => {
    const res = await fetch(`${url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ text, conversation }),
    });
    if (!res.ok) throw new Error(`chat answered HTTP ${res.status}`);
    return ((await res.json()) as { reply: { text: string } }).reply.text;
  };
}

/** Asks for a change, confirms it, and times the confirmation's answer: the change plus its verification. */
async function change(chat: Chat, request: string, conversation: string, done: RegExp): Promise<number> {
  const question = await chat(request, conversation);
  if (!question.startsWith('Please confirm')) throw new Error(`"${request}" got: ${question}`);
  const started = performance.now();
  const answer = await chat('yes', conversation);
  const ms = elapsedMs(started);
  if (!done.test(answer) || !/Verified after/.test(answer)) throw new Error(`"${request}" ended: ${answer}`);
  return ms;
}

function report(what: string, values: number[]): void {
  const sorted = [...values].sort((a, b) => a - b);
  console.log(
    `${what}: p50 ${seconds(percentile(sorted, 50) / 1000)}, p95 ${seconds(percentile(sorted, 95) / 1000)} ` +
      `(${values.length} runs, min ${seconds((sorted[0] ?? NaN) / 1000)}, max ${seconds((sorted[sorted.length - 1] ?? NaN) / 1000)})`,
  );
}

main().catch((err: unknown) => {
  console.error(`bench:fleet: ${(err as Error).message}`);
  process.exit(1);
});
