import { ErrorCode, OpsbotError } from '../../../bot/core/errors';

/**
 * A history too short for a forecaster (or for a backtest of it). Coded `InvalidRequest` like any bad input,
 * and typed on its own so a caller choosing among forecasters can skip the one that cannot forecast yet and
 * say how much history it would take.
 */
export class InsufficientHistoryError extends OpsbotError {
  constructor(
    /** The forecaster that refused, or "backtest". */
    readonly forecaster: string,
    /** Observations needed. */
    readonly needed: number,
    /** Observations given. */
    readonly given: number,
    why: string,
  ) {
    super(
      ErrorCode.InvalidRequest,
      `${forecaster} needs at least ${needed} observations of history (${why}), got ${given}`,
    );
    this.name = 'InsufficientHistoryError';
  }
}

/**
 * Checks what every forecaster is handed: a whole horizon and only finite observations (a NaN in the history
 * would otherwise come back out as a NaN forecast). Says nothing about the history's length: each model knows
 * how much it needs.
 */
export function checkForecastInput(forecaster: string, history: readonly number[], horizon: number): void {
  if (!Number.isInteger(horizon) || horizon < 0) {
    throw new OpsbotError(
      ErrorCode.InvalidRequest,
      `${forecaster}: the horizon must be a whole number of steps, got ${horizon}`,
    );
  }
  const bad = history.findIndex((value) => !Number.isFinite(value));
  if (bad >= 0) {
    throw new OpsbotError(
      ErrorCode.InvalidRequest,
      `${forecaster}: observation ${bad} of the history is ${history[bad]}, not a finite number`,
    );
  }
}

/** A season length must be a whole number of steps, at least 2 (one step is no season at all). */
export function checkSeasonLength(forecaster: string, seasonLength: number): void {
  if (!Number.isInteger(seasonLength) || seasonLength < 2) {
    throw new OpsbotError(
      ErrorCode.ConfigInvalid,
      `${forecaster}: seasonLength must be a whole number of steps, at least 2; got ${seasonLength}`,
    );
  }
}
