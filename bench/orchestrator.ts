/**
 * npm run bench:orchestrator — the durable executor's own cost, in this one process:
 *   1. throughput: 5,000 runs of a 3-step saga whose steps are in-process no-ops, 200 in flight (each one
 *      `start` then `wait` until it ends), after 500 warm-up runs; sagas/s from the first start to the last end.
 *      Every transition is saved and audited as in production: on the embedded store (the fsync'd journal
 *      under a temp folder) with the hash-chained audit log, then on Redis (127.0.0.1:6379) with the same log.
 *   2. per-step overhead: 300 runs one at a time; for each step the time from its `step.started` transition to
 *      its `step.succeeded` (the no-op action plus two durable saves, two audit records and the transition
 *      announcements): p50/p95.
 *   3. failure prediction: 10,000 single-run inferences through the predictor runtime (the shipped
 *      models/saga-failure.onnx) on feature rows built before the clock starts: p50/p99.
 * Redis keys are unique per run and removed at the end.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Redis from 'ioredis';
import { RedisRunStore } from '../adapters/redis/redis-run-store';
import { createLogger } from '../bot/core/logger';
import { packageRoot } from '../bot/core/package-root';
import { HashChainedAuditLog } from '../engines/audit/hash-chained-audit-log';
import { ActionRegistry } from '../engines/orchestrator/action';
import { inProcessAction } from '../engines/orchestrator/actions/in-process-action';
import { FileRunStore } from '../engines/orchestrator/file-run-store';
import { OrchestratorService } from '../engines/orchestrator/orchestrator-service';
import type { RunStore } from '../engines/orchestrator/run-store';
import { DEFAULT_POLICY, type WorkflowDefinition } from '../engines/orchestrator/workflow';
import { OnnxModel } from '../engines/predictors';
import { machineLine, percentile, tempDir } from './bench-support';

const RUNS = 5_000;
const WARM_UP = 500;
const IN_FLIGHT = 200;
const SEQUENTIAL_RUNS = 300;
const INFERENCES = 10_000;

const SAGA: WorkflowDefinition = {
  kind: 'saga',
  id: 'bench-three-steps',
  title: 'Three in-process steps',
  description: 'reserve → charge → confirm, each an in-process no-op',
  source: 'bench',
  parameters: { type: 'object', properties: { order: { type: 'string' } } },
  policy: DEFAULT_POLICY,
  triggers: { alerts: [], intents: [], schedules: [] },
  steps: ['reserve', 'charge', 'confirm'].map((id) => ({
    id,
    action: 'noop',
    with: { order: '{{ params.order }}' },
    mutating: true,
    timeoutMs: 5_000,
    retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 100 },
  })),
};

const logger = createLogger('silent');

function orchestratorOn(
  store: RunStore,
  auditFile: string,
): { service: OrchestratorService; audit: HashChainedAuditLog } {
  const actions = new ActionRegistry().register(inProcessAction('noop', async () => ({ ok: true })));
  const audit = new HashChainedAuditLog({ file: auditFile });
  const service = new OrchestratorService({ store, actions, definitions: () => [SAGA], audit, logger });
  return { service, audit };
}

async function runMany(service: OrchestratorService, count: number): Promise<void> {
  let next = 0;
  const actor = { id: 'bench', roles: ['operator'] };
  const worker = async () => {
    while (next < count) {
      next += 1;
      const run = await service.start({
        definitionId: SAGA.id,
        params: { order: `o-${next}` },
        actor,
        trigger: { type: 'simulation' },
      });
      const ended = await service.wait(run.id);
      if (ended.status !== 'succeeded') throw new Error(`run ${run.id} ended ${ended.status}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

async function throughput(label: string, store: RunStore, auditFile: string): Promise<number> {
  const { service, audit } = orchestratorOn(store, auditFile);
  await runMany(service, WARM_UP);
  const started = performance.now();
  await runMany(service, RUNS);
  const seconds = (performance.now() - started) / 1000;
  await service.close();
  await audit.close();
  await store.close();
  const rate = RUNS / seconds;
  console.log(
    `${label}: ${Math.round(rate).toLocaleString('en-US')} sagas/s (${RUNS.toLocaleString('en-US')} runs of 3 steps, ${IN_FLIGHT} in flight, ${seconds.toFixed(2)} s)`,
  );
  return rate;
}

async function stepOverhead(store: RunStore, auditFile: string): Promise<number[]> {
  const { service, audit } = orchestratorOn(store, auditFile);
  const began = new Map<string, number>();
  const durations: number[] = [];
  service.onTransition((t) => {
    if (!t.step) return;
    const key = `${t.run.id}:${t.step.id}`;
    if (t.type === 'step.started') began.set(key, performance.now());
    if (t.type === 'step.succeeded') durations.push(performance.now() - (began.get(key) as number));
  });
  const actor = { id: 'bench', roles: ['operator'] };
  for (let i = 0; i < SEQUENTIAL_RUNS; i++) {
    const run = await service.start({
      definitionId: SAGA.id,
      params: { order: `s-${i}` },
      actor,
      trigger: { type: 'simulation' },
    });
    await service.wait(run.id);
  }
  await service.close();
  await audit.close();
  await store.close();
  return durations.slice(SEQUENTIAL_RUNS / 10).sort((a, b) => a - b);
}

async function inference(): Promise<number[] | undefined> {
  const file = path.join(packageRoot(), 'models', 'saga-failure.onnx');
  let model: Awaited<ReturnType<typeof OnnxModel.load>>;
  try {
    model = await OnnxModel.load(file);
  } catch (err) {
    console.log(`failure prediction: not measured (${(err as Error).message})`);
    return undefined;
  }
  const width = model.features.length;
  const rows = Array.from({ length: 256 }, (_, r) =>
    Array.from({ length: width }, (_, c) => ((r * 31 + c * 7) % 100) / 100),
  );
  for (let i = 0; i < 1000; i++) await model.predict(rows[i % rows.length] as number[]);
  const times: number[] = [];
  for (let i = 0; i < INFERENCES; i++) {
    const row = rows[i % rows.length] as number[];
    const t0 = performance.now();
    await model.predict(row);
    times.push(performance.now() - t0);
  }
  await model.release();
  return times.sort((a, b) => a - b);
}

function ms(value: number): string {
  return value >= 1 ? `${value.toFixed(2)} ms` : `${Math.round(value * 1000)} µs`;
}

async function main(): Promise<void> {
  console.log(`bench:orchestrator — ${machineLine()}`);
  const temp = tempDir('opsbot-bench-orch-');
  const redisPrefix = `opsbot:bench:${randomUUID().slice(0, 8)}:`;
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  try {
    await throughput(
      'embedded store (journal, fdatasync per group commit)',
      new FileRunStore(path.join(temp.dir, 'file'), { sync: 'always' }),
      path.join(temp.dir, 'audit-file.log'),
    );
    let redisUp = true;
    try {
      await redis.ping();
    } catch {
      redisUp = false;
      console.log('redis store: not measured (no Redis at 127.0.0.1:6379)');
    }
    if (redisUp) {
      await throughput(
        'redis store (127.0.0.1:6379)',
        new RedisRunStore(redis, redisPrefix),
        path.join(temp.dir, 'audit-redis.log'),
      );
    }
    const steps = await stepOverhead(
      new FileRunStore(path.join(temp.dir, 'steps')),
      path.join(temp.dir, 'audit-steps.log'),
    );
    console.log(
      `per-step overhead (embedded, one run at a time, ${steps.length} steps): p50 ${ms(percentile(steps, 50))}, p95 ${ms(percentile(steps, 95))}`,
    );
    const times = await inference();
    if (times) {
      console.log(
        `failure-prediction inference (${INFERENCES.toLocaleString('en-US')} single runs): p50 ${ms(percentile(times, 50))}, p99 ${ms(percentile(times, 99))}`,
      );
    }
  } finally {
    const keys = await redis.keys(`${redisPrefix}*`).catch(() => [] as string[]);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    temp.remove();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
