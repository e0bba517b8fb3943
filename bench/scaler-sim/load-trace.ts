/** A load trace as the scaler simulation replays it: the offered load of each fixed-length step. */
export interface LoadTrace {
  name: string;
  /** Where the trace comes from, one line for the report. */
  source: string;
  /** Epoch seconds at which the first step starts. */
  start: number;
  stepSeconds: number;
  /** Offered load (requests/s) over each step. */
  rates: Float64Array;
}

/** The simulation's clock step, and the HPA's default sync period: every policy decides this often. */
export const SIM_STEP_SECONDS = 15;

/** The highest rate from step `from` on. */
export function peakRate(trace: LoadTrace, from = 0): number {
  let peak = 0;
  for (let i = from; i < trace.rates.length; i += 1) peak = Math.max(peak, trace.rates[i] as number);
  return peak;
}
