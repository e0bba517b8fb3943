import type { ScalerMetric } from './scaler-policy';

/** What a decision is explained from: the numbers chat and the audit log show. */
export interface ExplanationFacts {
  service: string;
  from: number;
  to: number;
  metric: ScalerMetric;
  unit: string;
  targetUtilisation: number;
  costDeltaPerHour: number;
  currency: string;
  /** The load that decided it: a forecast point, or the latest observation when there is no forecast. */
  load: { v: number; t: number; forecast: boolean };
  /** The model and its backtest error, when the load is a forecast. */
  model?: { name: string; error?: number };
  /** Why there is no forecast, when there is none. */
  noForecast?: string;
}

const TARGET_WORDS: Record<ScalerMetric, string> = {
  throughput: 'utilisation',
  cpu: 'CPU',
  lag: 'of consumer capacity',
};

/**
 * One line a person reads in chat: "checkout 4 → 7: forecast 1,240 req/s at 19:00 UTC (holt-winters,
 * backtest error 6%), target 70% CPU, cost +€0.42/h".
 */
export function explainScaling(f: ExplanationFacts): string {
  const load = f.load.forecast
    ? `forecast ${formatLoad(f.load.v)} ${f.unit} at ${clockTime(f.load.t)}${
        f.model
          ? ` (${f.model.name}${f.model.error === undefined ? '' : `, backtest error ${Math.round(f.model.error * 100)}%`})`
          : ''
      }`
    : `observed ${formatLoad(f.load.v)} ${f.unit}${f.noForecast ? ` (${f.noForecast})` : ''}`;
  const target = `target ${Math.round(f.targetUtilisation * 100)}% ${TARGET_WORDS[f.metric]}`;
  const cost =
    f.costDeltaPerHour === 0
      ? ''
      : `, cost ${f.costDeltaPerHour > 0 ? '+' : '−'}${f.currency}${Math.abs(f.costDeltaPerHour).toFixed(2)}/h`;
  return `${f.service} ${f.from} → ${f.to}: ${load}, ${target}${cost}`;
}

/** 1,240 for big loads, 12.5 for small ones, 0.42 for fractions. */
export function formatLoad(v: number): string {
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** "19:00 UTC": servers' clocks and chat readers' time zones differ, so the zone is always said. */
export function clockTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${hh}:${mm} UTC`;
}
