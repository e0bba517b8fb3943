/**
 * npm run train:forecast — trains the scaler's load-forecast model (engines/scaler/forecast/
 * autoregressive-model.ts) on generated load traces with the demo fleet's traffic shape (daily cycle,
 * bursts, growth, day-to-day variation, noise, level shifts; synthetic-load.ts), holds out a fifth of the
 * traces, backtests the exported model through the predictor runtime beside Holt–Winters and seasonal-naive
 * on them, prints the errors and writes models/load-forecast.onnx with its card models/load-forecast.json.
 * The same seed gives byte-identical files (the card has no training date for that reason).
 *
 * Options: --out <file.onnx> (default: the package's models/load-forecast.onnx), --traces <n> (240),
 * --seasons <days per trace> (8), --seed <n> (10).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packageRoot } from '../core/package-root';
import { mean, median } from '../core/statistics';
import { metadataPathFor } from '../../engines/predictors';
import {
  DEFAULT_AUTOREGRESSIVE_TRAINING,
  exportAutoregressiveModel,
  LOAD_FORECAST_FEATURES,
  LOAD_FORECAST_MODEL_VERSION,
  loadForecastMetadata,
  trainAutoregressiveModel,
} from '../../engines/scaler/forecast/autoregressive-model';
import { backtest, type BacktestOptions } from '../../engines/scaler/forecast/backtest';
import type { Forecaster } from '../../engines/scaler/forecast/forecaster';
import { HoltWintersForecaster } from '../../engines/scaler/forecast/holt-winters';
import { OnnxForecaster } from '../../engines/scaler/forecast/onnx-forecaster';
import { SeasonalNaiveForecaster } from '../../engines/scaler/forecast/seasonal-naive';
import { generateLoadTrace, type LoadTrace } from '../../engines/scaler/forecast/synthetic-load';
import { cardMetrics, writeModelFiles } from './model-files';
import { parseArgs } from './script-args';

/**
 * Steps per day of the traces, in turn: the demo's shortened day at its 15 s step (40), 15-minute,
 * 10-minute and 5-minute samples of a real day; the model must serve all.
 */
const SEASON_LENGTHS = [40, 96, 144, 288];
/** Every fifth trace is held out. */
const HELD_OUT_EVERY = 5;
/** The held-out backtest: how far ahead the scaler looks (12 steps: 3 minutes to 3 hours) and its folds. */
const HELD_OUT_BACKTEST: BacktestOptions = { horizon: 12, folds: 8 };

interface Evaluation {
  name: string;
  /** Per held-out trace: WAPE, and MAE over the trace's daily peak (scale-free MAE). */
  wape: number[];
  maeOverPeak: number[];
}

async function main(): Promise<void> {
  const args = parseArgs('train:forecast', {
    out: 'string',
    traces: 'number',
    seasons: 'number',
    seed: 'number',
  });
  const out = path.resolve(args.out ?? path.join(packageRoot(), 'models', 'load-forecast.onnx'));
  const traceCount = Math.round(args.traces ?? 240);
  const seasons = Math.round(args.seasons ?? 8);
  const seed = Math.round(args.seed ?? 10);

  const traces = Array.from({ length: traceCount }, (_, i) =>
    generateLoadTrace({
      seed: seed * 1_000_003 + i,
      seasonLength: SEASON_LENGTHS[i % SEASON_LENGTHS.length] as number,
      seasons,
    }),
  );
  const train = traces.filter((_, i) => i % HELD_OUT_EVERY !== 0);
  const test = traces.filter((_, i) => i % HELD_OUT_EVERY === 0);

  const started = performance.now();
  const { model, rows } = trainAutoregressiveModel(train);
  const trainSeconds = (performance.now() - started) / 1000;
  const onnxBytes = exportAutoregressiveModel(model);

  const metadataWithout = (metrics: Record<string, number>) =>
    loadForecastMetadata({
      metrics,
      dataHash: dataHash(traces, seed),
      description:
        `Direct linear forecast of value/level from ${LOAD_FORECAST_FEATURES.length} level-normalised features ` +
        `(Huber IRLS, ridge ${DEFAULT_AUTOREGRESSIVE_TRAINING.l2PerRow} per row), trained on ${train.length} generated ` +
        `load traces of ${seasons} days (demo fleet daily shape, bursts, growth, noise, level shifts; seed ${seed}); ` +
        `metrics are backtests (horizon ${HELD_OUT_BACKTEST.horizon}, ${HELD_OUT_BACKTEST.folds} folds) on ${test.length} held-out traces.`,
    });

  // The held-out errors are those of the exported file as the scaler runs it: through the predictor runtime.
  const scratch = mkdtempSync(path.join(tmpdir(), 'opsbot-train-forecast-'));
  let evaluations: Evaluation[];
  let hwMsPerCall: number;
  try {
    const scratchModel = path.join(scratch, 'load-forecast.onnx');
    writeFileSync(scratchModel, onnxBytes);
    writeFileSync(metadataPathFor(scratchModel), JSON.stringify(metadataWithout({})));
    const onnxByLength = new Map<number, OnnxForecaster>();
    for (const m of SEASON_LENGTHS)
      onnxByLength.set(m, await OnnxForecaster.load(scratchModel, { seasonLength: m }));
    try {
      ({ evaluations, hwMsPerCall } = await evaluate(test, (m) => [
        onnxByLength.get(m) as OnnxForecaster,
        new HoltWintersForecaster({ seasonLength: m }),
        new SeasonalNaiveForecaster({ seasonLength: m }),
      ]));
    } finally {
      await Promise.all([...onnxByLength.values()].map((forecaster) => forecaster.release()));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const metrics: Record<string, number> = {
    train_traces: train.length,
    test_traces: test.length,
    train_rows: rows,
  };
  for (const evaluation of evaluations) {
    const key = evaluation.name.replace(/-/g, '_');
    metrics[`${key}_wape`] = mean(evaluation.wape);
    metrics[`${key}_mae_over_peak`] = mean(evaluation.maeOverPeak);
  }
  const metadata = metadataWithout(cardMetrics(metrics));

  writeModelFiles(out, onnxBytes, metadata);

  console.log(
    `train:forecast — ${train.length} training traces (${rows} rows), ${test.length} held out, ` +
      `${seasons} days each at ${SEASON_LENGTHS.join('/')} steps per day; trained in ${trainSeconds.toFixed(1)} s`,
  );
  console.log(
    `held-out backtests (horizon ${HELD_OUT_BACKTEST.horizon}, ${HELD_OUT_BACKTEST.folds} folds per trace):`,
  );
  const wins = winsPerModel(evaluations);
  for (const evaluation of evaluations) {
    console.log(
      `  ${evaluation.name.padEnd(15)} WAPE mean ${percent(mean(evaluation.wape))}, median ${percent(median(evaluation.wape))}; ` +
        `MAE/peak ${percent(mean(evaluation.maeOverPeak))}; lowest MAE on ${wins.get(evaluation.name) ?? 0}/${test.length} traces`,
    );
  }
  console.log(`holt-winters fit + forecast: ${hwMsPerCall.toFixed(1)} ms per call on these histories`);
  console.log(`model: intercept ${model.intercept.toFixed(4)}, ${strongest(model.coefficients)}`);
  console.log(
    `wrote ${out} and ${path.basename(metadataPathFor(out))} (data ${metadata.dataHash?.slice(0, 12)})`,
  );
}

/** Backtests every candidate on every held-out trace, timing Holt–Winters (its fit is the costly part). */
async function evaluate(
  traces: readonly LoadTrace[],
  candidatesFor: (seasonLength: number) => Forecaster[],
): Promise<{ evaluations: Evaluation[]; hwMsPerCall: number }> {
  const byName = new Map<string, Evaluation>();
  let hwMs = 0;
  let hwCalls = 0;
  for (const trace of traces) {
    for (const candidate of candidatesFor(trace.seasonLength)) {
      const started = performance.now();
      const score = await backtest(candidate, trace.values, HELD_OUT_BACKTEST);
      if (candidate instanceof HoltWintersForecaster) {
        hwMs += performance.now() - started;
        hwCalls += HELD_OUT_BACKTEST.folds;
      }
      const evaluation = byName.get(score.name) ?? { name: score.name, wape: [], maeOverPeak: [] };
      evaluation.wape.push(score.wape);
      evaluation.maeOverPeak.push(score.mae / trace.peakRate);
      byName.set(score.name, evaluation);
    }
  }
  return { evaluations: [...byName.values()], hwMsPerCall: hwMs / hwCalls };
}

/** How many traces each model had the lowest error on: what chooseForecaster would pick. */
function winsPerModel(evaluations: readonly Evaluation[]): Map<string, number> {
  const wins = new Map<string, number>();
  const traces = evaluations[0]?.maeOverPeak.length ?? 0;
  for (let i = 0; i < traces; i++) {
    let best = evaluations[0] as Evaluation;
    for (const evaluation of evaluations) {
      if ((evaluation.maeOverPeak[i] as number) < (best.maeOverPeak[i] as number)) best = evaluation;
    }
    wins.set(best.name, (wins.get(best.name) ?? 0) + 1);
  }
  return wins;
}

function strongest(coefficients: readonly number[]): string {
  return coefficients
    .map((coefficient, i) => ({ coefficient, feature: LOAD_FORECAST_FEATURES[i] }))
    .sort((a, b) => Math.abs(b.coefficient) - Math.abs(a.coefficient))
    .slice(0, 4)
    .map(({ coefficient, feature }) => `${feature} ${coefficient >= 0 ? '+' : ''}${coefficient.toFixed(3)}`)
    .join(', ');
}

/** With this version's features and training, the traces and the seed determine the weights. */
function dataHash(traces: readonly LoadTrace[], seed: number): string {
  const hash = createHash('sha256')
    .update(LOAD_FORECAST_MODEL_VERSION)
    .update(
      JSON.stringify({ features: LOAD_FORECAST_FEATURES, training: DEFAULT_AUTOREGRESSIVE_TRAINING, seed }),
    );
  for (const trace of traces) hash.update(`${trace.seasonLength}:${trace.values.join(',')}\n`);
  return hash.digest('hex');
}

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

main().catch((err) => {
  console.error(`train:forecast: ${(err as Error).message}`);
  process.exit(1);
});
