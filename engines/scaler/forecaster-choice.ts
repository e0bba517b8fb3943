import { chooseForecaster, type BacktestScore } from './forecast/backtest';
import { InsufficientHistoryError } from './forecast/forecast-input';
import type { Forecaster } from './forecast/forecaster';

/**
 * How often one service's forecaster is chosen again by backtest: the choice follows the history as it grows
 * and changes, while a backtest (several fits per candidate) is not paid every round.
 */
const RESELECT_MS = 10 * 60_000;
/** Rolling-origin folds of the backtest. */
const BACKTEST_FOLDS = 4;

/** A candidate that may be unusable (a model file that would not load): asked before each choice. */
export interface OptionalForecaster extends Forecaster {
  available(): Promise<boolean>;
}

function isOptional(f: Forecaster): f is OptionalForecaster {
  return typeof (f as Partial<OptionalForecaster>).available === 'function';
}

export interface ForecastOutcome {
  /** The forecast, absent when no candidate could make one from this history. */
  values?: number[];
  model?: string;
  scores: BacktestScore[];
  /** Why there is no forecast. */
  why?: string;
  /** With too short a history: the observations a choice needs, and those there were. */
  history?: { needed: number; given: number };
}

/**
 * One service's forecaster: the candidate with the lowest backtest error on the service's own history
 * ("auto"), or the one the policy names. The choice is remembered for RESELECT_MS.
 */
export class ForecasterChoice {
  private chosen?: { forecaster: Forecaster; scores: BacktestScore[]; at: number };

  constructor(private readonly candidates: readonly Forecaster[]) {}

  async forecast(
    history: readonly number[],
    horizon: number,
    options: { model: string; now: number },
  ): Promise<ForecastOutcome> {
    const named =
      options.model === 'auto'
        ? this.candidates
        : this.candidates.filter((c) => c.name === options.model || c.name.startsWith(`${options.model}-`));
    const usable = await Promise.all(named.map((c) => (isOptional(c) ? c.available() : true)));
    const candidates = named.filter((_, i) => usable[i]);
    if (candidates.length === 0)
      return { scores: [], why: `the ${options.model} forecaster is not available` };
    try {
      if (
        !this.chosen ||
        options.now - this.chosen.at >= RESELECT_MS ||
        !candidates.includes(this.chosen.forecaster)
      ) {
        const { chosen, scores } = await chooseForecaster(candidates, history, {
          horizon,
          folds: BACKTEST_FOLDS,
        });
        this.chosen = { forecaster: chosen, scores: sortChosenFirst(scores, chosen.name), at: options.now };
      }
      const values = await this.chosen.forecaster.forecast(history, horizon);
      return { values, model: this.chosen.forecaster.name, scores: this.chosen.scores };
    } catch (err) {
      this.chosen = undefined;
      if (err instanceof InsufficientHistoryError)
        return { scores: [], why: err.message, history: { needed: err.needed, given: err.given } };
      throw err;
    }
  }
}

function sortChosenFirst(scores: readonly BacktestScore[], chosen: string): BacktestScore[] {
  return scores.slice().sort((a, b) => (a.name === chosen ? -1 : b.name === chosen ? 1 : a.mae - b.mae));
}
