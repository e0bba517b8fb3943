/**
 * npm run sim:sagas — does failure prediction pay? The demo fleet's eight services run in this process with
 * the load generator in front of them, and a seeded fault schedule re-draws every --phase-seconds which
 * services (none, one or two) answer with 5xx (30–80% of requests) or answer late (50–95% of requests,
 * 1.2–1.8× the step timeout), through each service's POST /admin/fault as an operator's drill would. Two
 * orchestrators run the sagas of sagas/ against that same fleet at the same time, each with its own run store
 * and execution history, both scoring every run with the failure model:
 *   - baseline: the score is recorded, nothing changes;
 *   - predicted: a high-risk run needs approval (granted at once by a second simulated operator) and gets
 *     doubled step timeouts and extra attempts, as the orchestrator does in production.
 * Sagas start at a fixed rate in both arms, so the k-th saga of each starts under the same faults. Every saga
 * step gets the same short baseline (1 s timeout, 2 attempts) instead of what sagas/ declares, so latency
 * faults of about a second matter. The model reads 5 s of metrics, scraped every 0.5 s: a phase is six
 * windows long, as a half-hour incident is six of production's 5-minute windows.
 *
 * Prints the failed-saga rate of each arm (compensated or failed counts as failed), the relative reduction,
 * the model's ROC AUC on the baseline's runs (which it never saw: train:saga trained it on simulated
 * history), and the cost of scoring a run (p50/p99).
 *
 * Options: --runs <per arm> (2000), --rate <sagas started per second per arm> (10), --concurrency <cap per
 * arm> (64), --phase-seconds (30), --seed (1), --model <file.onnx> (models/saga-failure.onnx),
 * --high-risk <probability> (default: orchestrator.prediction.highRisk of the configuration, 0.3).
 */
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ScrapeMetricsSource } from '../adapters/metrics/scrape-metrics-source';
import { parseArgs } from '../bot/cli/script-args';
import { packageRoot } from '../bot/core/package-root';
import { ServiceCatalog } from '../bot/config/catalog';
import { loadConfig } from '../bot/config/load';
import { createLogger } from '../bot/core/logger';
import { ActionRegistry } from '../engines/orchestrator/action';
import { createEventAction } from '../engines/orchestrator/actions/event-action';
import { createHttpAction } from '../engines/orchestrator/actions/http-action';
import { FileRunStore } from '../engines/orchestrator/file-run-store';
import { OrchestratorService } from '../engines/orchestrator/orchestrator-service';
import { loadSagas } from '../engines/orchestrator/sagas/saga-loader';
import { seededRandom } from '../bot/core/seeded-random';
import type { MetricsSource } from '../bot/metrics/metrics-source';
import { startDemoService, type RunningDemoService } from '../demo/fleet/demo-service';
import { startLoadGenerator, type LoadGenerator } from '../demo/fleet/load-generator';
import { SERVICE_NAMES } from '../demo/fleet/service-names';
import type { RetryPolicy } from '../engines/eventbus/retry-policy';
import type { Actor, Orchestrator, RunRequest } from '../engines/orchestrator/orchestrator';
import { rocAuc } from '../engines/orchestrator/prediction/failure-model';
import { FileExecutionHistory, runFailed } from '../engines/orchestrator/prediction/file-execution-history';
import { OnnxRiskAssessor } from '../engines/orchestrator/prediction/onnx-risk-assessor';
import { RunFeatureExtractor } from '../engines/orchestrator/prediction/run-features';
import type { ExecutionHistory, RiskAssessor } from '../engines/orchestrator/risk';
import type { WorkflowRun } from '../engines/orchestrator/run';
import type { WorkflowDefinition } from '../engines/orchestrator/workflow';
import { OnnxModel } from '../engines/predictors';
import { machineLine, ms, percentile, tempDir } from './bench-support';

/** The baseline every saga step gets in the simulation. */
const STEP_TIMEOUT_MS = 1000;
const STEP_RETRY: RetryPolicy = { maxAttempts: 2, initialDelayMs: 50, maxDelayMs: 200 };
/** Requests/s the load generator sends at its daily peak, spread over the fleet: enough for metrics to read. */
const LOAD_RATE_PER_SECOND = 60;
/** The failure model's metrics window: shorter than a fault phase, so features lag as they do in production. */
const METRICS_WINDOW_MS = 5000;
const SCRAPE_INTERVAL_MS = 500;
const METRICS_CACHE_MS = 1000;
/** A run that has not ended by then is counted as unfinished (a bug, not a failure). */
const RUN_TIMEOUT_MS = 120_000;
const LATENCY_SAMPLES = 2000;
/** Calls before timing starts, so the JIT has compiled the path being timed. */
const LATENCY_WARM_UP = 200;

const STARTER: Actor = { id: 'simulation', roles: ['admin'] };
/** Someone else than the starter, so approval works whatever a saga's self-approval rule says. */
const APPROVER: Actor = { id: 'simulation:approver', roles: ['admin'] };

async function main(): Promise<void> {
  const args = parseArgs('sim:sagas', {
    runs: 'number',
    rate: 'number',
    concurrency: 'number',
    'phase-seconds': 'number',
    seed: 'number',
    model: 'string',
    'high-risk': 'number',
  });
  const runs = args.runs ?? 2000;
  const rate = args.rate ?? 10;
  const concurrency = args.concurrency ?? 64;
  const phaseSeconds = args['phase-seconds'] ?? 30;
  const seed = args.seed ?? 1;
  const modelFile = path.resolve(args.model ?? path.join(packageRoot(), 'models', 'saga-failure.onnx'));
  const configured = loadConfig().config.orchestrator.prediction;
  const thresholds = {
    highRisk: args['high-risk'] ?? configured.highRisk,
    mediumRisk: configured.mediumRisk,
  };

  console.log(`sim:sagas — ${machineLine()}`);
  const fleet = await startFleet(seed);
  const metrics = new ScrapeMetricsSource({
    targets: (service) => [`${fleet.urls[service]}/metrics`],
    services: () => SERVICE_NAMES.map((service) => ({ service, environment: 'production' as const })),
    intervalMs: SCRAPE_INTERVAL_MS,
    retentionMs: 10 * METRICS_WINDOW_MS,
  });
  metrics.start();
  const faults = new FaultSchedule(fleet.urls, { seed, phaseSeconds, stepTimeoutMs: STEP_TIMEOUT_MS });
  const { dir, remove } = tempDir('opsbot-sim-sagas-');
  const arms: Arm[] = [];
  try {
    for (const name of ['baseline', 'predicted'] as const) {
      arms.push(await startArm(name, { dir, fleet: fleet.urls, metrics, modelFile, thresholds }));
    }
    console.log(
      `fleet: ${SERVICE_NAMES.length} demo services in this process, load ${LOAD_RATE_PER_SECOND} requests/s at peak; ` +
        `faults re-drawn every ${phaseSeconds} s (seed ${seed}); every saga step ${ms(STEP_TIMEOUT_MS, 0)} timeout, ` +
        `${STEP_RETRY.maxAttempts} attempts; ${runs} sagas per arm, ${rate} started per second (at most ${concurrency} at once); ` +
        `model ${arms[0]?.assessor.description}; high risk from p ≥ ${thresholds.highRisk}`,
    );
    faults.start();
    const results = await Promise.all(
      arms.map((arm) => runSagaBatch(arm.orchestrator, runs, { ratePerSecond: rate, concurrency })),
    );
    await faults.stop();
    report(arms, results);
    // Measured on a quiet process: the fleet and its load generator share this event loop.
    await metrics.close();
    await fleet.close();
    await reportScoringCost(arms[0] as Arm, modelFile);
  } finally {
    await faults.stop();
    for (const arm of arms) await arm.close();
    await metrics.close();
    await fleet.close();
    remove();
  }
}

// ---------------------------------------------------------------------------------------------------------
// (1) The fleet and its faults.

interface Fleet {
  /** Service name → base URL. */
  urls: Record<string, string>;
  close(): Promise<void>;
}

async function startFleet(seed: number): Promise<Fleet> {
  const services: RunningDemoService[] = [];
  for (const service of SERVICE_NAMES) {
    // Crash faults are never injected here; should one arrive, it must not take the simulation down.
    services.push(await startDemoService({ service, replica: `${service}-1`, port: 0, onCrash: () => {} }));
  }
  const urls = Object.fromEntries(
    SERVICE_NAMES.map((service, i) => [service, (services[i] as RunningDemoService).url]),
  );
  const load: LoadGenerator = startLoadGenerator({
    targets: urls,
    ratePerSecond: LOAD_RATE_PER_SECOND,
    bursts: false,
    seed,
  });
  let closed: Promise<void> | undefined;
  return {
    urls,
    close() {
      closed ??= (async () => {
        await load.stop();
        await Promise.all(services.map((service) => service.close()));
      })();
      return closed;
    },
  };
}

type InjectedFault = { kind: 'errors'; rate: number } | { kind: 'latency'; rate: number; latencyMs: number };

/** How many services suffer a fault in a phase, by chance: calm phases, one sick service, two. */
const FAULTED_SERVICES = [
  { count: 0, share: 0.3 },
  { count: 1, share: 0.4 },
  { count: 2, share: 0.3 },
] as const;

/**
 * The faults of one phase, a function of the seed and the phase alone, so both arms and every rerun with
 * the seed face the same sequence. A faulted service answers 30–80% of requests with a 5xx, or delays
 * 50–95% of them by 1.2–1.8× the step timeout: late enough to time out a baseline attempt, not so late that
 * a doubled timeout cannot wait for it.
 */
function faultsOfPhase(seed: number, phase: number, stepTimeoutMs: number): Map<string, InjectedFault> {
  const random = seededRandom((Math.imul(seed, 0x9e3779b1) + phase) >>> 0);
  let draw = random();
  const { count } = FAULTED_SERVICES.find(({ share }) => (draw -= share) < 0) ?? FAULTED_SERVICES[0];
  const services = [...SERVICE_NAMES];
  const faults = new Map<string, InjectedFault>();
  while (faults.size < count) {
    const [service] = services.splice(Math.floor(random() * services.length), 1) as [string];
    faults.set(
      service,
      random() < 0.5
        ? { kind: 'errors', rate: 0.3 + 0.5 * random() }
        : {
            kind: 'latency',
            rate: 0.5 + 0.45 * random(),
            latencyMs: Math.round(stepTimeoutMs * (1.2 + 0.6 * random())),
          },
    );
  }
  return faults;
}

/** Applies each phase's faults to the fleet through POST (or DELETE) /admin/fault, every `phaseSeconds`. */
class FaultSchedule {
  private timer?: NodeJS.Timeout;
  private phase = 0;
  private applying: Promise<void> = Promise.resolve();
  private stopped?: Promise<void>;

  constructor(
    private readonly urls: Record<string, string>,
    private readonly options: { seed: number; phaseSeconds: number; stepTimeoutMs: number },
  ) {}

  start(): void {
    this.next();
    this.timer = setInterval(() => this.next(), this.options.phaseSeconds * 1000);
  }

  /** Stops re-drawing and clears every fault, so the fleet is healthy again. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      clearInterval(this.timer);
      await this.applying;
      await Promise.all(Object.values(this.urls).map((url) => adminFault(url, undefined)));
    })();
    return this.stopped;
  }

  private next(): void {
    const faults = faultsOfPhase(this.options.seed, this.phase++, this.options.stepTimeoutMs);
    // A fault outlives its phase by a little, so a late timer never leaves a gap; the next phase replaces it.
    const duration = this.options.phaseSeconds + 5;
    this.applying = this.applying.then(async () => {
      await Promise.all(
        Object.entries(this.urls).map(([service, url]) => adminFault(url, faults.get(service), duration)),
      );
    });
  }
}

async function adminFault(
  baseUrl: string,
  fault: InjectedFault | undefined,
  durationSeconds = 0,
): Promise<void> {
  const res = await fetch(`${baseUrl}/admin/fault`, {
    method: fault ? 'POST' : 'DELETE',
    headers: { 'content-type': 'application/json' },
    ...(fault ? { body: JSON.stringify({ ...fault, duration: durationSeconds }) } : {}),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${baseUrl}/admin/fault answered HTTP ${res.status}`);
}

// ---------------------------------------------------------------------------------------------------------
// (2) The orchestrators and the saga driver.

interface SimulationOrchestratorOptions {
  /** Service name → base URL of the demo fleet above: the catalog the sagas' http steps resolve against. */
  fleet: Record<string, string>;
  /** A fresh folder for this orchestrator's run store and audit log. */
  stateDir: string;
  history: ExecutionHistory;
  risk: RiskAssessor;
  /** False for the baseline: risk is scored and recorded with the run, and changes nothing. */
  adjustForRisk: boolean;
  /** Replace every saga step's timeout and retry policy from sagas/ (compensations keep their own). */
  stepTimeoutMs: number;
  retry: RetryPolicy;
}

interface SimulationOrchestrator {
  orchestrator: Orchestrator;
  close(): Promise<void>;
}

/**
 * FOR THE LEAD — the one piece that builds the real orchestrator (OrchestratorService or buildOrchestrator):
 * the sagas of sagas/ with every step's timeoutMs and retry replaced by the options', the standard actions
 * (http against a catalog whose services' production URLs are `fleet`; event to an in-process bus),
 * a FileRunStore and audit trail under stateDir, `history` and `risk` wired in, `adjustForRisk` passed
 * through, and housekeeping started. Runs must record their final status in `history` (the executor does).
 */
/**
 * The real orchestrator over the sagas in sagas/, with their steps' timeouts and retries set to the baseline's
 * (the fleet's faults are tuned against them), http steps resolved against the simulated fleet, events
 * published nowhere, and runs in a FileRunStore under stateDir. `adjustForRisk` is the only difference
 * between the two arms.
 */
async function createOrchestratorForSimulation(
  options: SimulationOrchestratorOptions,
): Promise<SimulationOrchestrator> {
  const { config } = loadConfig();
  const services = structuredClone(config.services);
  for (const [name, url] of Object.entries(options.fleet)) {
    const service = services[name];
    if (service)
      service.environments.production = { healthUrl: `${url}/health`, metricsUrl: `${url}/metrics` };
  }
  const catalog = new ServiceCatalog({ ...config, services });
  const actions = new ActionRegistry()
    .register(createHttpAction({ catalog }))
    .register(createEventAction({ publish: async () => undefined }));
  const { definitions, problems } = loadSagas(path.join(packageRoot(), 'sagas'), packageRoot(), actions);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0)
    throw new Error(
      `sagas/ has errors: ${errors.map((p) => `${p.file}:${p.line}: ${p.message}`).join('; ')}`,
    );
  const baseline = definitions.map((d) => ({
    ...d,
    steps: d.steps.map((step) => ({ ...step, timeoutMs: options.stepTimeoutMs, retry: options.retry })),
  }));
  const store = new FileRunStore(path.join(options.stateDir, 'orchestrator'));
  const orchestrator = new OrchestratorService({
    store,
    actions,
    definitions: () => baseline,
    audit: { record: () => {} },
    logger: createLogger('error', process.stderr),
    history: options.history,
    risk: options.risk,
    adjustForRisk: options.adjustForRisk,
  });
  await orchestrator.startBackgroundWork();
  return {
    orchestrator,
    async close() {
      await orchestrator.close();
      await store.close();
    },
  };
}

interface Arm {
  name: 'baseline' | 'predicted';
  orchestrator: Orchestrator;
  assessor: OnnxRiskAssessor;
  close(): Promise<void>;
}

async function startArm(
  name: Arm['name'],
  options: {
    dir: string;
    fleet: Record<string, string>;
    metrics: MetricsSource;
    modelFile: string;
    thresholds: { highRisk: number; mediumRisk: number };
  },
): Promise<Arm> {
  const stateDir = path.join(options.dir, name);
  const history = new FileExecutionHistory({ stateDir });
  const features = new RunFeatureExtractor({
    metrics: options.metrics,
    outcomes: history,
    windowMs: METRICS_WINDOW_MS,
    cacheMs: METRICS_CACHE_MS,
  });
  const assessor = await OnnxRiskAssessor.load(options.modelFile, {
    features,
    thresholds: options.thresholds,
  });
  const built = await createOrchestratorForSimulation({
    fleet: options.fleet,
    stateDir,
    history,
    risk: assessor,
    adjustForRisk: name === 'predicted',
    stepTimeoutMs: STEP_TIMEOUT_MS,
    retry: STEP_RETRY,
  });
  return {
    name,
    orchestrator: built.orchestrator,
    assessor,
    async close() {
      await built.close();
      await history.close();
      await assessor.release();
    },
  };
}

interface SagaBatchResult {
  /** Runs in a final status. */
  finished: WorkflowRun[];
  /** Runs that could not be started or did not end in time, with why. */
  unfinished: string[];
}

/**
 * Parameters naming a record another saga creates (refund takes a payment order-fulfillment charged). Their
 * schema examples name records a fresh fleet does not have, so they are taken from what succeeded runs'
 * steps answered (`output.body.<name>`), each value once.
 */
const CHAINED_PARAMETERS = ['paymentId'];

/**
 * Starts `n` sagas at `ratePerSecond`, round-robin over the orchestrator's sagas with parameters from their
 * schemas' examples and defaults (and chained parameters from earlier runs); approves those that wait for
 * approval, as a second operator, and waits for each to end. Starts follow the clock, not the runs' progress,
 * as requests arrive in production: a struggling fleet gets as many sagas as a healthy one, and two batches
 * started together start their k-th sagas at the same moment, under the same faults. At most `concurrency`
 * run at once. Uses only the Orchestrator interface.
 */
async function runSagaBatch(
  orchestrator: Orchestrator,
  n: number,
  options: { ratePerSecond: number; concurrency: number },
): Promise<SagaBatchResult> {
  const sagas = orchestrator
    .definitions('saga')
    .filter((definition) => exampleParams(definition) !== undefined);
  const chainedOf = (definition: WorkflowDefinition) =>
    CHAINED_PARAMETERS.filter((name) => name in definition.parameters.properties);
  // One saga that needs nothing from another is enough for the round-robin below always to find a start.
  if (!sagas.some((definition) => chainedOf(definition).length === 0)) {
    throw new Error('no saga has example values for all its required parameters');
  }
  const produced = new Map<string, unknown[]>(CHAINED_PARAMETERS.map((name) => [name, []]));
  const result: SagaBatchResult = { finished: [], unfinished: [] };
  let turn = 0;
  /** The next saga whose parameters can be filled now; one that waits for a chained value is passed over. */
  const nextRequest = (): RunRequest => {
    for (;;) {
      const definition = sagas[turn++ % sagas.length] as WorkflowDefinition;
      const params = exampleParams(definition) as Record<string, unknown>;
      const chained = chainedOf(definition);
      if (chained.some((name) => produced.get(name)?.length === 0)) continue;
      for (const name of chained) params[name] = produced.get(name)?.shift();
      return {
        definitionId: definition.id,
        kind: 'saga',
        params,
        actor: STARTER,
        trigger: { type: 'simulation' },
      };
    }
  };
  const inFlight = new Set<Promise<void>>();
  const begin = performance.now();
  for (let i = 0; i < n; i++) {
    const wait = begin + (i * 1000) / options.ratePerSecond - performance.now();
    if (wait > 0) await delay(wait);
    if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    const request = nextRequest();
    const running: Promise<void> = runSaga(orchestrator, request)
      .then(
        (run) => {
          result.finished.push(run);
          if (run.status === 'succeeded') collectChainedValues(run, produced);
        },
        (err: unknown) => void result.unfinished.push(`${request.definitionId}: ${(err as Error).message}`),
      )
      .finally(() => inFlight.delete(running));
    inFlight.add(running);
  }
  await Promise.all(inFlight);
  return result;
}

function collectChainedValues(run: WorkflowRun, produced: Map<string, unknown[]>): void {
  for (const step of run.steps) {
    const body = (step.output as { body?: unknown } | undefined)?.body;
    if (typeof body !== 'object' || body === null) continue;
    for (const [name, values] of produced) {
      if (name in run.params) continue;
      const value = (body as Record<string, unknown>)[name];
      if (value !== undefined && !values.includes(value)) values.push(value);
    }
  }
}

async function runSaga(orchestrator: Orchestrator, request: RunRequest): Promise<WorkflowRun> {
  const run = await orchestrator.start(request);
  if (run.status === 'awaiting_approval' && run.approvalId) {
    const outcome = await orchestrator.approve(run.approvalId, APPROVER);
    if (outcome.result !== 'approved') throw new Error(`approval ${run.approvalId} was ${outcome.result}`);
  }
  return orchestrator.wait(run.id, { timeoutMs: RUN_TIMEOUT_MS });
}

/** A value for every parameter from its schema's examples, default or enum; undefined when a required one has none. */
function exampleParams(definition: WorkflowDefinition): Record<string, unknown> | undefined {
  const params: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(definition.parameters.properties)) {
    const examples = schema.examples;
    const choices = schema.enum;
    const value =
      Array.isArray(examples) && examples.length > 0
        ? examples[0]
        : schema.default !== undefined
          ? schema.default
          : Array.isArray(choices)
            ? choices[0]
            : undefined;
    if (value !== undefined) params[name] = value;
  }
  const missing = (definition.parameters.required ?? []).some((name) => params[name] === undefined);
  return missing ? undefined : params;
}

// ---------------------------------------------------------------------------------------------------------
// (3) What it prints.

function report(arms: readonly Arm[], results: readonly SagaBatchResult[]): void {
  const rates = arms.map((arm, i) => {
    const { finished, unfinished } = results[i] as SagaBatchResult;
    const decided = finished.filter((run) => runFailed(run.status) !== undefined);
    const failed = decided.filter((run) => runFailed(run.status)).length;
    const high = finished.filter((run) => run.risk?.level === 'high');
    const highFailed = high.filter((run) => runFailed(run.status)).length;
    const others = [
      ...countBy(finished.filter((run) => runFailed(run.status) === undefined).map((run) => run.status)),
      ...(unfinished.length > 0 ? [`${unfinished.length} unfinished (first: ${unfinished[0]})`] : []),
    ];
    console.log(
      `${arm.name.padEnd(9)} ${decided.length} sagas, ${failed} failed (${percent(failed / decided.length)}); ` +
        `${high.length} scored high risk, ${highFailed} of them failed` +
        (arm.name === 'predicted'
          ? ' (approved at once, step timeouts ×2, extra attempts)'
          : ' (nothing changed)') +
        (others.length > 0 ? `; also ${others.join(', ')}` : ''),
    );
    return failed / decided.length;
  });
  const [baseline, predicted] = rates as [number, number];
  console.log(
    `failed-saga rate: ${percent(baseline)} → ${percent(predicted)} with prediction-driven adjustments ` +
      `(${percent((baseline - predicted) / baseline)} fewer failed sagas)`,
  );
  const scored = (results[0] as SagaBatchResult).finished.filter(
    (run) => run.risk !== undefined && runFailed(run.status) !== undefined,
  );
  const auc = rocAuc(
    scored.map((run) => run.risk?.probability as number),
    scored.map((run) => runFailed(run.status) as boolean),
  );
  console.log(
    `failure model ROC AUC on the baseline's ${scored.length} runs (held out: the model never saw this fleet): ${auc.toFixed(3)}`,
  );
}

/** Scoring cost on a quiet event loop: the assessor (features from cached metrics, then ONNX) and ONNX alone. */
async function reportScoringCost(arm: Arm, modelFile: string): Promise<void> {
  const definition = arm.orchestrator.definitions('saga')[0];
  if (!definition) return;
  const services = [
    ...new Set(
      definition.steps.map((step) => step.with.service).filter((s): s is string => typeof s === 'string'),
    ),
  ];
  const assessTimes: number[] = [];
  for (let i = -LATENCY_WARM_UP; i < LATENCY_SAMPLES; i++) {
    const started = performance.now();
    await arm.assessor.assess({ definition, params: {}, services, now: new Date() });
    if (i >= 0) assessTimes.push(performance.now() - started);
  }
  const model = await OnnxModel.load(modelFile);
  const row = new Float32Array(model.features.length);
  const inferenceTimes: number[] = [];
  try {
    for (let i = -LATENCY_WARM_UP; i < LATENCY_SAMPLES; i++) {
      const started = performance.now();
      await model.predictBatch(row, 1);
      if (i >= 0) inferenceTimes.push(performance.now() - started);
    }
  } finally {
    await model.release();
  }
  const line = (times: number[]) => {
    const sorted = [...times].sort((a, b) => a - b);
    return `p50 ${ms(percentile(sorted, 50), 3)}, p99 ${ms(percentile(sorted, 99), 3)}`;
  };
  console.log(
    `scoring a run (${LATENCY_SAMPLES} in a row, ${services.length} targets): ${line(assessTimes)} ` +
      `(features from cached metrics + ONNX); ONNX inference alone ${line(inferenceTimes)}`,
  );
}

function countBy(values: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].map(([value, count]) => `${count} ${value}`);
}

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

main().catch((err: unknown) => {
  console.error(`sim:sagas: ${(err as Error).message}`);
  process.exit(1);
});
