import type { Forecaster } from './forecaster';
import { checkForecastInput, checkSeasonLength, InsufficientHistoryError } from './forecast-input';

export const SEASONAL_NAIVE_NAME = 'seasonal-naive';

/**
 * Tomorrow at 14:00 is today at 14:00: each step's forecast is the observation one season before it. The
 * baseline the other models must beat in backtests; it also wins outright when the daily shape itself has
 * just changed, since it adopts a new shape after one season where smoothing models blend old and new.
 */
export class SeasonalNaiveForecaster implements Forecaster {
  readonly name = SEASONAL_NAIVE_NAME;
  readonly seasonLength: number;

  constructor(options: { seasonLength: number }) {
    checkSeasonLength(this.name, options.seasonLength);
    this.seasonLength = options.seasonLength;
  }

  async forecast(history: readonly number[], horizon: number): Promise<number[]> {
    checkForecastInput(this.name, history, horizon);
    const m = this.seasonLength;
    if (history.length < m) {
      throw new InsufficientHistoryError(this.name, m, history.length, `one season of ${m} steps`);
    }
    const lastSeason = history.length - m;
    // Past one season ahead it repeats the last observed season again.
    return Array.from({ length: horizon }, (_, h) => history[lastSeason + (h % m)] as number);
  }
}
