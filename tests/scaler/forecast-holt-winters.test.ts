import { ErrorCode } from '../../bot/core/errors';
import { dailyRate } from '../../demo/fleet/load-pattern';
import { InsufficientHistoryError } from '../../engines/scaler/forecast/forecast-input';
import { HoltWintersForecaster } from '../../engines/scaler/forecast/holt-winters';
import { seededRandom } from '../../bot/core/seeded-random';

const M = 48;

/** The demo fleet's daily shape at `m` steps per day, times `peak`. */
function dailyShape(t: number, m = M): number {
  return dailyRate(((t % m) / m) * 86_400);
}

function series(length: number, value: (t: number) => number): number[] {
  return Array.from({ length }, (_, t) => value(t));
}

function gaussianNoise(seed: number): () => number {
  const random = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

describe('HoltWintersForecaster', () => {
  it('forecasts a seasonal series with a linear trend exactly, several seasons ahead', async () => {
    const truth = (t: number) => 200 + 0.5 * t + 80 * dailyShape(t);
    const history = series(4 * M, truth);
    const hw = new HoltWintersForecaster({ seasonLength: M, transform: 'none' });
    const forecast = await hw.forecast(history, 2 * M);
    forecast.forEach((value, h) => expect(value).toBeCloseTo(truth(4 * M + h), 6));
    // Damping would bend the trend away from the line: the fit keeps it undamped.
    expect(hw.smoothingParameters(history, 2 * M).phi).toBe(1);
  });

  it('follows a known level shift within a season and keeps the daily shape', async () => {
    const noise = gaussianNoise(3);
    const level = (t: number) => (t < 5 * M ? 100 : 300);
    const truth = (t: number) => level(t) * dailyShape(t);
    const history = series(8 * M, (t) => truth(t) * (1 + 0.02 * noise()));
    const forecast = await new HoltWintersForecaster({ seasonLength: M }).forecast(history, M);
    const errors = forecast.map((value, h) => Math.abs(value - truth(8 * M + h)) / truth(8 * M + h));
    expect(Math.max(...errors)).toBeLessThan(0.08);
    // The peak is 300 × 1.0, the night 300 × 0.2: the shape, not a flat level.
    expect(Math.max(...forecast) / Math.min(...forecast)).toBeGreaterThan(3.5);
  });

  it('does not carry a burst of the last season into the forecast unless robustness is off', async () => {
    const truth = (t: number) => 100 * dailyShape(t);
    const noise = gaussianNoise(5);
    const burstAt = 6 * M + 20;
    const history = series(
      7 * M,
      (t) => truth(t) * (1 + 0.02 * noise()) * (t >= burstAt && t < burstAt + 3 ? 3 : 1),
    );
    const burstStep = burstAt + M - 7 * M;
    const robust = await new HoltWintersForecaster({ seasonLength: M }).forecast(history, M);
    const plain = await new HoltWintersForecaster({ seasonLength: M, robust: false, gamma: 0.9 }).forecast(
      history,
      M,
    );
    const expected = truth(burstAt + M);
    expect(Math.abs((robust[burstStep] as number) - expected) / expected).toBeLessThan(0.1);
    expect((plain[burstStep] as number) / expected).toBeGreaterThan(1.5);
  });

  it('scales with the level on the log scale: a growing day grows its peak more than its night', async () => {
    // Traffic growing 20% a day, multiplicatively: the additive model on raw values gets the night wrong.
    const truth = (t: number) => 1000 * dailyShape(t) * 1.2 ** (t / M);
    const history = series(6 * M, truth);
    const [logForecast, rawForecast] = await Promise.all(
      (['log', 'none'] as const).map((transform) =>
        new HoltWintersForecaster({ seasonLength: M, transform }).forecast(history, M),
      ),
    );
    const error = (forecast: number[]) =>
      forecast.reduce((sum, value, h) => sum + Math.abs(value - truth(6 * M + h)), 0) /
      forecast.reduce((sum, _, h) => sum + truth(6 * M + h), 0);
    expect(error(logForecast as number[])).toBeLessThan(0.02);
    expect(error(logForecast as number[])).toBeLessThan(error(rawForecast as number[]) / 2);
  });

  it('never forecasts negative load or NaN, even on a falling trend', async () => {
    const history = series(3 * M, (t) => Math.max(0, 500 - 4 * t + 20 * dailyShape(t)));
    for (const transform of ['log', 'none'] as const) {
      const forecast = await new HoltWintersForecaster({ seasonLength: M, transform }).forecast(
        history,
        3 * M,
      );
      expect(forecast).toHaveLength(3 * M);
      for (const value of forecast) {
        expect(Number.isFinite(value)).toBe(true);
        expect(value).toBeGreaterThanOrEqual(0);
      }
    }
    const zeros = await new HoltWintersForecaster({ seasonLength: M }).forecast(new Array(2 * M).fill(0), 5);
    expect(zeros).toEqual([0, 0, 0, 0, 0]);
  });

  it('rejects a history shorter than two seasons, saying how long it must be', async () => {
    const hw = new HoltWintersForecaster({ seasonLength: M });
    const short = series(2 * M - 1, (t) => 10 + dailyShape(t));
    const error = await hw.forecast(short, 4).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InsufficientHistoryError);
    expect(error).toMatchObject({ code: ErrorCode.InvalidRequest, needed: 2 * M, given: 2 * M - 1 });
    expect((error as Error).message).toBe(
      `holt-winters needs at least ${2 * M} observations of history (2 seasons of ${M} steps), got ${2 * M - 1}`,
    );
  });

  it('refuses bad input and bad parameters with coded errors', async () => {
    const hw = new HoltWintersForecaster({ seasonLength: M });
    const history = series(2 * M, (t) => 10 + dailyShape(t));
    await expect(hw.forecast([...history.slice(1), NaN], 3)).rejects.toMatchObject({
      code: ErrorCode.InvalidRequest,
      message: expect.stringContaining(`observation ${2 * M - 1}`),
    });
    await expect(hw.forecast([...history.slice(1), -1], 3)).rejects.toMatchObject({
      code: ErrorCode.InvalidRequest,
      message: expect.stringContaining('never negative'),
    });
    expect(() => new HoltWintersForecaster({ seasonLength: M, alpha: 1.5 })).toThrow(
      /alpha must be in \[0, 1\]/,
    );
    expect(() => new HoltWintersForecaster({ seasonLength: 1 })).toThrow(/seasonLength/);
    expect(() => new HoltWintersForecaster({ seasonLength: M, damped: 0 })).toThrow(/damping/);
  });
});
