/**
 * A load forecaster: from a series of equally spaced observations (oldest first: requests/s, CPU, queue lag),
 * the values of the next steps. The scaler keeps several per service and uses the one whose backtest error on
 * that service's own history is lowest (see backtest.ts).
 */
export interface Forecaster {
  /** Says which model it is, in decisions and chat: "holt-winters", "onnx-ar". */
  readonly name: string;
  /**
   * The `horizon` values that follow `history`, same spacing. Rejects when the history is too short for the
   * model (say how long it must be), never returns NaN.
   */
  forecast(history: readonly number[], horizon: number): Promise<number[]>;
}
