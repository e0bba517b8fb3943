import { ErrorCode, OpsbotError } from '../../../bot/core/errors';
import type { Forecaster } from './forecaster';
import { InsufficientHistoryError } from './forecast-input';

export interface BacktestOptions {
  /** Steps forecast from each origin: how far ahead the scaler acts. */
  horizon: number;
  /** Origins: the last `folds × horizon` observations are forecast, `horizon` at a time. */
  folds: number;
}

export interface BacktestScore {
  name: string;
  /** Mean absolute error over every forecast step of every fold, in the series' unit. */
  mae: number;
  /**
   * Weighted absolute percentage error: Σ|error| / Σ|actual| over the same steps. Unlike the mean of
   * per-step percentages (MAPE) it stays finite when the load is zero at night; it is 0 when everything is
   * zero and forecast as zero, Infinity when only the actuals are.
   */
  wape: number;
  /** Folds scored; 0 for a forecaster skipped because the history is too short for it. */
  folds: number;
  /** Why the forecaster was not scored (its mae and wape are then Infinity). */
  skipped?: string;
  /** For a skipped forecaster: the history a backtest of it needs, in observations. */
  neededHistory?: number;
}

/**
 * Rolling-origin backtest: the history is cut at `folds` origins, `horizon` steps apart, the last one
 * `horizon` steps before its end; from each the forecaster sees only what precedes the origin and forecasts
 * the `horizon` steps after it, which the history then reveals. The folds tile the end of the history, so
 * every recent step is scored exactly once.
 *
 * Throws InsufficientHistoryError, with the length the whole backtest needs, when the history is too short
 * for the forecaster at the earliest origin (or shorter than the folds themselves).
 */
export async function backtest(
  forecaster: Forecaster,
  history: readonly number[],
  { horizon, folds }: BacktestOptions,
): Promise<BacktestScore> {
  for (const [option, value] of Object.entries({ horizon, folds })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new OpsbotError(
        ErrorCode.InvalidRequest,
        `backtest: ${option} must be a whole number, at least 1; got ${value}`,
      );
    }
  }
  const tested = horizon * folds;
  if (history.length <= tested) {
    const needed = await historyNeededBy(forecaster, horizon);
    throw new InsufficientHistoryError(
      forecaster.name,
      needed + tested,
      history.length,
      `${needed} to forecast from, plus ${folds} folds of ${horizon} steps to test on`,
    );
  }
  let absoluteErrors = 0;
  let absoluteActuals = 0;
  // Earliest origin first: it has the shortest history, so a forecaster that needs more fails at once.
  for (let origin = history.length - tested; origin < history.length; origin += horizon) {
    let forecast: number[];
    try {
      forecast = await forecaster.forecast(history.slice(0, origin), horizon);
    } catch (err) {
      if (!(err instanceof InsufficientHistoryError)) throw err;
      throw new InsufficientHistoryError(
        forecaster.name,
        err.needed + tested,
        history.length,
        `${err.needed} to forecast from, plus ${folds} folds of ${horizon} steps to test on`,
      );
    }
    if (forecast.length !== horizon || !forecast.every(Number.isFinite)) {
      throw new OpsbotError(
        ErrorCode.Internal,
        `${forecaster.name} returned [${forecast.slice(0, 5).join(', ')}${forecast.length > 5 ? ', …' : ''}] ` +
          `(${forecast.length} values) for a horizon of ${horizon}: it must be ${horizon} finite numbers`,
      );
    }
    forecast.forEach((predicted, h) => {
      const actual = history[origin + h] as number;
      absoluteErrors += Math.abs(predicted - actual);
      absoluteActuals += Math.abs(actual);
    });
  }
  return {
    name: forecaster.name,
    mae: absoluteErrors / tested,
    wape: absoluteActuals > 0 ? absoluteErrors / absoluteActuals : absoluteErrors === 0 ? 0 : Infinity,
    folds,
  };
}

/**
 * The history `forecaster` needs, from its own refusal of an empty one (every forecaster says how much it
 * needs when it refuses); at least one observation, for a backtest to cut.
 */
async function historyNeededBy(forecaster: Forecaster, horizon: number): Promise<number> {
  try {
    await forecaster.forecast([], horizon);
  } catch (err) {
    if (err instanceof InsufficientHistoryError) return Math.max(1, err.needed);
    throw err;
  }
  return 1;
}

/**
 * Backtests every candidate on this history and picks the lowest MAE (on a tie, the earlier candidate: list
 * the preferred one first). A candidate the history is too short for is skipped and scored as such; when
 * that is every candidate, throws InsufficientHistoryError with the least history that would let one run.
 * Other errors (a broken model) are not hidden.
 */
export async function chooseForecaster(
  candidates: readonly Forecaster[],
  history: readonly number[],
  options: BacktestOptions,
): Promise<{ chosen: Forecaster; scores: BacktestScore[] }> {
  if (candidates.length === 0) {
    throw new OpsbotError(ErrorCode.InvalidRequest, 'chooseForecaster needs at least one candidate');
  }
  const scores: BacktestScore[] = [];
  let chosen: Forecaster | undefined;
  let best = Infinity;
  for (const candidate of candidates) {
    let score: BacktestScore;
    try {
      score = await backtest(candidate, history, options);
    } catch (err) {
      if (!(err instanceof InsufficientHistoryError)) throw err;
      score = {
        name: candidate.name,
        mae: Infinity,
        wape: Infinity,
        folds: 0,
        skipped: err.message,
        neededHistory: err.needed,
      };
    }
    scores.push(score);
    if (score.folds > 0 && (chosen === undefined || score.mae < best)) {
      chosen = candidate;
      best = score.mae;
    }
  }
  if (chosen === undefined) {
    const needed = Math.min(...scores.map((score) => score.neededHistory as number));
    throw new InsufficientHistoryError(
      'choosing a forecaster',
      needed,
      history.length,
      scores.map((score) => `${score.name}: ${score.neededHistory}`).join(', '),
    );
  }
  return { chosen, scores };
}
