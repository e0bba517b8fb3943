/**
 * npm run train:saga — trains the failure model the orchestrator scores runs with, from execution history
 * (stateDir/orchestrator/history.jsonl). Until there are --min-real runs with recorded features it bootstraps
 * with simulated runs (engines/orchestrator/prediction/simulated-history.ts) plus whatever real runs exist.
 * Holds out a fifth of the runs, prints AUC, precision and recall on them, and writes models/saga-failure.onnx
 * with its card models/saga-failure.json.
 *
 * Options: --history <file>, --out <file.onnx> (default: the package's models/saga-failure.onnx),
 * --min-real <runs> (500), --simulated <runs> (20000), --seed <n> (8).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../core/package-root';
import { loadConfig } from '../config/load';
import { metadataPathFor } from '../../engines/predictors';
import {
  DEFAULT_LOGISTIC_TRAINING,
  evaluateFailureModel,
  exportFailureModel,
  failureModelMetadata,
  FAILURE_MODEL_VERSION,
  holdOut,
  strongestSignals,
  trainFailureModel,
  trainingDataHash,
  type TrainingRow,
} from '../../engines/orchestrator/prediction/failure-model';
import {
  HISTORY_FILE,
  readHistory,
  type HistoryRecord,
} from '../../engines/orchestrator/prediction/file-execution-history';
import { FAILURE_FEATURES } from '../../engines/orchestrator/prediction/run-features';
import { simulateRuns } from '../../engines/orchestrator/prediction/simulated-history';
import { cardMetrics, writeModelFiles } from './model-files';
import { parseArgs } from './script-args';

const HELD_OUT_SHARE = 0.2;
/** The config's default orchestrator.prediction.highRisk: precision and recall are of "high risk". */
const HIGH_RISK = 0.5;

interface SourcedRow extends TrainingRow {
  real: boolean;
}

async function main(): Promise<void> {
  const args = parseArgs('train:saga', {
    history: 'string',
    out: 'string',
    'min-real': 'number',
    simulated: 'number',
    seed: 'number',
  });
  const historyFile = args.history !== undefined ? path.resolve(args.history) : configuredHistoryFile();
  const out = path.resolve(args.out ?? path.join(packageRoot(), 'models', 'saga-failure.onnx'));
  const minReal = args['min-real'] ?? 500;
  const seed = args.seed ?? 8;

  const real = existsSync(historyFile) ? trainingRows(await readHistory(historyFile)) : [];
  const bootstrapped = real.length < minReal;
  const simulated = bootstrapped ? simulateRuns({ runs: args.simulated ?? 20_000, seed }) : [];
  const rows: SourcedRow[] = [
    ...simulated.map((run) => ({ features: run.features, failed: run.failed, real: false })),
    ...real,
  ];
  const { train, test } = holdOut(rows, HELD_OUT_SHARE, seed);

  const started = performance.now();
  const model = trainFailureModel(train, FAILURE_FEATURES);
  const trainSeconds = (performance.now() - started) / 1000;
  const scored = evaluateFailureModel(model, test, HIGH_RISK);
  const realScored = evaluateFailureModel(
    model,
    test.filter((row) => row.real),
    HIGH_RISK,
  );

  const metrics: Record<string, number> = {
    auc: scored.auc,
    precision: scored.precision,
    recall: scored.recall,
    failure_rate: rows.filter((row) => row.failed).length / rows.length,
    train_runs: train.length,
    test_runs: test.length,
    real_runs: real.length,
    simulated_runs: simulated.length,
    ...(Number.isFinite(realScored.auc) ? { real_auc: realScored.auc } : {}),
  };
  const metadata = failureModelMetadata(model, {
    metrics: cardMetrics(metrics),
    trainedAt: new Date().toISOString(),
    dataHash: trainingDataHash(FAILURE_MODEL_VERSION, FAILURE_FEATURES, seed, rows),
    description:
      `Logistic regression (IRLS, L2 ${DEFAULT_LOGISTIC_TRAINING.l2}) on ${FAILURE_FEATURES.length} standardised features of a run before it starts; ` +
      `${real.length} real runs from execution history` +
      (bootstrapped ? ` and ${simulated.length} simulated runs (seed ${seed})` : '') +
      `, ${Math.round(HELD_OUT_SHARE * 100)}% held out.`,
  });

  writeModelFiles(out, exportFailureModel(model), metadata);

  console.log(
    `train:saga — ${real.length} real runs from ${historyFile}` +
      (bootstrapped ? ` (fewer than ${minReal}: bootstrapped with ${simulated.length} simulated runs)` : '') +
      `, ${FAILURE_FEATURES.length} features, trained in ${trainSeconds.toFixed(1)} s`,
  );
  console.log(
    `held-out (${test.length} runs, ${percent(scored.failureRate)} failed): ROC AUC ${scored.auc.toFixed(3)}, ` +
      `precision ${scored.precision.toFixed(3)}, recall ${scored.recall.toFixed(3)} at high risk (p ≥ ${HIGH_RISK})`,
  );
  if (Number.isFinite(realScored.auc)) {
    console.log(`held-out real runs only (${realScored.count}): ROC AUC ${realScored.auc.toFixed(3)}`);
  }
  console.log(`strongest signals (log-odds per standard deviation): ${strongestSignals(model)}`);
  console.log(
    `wrote ${out} and ${path.basename(metadataPathFor(out))} (data ${metadata.dataHash?.slice(0, 12)})`,
  );
}

/** The history file of the configured stateDir (relative to the config file, as opsbot resolves it). */
function configuredHistoryFile(): string {
  const { config, file } = loadConfig();
  return path.join(path.resolve(path.dirname(file), config.stateDir), HISTORY_FILE);
}

/** Runs scored when they started, with every feature of today's list (older lines may lack new ones). */
function trainingRows(records: readonly HistoryRecord[]): SourcedRow[] {
  return records.flatMap((record) => {
    const recorded = record.features;
    if (!recorded) return [];
    const features = FAILURE_FEATURES.map((name) => recorded[name]);
    if (!features.every((v): v is number => typeof v === 'number' && Number.isFinite(v))) return [];
    return [{ features, failed: record.failed, real: true }];
  });
}

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

main().catch((err) => {
  console.error(`train:saga: ${(err as Error).message}`);
  process.exit(1);
});
