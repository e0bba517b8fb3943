/**
 * How far above its forecast the load has gone lately at a given load level: the `quantile` of actual ÷
 * forecast among the recorded samples whose forecast was nearest that level. The predictive policy widens
 * each forecast point by it into the upper band the planner keeps under the SLA ceiling, so headroom follows
 * what the forecaster has missed (bursts, noise) on this very service instead of a fixed guess.
 *
 * Conditioning on the level matters: a spike of fixed size is a large ratio at night and a small one at the
 * daily peak, and applying the night's ratio at the peak would provision for far more than was ever seen.
 */
export class ForecastErrorBand {
  private readonly forecasts: Float64Array;
  private readonly actuals: Float64Array;
  private next = 0;
  private count = 0;

  constructor(
    /** Samples kept: the oldest are overwritten. */
    private readonly capacity: number,
    private readonly quantile: number,
    /** Share of the samples, nearest the level asked about, that the quantile is taken over. */
    private readonly neighbourShare: number,
  ) {
    this.forecasts = new Float64Array(capacity);
    this.actuals = new Float64Array(capacity);
  }

  /** Records one actual against what was forecast for it; a zero forecast says nothing about the ratio. */
  record(actual: number, forecast: number): void {
    if (!(forecast > 0)) return;
    this.forecasts[this.next] = forecast;
    this.actuals[this.next] = actual;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /**
   * The band as it stands (recording later does not change it): a function from a forecast value to its
   * upper bound, never below the forecast; undefined before `minSamples` are recorded.
   */
  snapshot(minSamples: number): ((forecast: number) => number) | undefined {
    if (this.count < minSamples || this.count === 0) return undefined;
    const order = Array.from({ length: this.count }, (_, i) => i).sort(
      (a, b) => (this.forecasts[a] as number) - (this.forecasts[b] as number),
    );
    const levels = Float64Array.from(order, (i) => Math.log(this.forecasts[i] as number));
    const ratios = Float64Array.from(
      order,
      (i) => (this.actuals[i] as number) / (this.forecasts[i] as number),
    );
    const neighbours = Math.max(1, Math.round(this.neighbourShare * this.count));
    return (forecast) => {
      if (!(forecast > 0)) return forecast;
      const [from, to] = nearestRun(levels, Math.log(forecast), neighbours);
      const near = ratios.slice(from, to).sort();
      const ratio = near[Math.min(near.length - 1, Math.floor(this.quantile * near.length))] as number;
      return forecast * Math.max(1, ratio);
    };
  }
}

/** The run [from, to) of `size` ascending `values` nearest `target`. */
function nearestRun(values: Float64Array, target: number, size: number): [number, number] {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((values[mid] as number) < target) lo = mid + 1;
    else hi = mid;
  }
  let from = lo;
  let to = lo;
  while (to - from < size) {
    const left = from > 0 ? target - (values[from - 1] as number) : Infinity;
    const right = to < values.length ? (values[to] as number) - target : Infinity;
    if (left === Infinity && right === Infinity) break;
    if (left <= right) from -= 1;
    else to += 1;
  }
  return [from, to];
}
