/** @jest-environment ./tests/support/onnx-environment.js */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode } from '../../bot/core/errors';
import { dailyRate } from '../../demo/fleet/load-pattern';
import { readModelMetadata } from '../../engines/predictors';
import {
  exportAutoregressiveModel,
  forecastDirect,
  LOAD_FORECAST_FEATURES,
  loadForecastMetadata,
  predictNormalised,
  trainAutoregressiveModel,
} from '../../engines/scaler/forecast/autoregressive-model';
import { backtest } from '../../engines/scaler/forecast/backtest';
import { LOAD_FORECAST_MODEL_FILE, OnnxForecaster } from '../../engines/scaler/forecast/onnx-forecaster';
import { SeasonalNaiveForecaster } from '../../engines/scaler/forecast/seasonal-naive';
import { generateLoadTrace } from '../../engines/scaler/forecast/synthetic-load';

const M = 96;
const shape = (t: number) => dailyRate(((t % M) / M) * 86_400);
const series = (length: number, value: (t: number) => number) => Array.from({ length }, (_, t) => value(t));

describe('the shipped load-forecast model', () => {
  let forecaster: OnnxForecaster;
  beforeAll(async () => {
    forecaster = await OnnxForecaster.load(LOAD_FORECAST_MODEL_FILE, { seasonLength: M });
  });
  afterAll(() => forecaster.release());

  it('has a card the predictor runtime accepts, with the features this code computes and its held-out errors', async () => {
    const metadata = await readModelMetadata(LOAD_FORECAST_MODEL_FILE.replace(/\.onnx$/, '.json'));
    expect(metadata).toMatchObject({ name: 'load-forecast', task: 'regression' });
    expect(metadata.input.features).toEqual(LOAD_FORECAST_FEATURES);
    const { metrics } = metadata;
    // train:forecast measured it beside the baseline on held-out traces; a model worse than copying
    // yesterday must not ship.
    expect(metrics.onnx_ar_wape).toBeGreaterThan(0);
    expect(metrics.onnx_ar_wape).toBeLessThan(metrics.seasonal_naive_wape as number);
  });

  it('forecasts a growing daily pattern within 5% and beats the seasonal-naive baseline on it', async () => {
    // The demo fleet's day growing 5% a day: seasonal-naive is always a day's growth behind.
    const truth = (t: number) => 400 * shape(t) * (1 + 0.05 * (t / M));
    const history = series(6 * M, truth);
    const forecast = await forecaster.forecast(history, 12);
    const wape =
      forecast.reduce((sum, value, h) => sum + Math.abs(value - truth(6 * M + h)), 0) /
      forecast.reduce((sum, _, h) => sum + truth(6 * M + h), 0);
    expect(wape).toBeLessThan(0.05);
    const onnx = await backtest(forecaster, history, { horizon: 12, folds: 8 });
    const naive = await backtest(new SeasonalNaiveForecaster({ seasonLength: M }), history, {
      horizon: 12,
      folds: 8,
    });
    expect(onnx.wape).toBeLessThan(0.05);
    expect(onnx.mae).toBeLessThan(naive.mae);
  });

  it('is scale-free: ten thousand times the load gives ten thousand times the forecast', async () => {
    const { values } = generateLoadTrace({ seed: 42, seasonLength: M, seasons: 4 });
    const small = await forecaster.forecast(values, 2 * M + 3);
    const large = await forecaster.forecast(
      values.map((v) => v * 10_000),
      2 * M + 3,
    );
    expect(small).toHaveLength(2 * M + 3);
    large.forEach((value, i) => expect(value / 10_000).toBeCloseTo(small[i] as number, 3));
    for (const value of small) expect(value).toBeGreaterThanOrEqual(0);
  });

  it('forecasts zeros for a service with no load, and rejects too short a history', async () => {
    expect(await forecaster.forecast(new Array(3 * M).fill(0), 3)).toEqual([0, 0, 0]);
    await expect(forecaster.forecast(series(2 * M, shape), 3)).rejects.toMatchObject({
      code: ErrorCode.InvalidRequest,
      message: expect.stringMatching(
        /^onnx-ar needs at least 204 observations of history \(2 seasons of 96 steps/,
      ),
    });
  });
});

describe('OnnxForecaster with a model trained here', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'opsbot-forecast-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs exactly the weights trained in TypeScript', async () => {
    const traces = [1, 2, 3].map((seed) => generateLoadTrace({ seed, seasonLength: 40, seasons: 5 }));
    const { model } = trainAutoregressiveModel(traces);
    const file = path.join(dir, 'load-forecast.onnx');
    await writeFile(file, exportAutoregressiveModel(model));
    await writeFile(
      path.join(dir, 'load-forecast.json'),
      JSON.stringify(loadForecastMetadata({ metrics: {}, dataHash: 'test', description: 'test' })),
    );
    const onnx = await OnnxForecaster.load(file, { seasonLength: 40 });
    try {
      const history = generateLoadTrace({ seed: 9, seasonLength: 40, seasons: 4 }).values;
      const viaRuntime = await onnx.forecast(history, 50);
      const direct = await forecastDirect(history, 50, 40, async (rows, count) =>
        Array.from({ length: count }, (_, i) => predictNormalised(model, rows, i)),
      );
      // float32 in the graph against float64 here.
      viaRuntime.forEach((value, i) => expect(value).toBeCloseTo(direct[i] as number, 2));
    } finally {
      await onnx.release();
    }
  });

  it('refuses a model that reads other features', async () => {
    const file = path.join(dir, 'other.onnx');
    await writeFile(file, await readFile(LOAD_FORECAST_MODEL_FILE));
    const metadata = loadForecastMetadata({ metrics: {}, dataHash: 'test', description: 'test' });
    const renamed = LOAD_FORECAST_FEATURES.map((name, i) => (i === 0 ? 'y[t-m]/mean' : name));
    await writeFile(
      path.join(dir, 'other.json'),
      JSON.stringify({ ...metadata, input: { ...metadata.input, features: renamed } }),
    );
    await expect(OnnxForecaster.load(file, { seasonLength: M })).rejects.toMatchObject({
      code: ErrorCode.ConfigInvalid,
      message: expect.stringContaining('reads features y[t-m]/mean'),
    });
  });
});
