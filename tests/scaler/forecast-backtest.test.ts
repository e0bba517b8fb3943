import { ErrorCode } from '../../bot/core/errors';
import { seededRandom } from '../../bot/core/seeded-random';
import { dailyRate } from '../../demo/fleet/load-pattern';
import { backtest, chooseForecaster } from '../../engines/scaler/forecast/backtest';
import { InsufficientHistoryError } from '../../engines/scaler/forecast/forecast-input';
import type { Forecaster } from '../../engines/scaler/forecast/forecaster';
import { HoltWintersForecaster } from '../../engines/scaler/forecast/holt-winters';
import { SeasonalNaiveForecaster } from '../../engines/scaler/forecast/seasonal-naive';

const M = 48;
const shape = (t: number) => dailyRate(((t % M) / M) * 86_400);
const series = (length: number, value: (t: number) => number) => Array.from({ length }, (_, t) => value(t));

describe('SeasonalNaiveForecaster', () => {
  it('repeats the last season, past one season too', async () => {
    const history = series(M + 5, (t) => t);
    const forecast = await new SeasonalNaiveForecaster({ seasonLength: M }).forecast(history, M + 2);
    expect(forecast.slice(0, 3)).toEqual([5, 6, 7]);
    expect(forecast[M]).toBe(5);
    expect(forecast[M + 1]).toBe(6);
  });

  it('needs one season', async () => {
    await expect(new SeasonalNaiveForecaster({ seasonLength: M }).forecast([1, 2], 1)).rejects.toMatchObject({
      code: ErrorCode.InvalidRequest,
      needed: M,
      message: `seasonal-naive needs at least ${M} observations of history (one season of ${M} steps), got 2`,
    });
  });
});

describe('backtest', () => {
  it('cuts the history at `folds` origins a horizon apart, tiling its end', async () => {
    const seen: number[] = [];
    const recorder: Forecaster = {
      name: 'recorder',
      async forecast(history, horizon) {
        seen.push(history.length);
        return new Array<number>(horizon).fill(history.at(-1) as number);
      },
    };
    const score = await backtest(
      recorder,
      series(100, (t) => t),
      { horizon: 5, folds: 3 },
    );
    expect(seen).toEqual([85, 90, 95]);
    // From origin o the forecast is o − 1 everywhere; the actuals are o … o + 4: errors 1 … 5.
    expect(score).toEqual({
      name: 'recorder',
      mae: 3,
      wape: 45 / (85 + 86 + 87 + 88 + 89 + 90 + 91 + 92 + 93 + 94 + 95 + 96 + 97 + 98 + 99),
      folds: 3,
    });
  });

  it('scores noise-free seasonal data at zero error, and a trend at the naive baseline’s known lag', async () => {
    const repeat = series(6 * M, (t) => 50 * shape(t));
    const naive = new SeasonalNaiveForecaster({ seasonLength: M });
    const hw = new HoltWintersForecaster({ seasonLength: M, transform: 'none' });
    expect((await backtest(naive, repeat, { horizon: 6, folds: 4 })).mae).toBe(0);
    expect((await backtest(hw, repeat, { horizon: 6, folds: 4 })).mae).toBeLessThan(1e-6);

    // With a slope of 0.25 per step, last season's value is 0.25 × M lower than today's: naive's MAE exactly.
    const trending = series(6 * M, (t) => 100 + 0.25 * t + 50 * shape(t));
    expect((await backtest(naive, trending, { horizon: 6, folds: 4 })).mae).toBeCloseTo(0.25 * M, 9);
    expect((await backtest(hw, trending, { horizon: 6, folds: 4 })).mae).toBeLessThan(1e-6);
  });

  it('copes with zero load: WAPE is 0 when zeros are forecast as zeros, not NaN', async () => {
    const score = await backtest(new SeasonalNaiveForecaster({ seasonLength: M }), new Array(3 * M).fill(0), {
      horizon: 4,
      folds: 2,
    });
    expect(score).toMatchObject({ mae: 0, wape: 0 });
  });

  it('reports the whole history a backtest needs when the forecaster refuses the earliest cut', async () => {
    const hw = new HoltWintersForecaster({ seasonLength: M });
    const history = series(2 * M + 10, (t) => 10 + shape(t));
    await expect(backtest(hw, history, { horizon: 6, folds: 4 })).rejects.toMatchObject({
      needed: 2 * M + 24,
      given: 2 * M + 10,
    });
    await expect(backtest(hw, history.slice(0, 20), { horizon: 6, folds: 4 })).rejects.toMatchObject({
      needed: 2 * M + 24,
    });
    await expect(backtest(hw, history, { horizon: 0, folds: 4 })).rejects.toMatchObject({
      code: ErrorCode.InvalidRequest,
    });
  });

  it('refuses a forecaster that returns the wrong number of values', async () => {
    const broken: Forecaster = { name: 'broken', forecast: async () => [1, NaN] };
    await expect(
      backtest(
        broken,
        series(50, () => 1),
        { horizon: 2, folds: 2 },
      ),
    ).rejects.toMatchObject({
      code: ErrorCode.Internal,
      message: expect.stringContaining('broken returned'),
    });
  });
});

describe('chooseForecaster', () => {
  it('picks Holt–Winters on a growing noisy series, where the naive baseline lags a season behind', async () => {
    const random = seededRandom(7);
    const history = series(8 * M, (t) => (100 + 0.5 * t) * shape(t) * (1 + 0.03 * (random() - 0.5)));
    const hw = new HoltWintersForecaster({ seasonLength: M });
    const naive = new SeasonalNaiveForecaster({ seasonLength: M });
    const { chosen, scores } = await chooseForecaster([naive, hw], history, { horizon: 6, folds: 4 });
    expect(chosen).toBe(hw);
    const [naiveScore, hwScore] = scores;
    expect(hwScore?.mae).toBeLessThan((naiveScore?.mae as number) / 2);
  });

  it('picks seasonal-naive when the daily shape just changed and the Holt–Winters candidate adapts slowly', async () => {
    // Five days peaking at 13:00, then two peaking at 20:00 (the series shifted by seven hours).
    const shifted = (t: number) => dailyRate(((((t % M) / M) * 24 + 17) % 24) * 3600);
    const history = series(7 * M, (t) => 100 * (t < 5 * M ? shape(t) : shifted(t)));
    const slow = new HoltWintersForecaster({
      seasonLength: M,
      alpha: 0.1,
      beta: 0,
      gamma: 0.1,
      damped: false,
    });
    const naive = new SeasonalNaiveForecaster({ seasonLength: M });
    const { chosen, scores } = await chooseForecaster([slow, naive], history, { horizon: 12, folds: 4 });
    expect(chosen).toBe(naive);
    expect(scores[1]).toMatchObject({ name: 'seasonal-naive', mae: 0, folds: 4 });
    expect(scores[0]?.mae).toBeGreaterThan(5);
  });

  it('skips a candidate the history is too short for, and says so in its score', async () => {
    const history = series(M + 30, (t) => 10 * shape(t));
    const hw = new HoltWintersForecaster({ seasonLength: M });
    const naive = new SeasonalNaiveForecaster({ seasonLength: M });
    const { chosen, scores } = await chooseForecaster([hw, naive], history, { horizon: 6, folds: 4 });
    expect(chosen).toBe(naive);
    expect(scores[0]).toMatchObject({
      name: 'holt-winters',
      folds: 0,
      mae: Infinity,
      neededHistory: 2 * M + 24,
      skipped: expect.stringContaining('holt-winters needs at least'),
    });
  });

  it('throws a coded error with the least history any candidate needs when none can run', async () => {
    const history = series(20, () => 1);
    const error = await chooseForecaster(
      [new HoltWintersForecaster({ seasonLength: M }), new SeasonalNaiveForecaster({ seasonLength: M })],
      history,
      { horizon: 6, folds: 4 },
    ).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InsufficientHistoryError);
    expect(error).toMatchObject({ code: ErrorCode.InvalidRequest, needed: M + 24, given: 20 });
    expect((error as Error).message).toContain(`holt-winters: ${2 * M + 24}, seasonal-naive: ${M + 24}`);
  });

  it('does not hide a broken candidate', async () => {
    const failing: Forecaster = {
      name: 'failing',
      forecast: async () => {
        throw new Error('session released');
      },
    };
    await expect(
      chooseForecaster(
        [failing],
        series(3 * M, () => 1),
        { horizon: 2, folds: 2 },
      ),
    ).rejects.toThrow('session released');
  });
});
