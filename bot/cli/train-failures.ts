/**
 * npm run train:failures — trains the model the maintenance controller predicts service failures with
 * (engines/maintenance/failure-prediction). Until there are --min-real labelled rows from real history it
 * bootstraps with simulated service timelines (simulated-service-history.ts) plus whatever real rows exist.
 * Holds out a fifth — whole simulated timelines, since rows minutes apart on one timeline are near copies —
 * prints AUC, precision and recall on them, and writes models/service-failure.onnx with its card
 * models/service-failure.json. The same seed gives the same weights.
 *
 * Options: --history <file.jsonl> (one labelled row a line: {"features": {"<feature>": <number>, …},
 * "failed": <boolean>}, features by SERVICE_FAILURE_FEATURES name), --out <file.onnx> (default: the
 * package's models/service-failure.onnx), --min-real <rows> (2000), --services <timelines> (64),
 * --days <days per timeline> (14), --seed <n> (10).
 */
import path from 'node:path';
import { packageRoot } from '../core/package-root';
import { metadataPathFor } from '../../engines/predictors';
import {
  DEFAULT_LOGISTIC_TRAINING,
  evaluateFailureModel,
  exportFailureModel,
  failureModelMetadata,
  holdOut,
  strongestSignals,
  trainFailureModel,
  trainingDataHash,
  type TrainingRow,
} from '../../engines/orchestrator/prediction/failure-model';
import { SERVICE_FAILURE_FEATURES } from '../../engines/maintenance/failure-prediction/service-failure-features';
import {
  DEFAULT_FAILURE_RISK_THRESHOLDS,
  SERVICE_FAILURE_MODEL,
  SERVICE_FAILURE_MODEL_FILE,
} from '../../engines/maintenance/failure-prediction/service-failure-model';
import {
  simulateServiceHistory,
  type SimulatedServiceRow,
} from '../../engines/maintenance/failure-prediction/simulated-service-history';
import { UsageError } from './exit';
import { cardMetrics, writeModelFiles } from './model-files';
import { readJsonlLines } from './jsonl-input';
import { parseArgs } from './script-args';

const HELD_OUT_SHARE = 0.2;
const { highRisk: HIGH_RISK, mediumRisk: MEDIUM_RISK } = DEFAULT_FAILURE_RISK_THRESHOLDS;

interface SourcedRow extends TrainingRow {
  real: boolean;
  /** A simulated row whose service was already down: a failure in progress rather than a prediction. */
  downNow?: boolean;
}

async function main(): Promise<void> {
  const args = parseArgs('train:failures', {
    history: 'string',
    out: 'string',
    'min-real': 'number',
    services: 'number',
    days: 'number',
    seed: 'number',
  });
  const out = path.resolve(args.out ?? path.join(packageRoot(), SERVICE_FAILURE_MODEL_FILE));
  const minReal = args['min-real'] ?? 2000;
  const seed = args.seed ?? 10;

  const real = args.history === undefined ? [] : realRows(path.resolve(args.history));
  const bootstrapped = real.length < minReal;
  const simulated = bootstrapped
    ? simulateServiceHistory({ services: args.services ?? 64, days: args.days ?? 14, seed })
    : [];
  const timelines = holdOut([...new Set(simulated.map((row) => row.service))], HELD_OUT_SHARE, seed);
  const heldOutTimelines = new Set(timelines.test);
  const realSplit = holdOut(real, HELD_OUT_SHARE, seed);
  const simulatedRow = (row: SimulatedServiceRow): SourcedRow => ({
    features: row.features,
    failed: row.failed,
    real: false,
    downNow: row.downNow,
  });
  const train: SourcedRow[] = [
    ...simulated.filter((row) => !heldOutTimelines.has(row.service)).map(simulatedRow),
    ...realSplit.train,
  ];
  const test: SourcedRow[] = [
    ...simulated.filter((row) => heldOutTimelines.has(row.service)).map(simulatedRow),
    ...realSplit.test,
  ];
  const rows = [...train, ...test];

  const started = performance.now();
  const model = trainFailureModel(train, SERVICE_FAILURE_FEATURES);
  const trainSeconds = (performance.now() - started) / 1000;
  const scored = evaluateFailureModel(model, test, HIGH_RISK);
  const scoredMedium = evaluateFailureModel(model, test, MEDIUM_RISK);
  const scoredUp = evaluateFailureModel(
    model,
    test.filter((row) => !row.downNow),
    HIGH_RISK,
  );
  const realScored = evaluateFailureModel(model, realSplit.test, HIGH_RISK);

  const metrics: Record<string, number> = {
    auc: scored.auc,
    auc_up_only: scoredUp.auc,
    precision: scored.precision,
    recall: scored.recall,
    precision_medium: scoredMedium.precision,
    recall_medium: scoredMedium.recall,
    failure_rate: rows.filter((row) => row.failed).length / rows.length,
    train_rows: train.length,
    test_rows: test.length,
    real_rows: real.length,
    simulated_rows: simulated.length,
    ...(Number.isFinite(realScored.auc) ? { real_auc: realScored.auc } : {}),
  };
  const metadata = failureModelMetadata(
    model,
    {
      metrics: cardMetrics(metrics),
      trainedAt: new Date().toISOString(),
      dataHash: trainingDataHash(SERVICE_FAILURE_MODEL.version, SERVICE_FAILURE_FEATURES, seed, rows),
      description:
        `Logistic regression (IRLS, L2 ${DEFAULT_LOGISTIC_TRAINING.l2}) on ${SERVICE_FAILURE_FEATURES.length} standardised features ` +
        `of a service's last hour of health checks, restarts and metrics; label: the service is down at some moment of the next hour; ` +
        `${real.length} real rows` +
        (bootstrapped
          ? ` and ${simulated.length} simulated rows (${timelines.train.length + timelines.test.length} timelines, seed ${seed})`
          : '') +
        `, ${Math.round(HELD_OUT_SHARE * 100)}% held out.`,
    },
    SERVICE_FAILURE_MODEL,
  );

  writeModelFiles(out, exportFailureModel(model, SERVICE_FAILURE_MODEL), metadata);

  console.log(
    `train:failures — ${real.length} real rows` +
      (args.history === undefined ? '' : ` from ${args.history}`) +
      (bootstrapped
        ? ` (fewer than ${minReal}: bootstrapped with ${simulated.length} simulated rows from ${timelines.train.length + timelines.test.length} service timelines)`
        : '') +
      `, ${SERVICE_FAILURE_FEATURES.length} features, trained in ${trainSeconds.toFixed(1)} s`,
  );
  console.log(
    `held-out (${test.length} rows, base rate ${percent(scored.failureRate)} fail within the hour): ` +
      `ROC AUC ${scored.auc.toFixed(3)}, precision ${scored.precision.toFixed(3)}, ` +
      `recall ${scored.recall.toFixed(3)} at high risk (p ≥ ${HIGH_RISK}); ` +
      `precision ${scoredMedium.precision.toFixed(3)}, recall ${scoredMedium.recall.toFixed(3)} at medium risk and above (p ≥ ${MEDIUM_RISK})`,
  );
  console.log(
    `held-out rows whose service was up at the time (${scoredUp.count}, base rate ${percent(scoredUp.failureRate)}): ` +
      `ROC AUC ${scoredUp.auc.toFixed(3)}, precision ${scoredUp.precision.toFixed(3)}, recall ${scoredUp.recall.toFixed(3)} at high risk`,
  );
  if (Number.isFinite(realScored.auc)) {
    console.log(`held-out real rows only (${realScored.count}): ROC AUC ${realScored.auc.toFixed(3)}`);
  }
  console.log(`strongest signals (log-odds per standard deviation): ${strongestSignals(model)}`);
  console.log(
    `wrote ${out} and ${path.basename(metadataPathFor(out))} (data ${metadata.dataHash?.slice(0, 12)})`,
  );
}

/** Labelled rows from a history file, every feature of today's list by name; a bad line stops training. */
function realRows(file: string): SourcedRow[] {
  return readJsonlLines(file).map(({ line, value }) => {
    const record = value as { features?: Record<string, unknown>; failed?: unknown } | null;
    const features = SERVICE_FAILURE_FEATURES.map((name) => record?.features?.[name]);
    if (
      typeof record?.failed !== 'boolean' ||
      !features.every((v): v is number => typeof v === 'number' && Number.isFinite(v))
    ) {
      throw new UsageError(
        `${file} line ${line}: needs "failed" (true or false) and "features" with a number for each of ${SERVICE_FAILURE_FEATURES.join(', ')}`,
      );
    }
    return { features, failed: record.failed, real: true };
  });
}

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

main().catch((err) => {
  console.error(`train:failures: ${(err as Error).message}`);
  process.exit(1);
});
