import type { Block, Reply } from '../core/message';
import type {
  PredictiveScaler,
  ScalingDecision,
  ServiceForecast,
} from '../../engines/scaler/predictive-scaler';
import { clockTime, formatLoad } from '../../engines/scaler/scaling-explanation';
import type { Skill } from './skill';

/** Decisions listed under a forecast. */
const DECISIONS_SHOWN = 3;
/** History points drawn before the forecast: the recent past, not every season the forecast read. */
const CHART_HISTORY_POINTS = 240;

/**
 * "Forecast load for checkout": the scaler's forecast of a service under a scaling policy — the model the
 * backtest chose and how close each candidate came, the peak ahead, the replicas it plans and the last
 * decisions, with a chart of history and forecast. Without a service, one line per service under a policy.
 */
export function createCapacityForecastSkill(deps: { scaler: PredictiveScaler | undefined }): Skill {
  return {
    intent: 'capacity_forecast',
    permission: 'capacity.read',
    summary: 'Forecast load and the replicas it needs',
    examples: ['forecast load for checkout tomorrow', 'how many replicas will payments need?'],
    slots: [{ entity: 'service', required: false, prompt: 'Which service?' }],
    mutating: false,
    installed: true,
    async handle(ctx): Promise<Reply> {
      const scaler = deps.scaler;
      if (!scaler) {
        const text =
          'The predictive scaler runs in the opsbot server; ask there (this process does not run it).';
        return { text, blocks: [{ type: 'section', text }] };
      }
      const policies = scaler.policies();
      if (policies.length === 0) {
        const text =
          'No service is under a scaling policy, so I have no forecast. Add one under `scaler.services` in the configuration (metric, capacity per replica, target utilisation).';
        return { text, blocks: [{ type: 'section', text }] };
      }
      const service = typeof ctx.slots.service === 'string' ? ctx.slots.service : undefined;
      if (service === undefined) {
        const lines: string[] = [];
        for (const policy of policies) {
          const forecast = await scaler.forecast(policy.service);
          if (forecast) lines.push(summaryLine(forecast));
        }
        const text = [`Capacity forecast (${scaler.mode} mode):`, ...lines.map((l) => `• ${l}`)].join('\n');
        return {
          text,
          blocks: [
            { type: 'section', text: `Capacity forecast (${scaler.mode} mode)` },
            { type: 'list', items: lines },
          ],
        };
      }
      const forecast = await scaler.forecast(service);
      if (!forecast) {
        const names = policies.map((p) => p.service).join(', ');
        const text = `${service} is not under a scaling policy, so I have no forecast for it. Under a policy: ${names}.`;
        return { text, blocks: [{ type: 'section', text }] };
      }
      return forecastReply(forecast, scaler.decisions(service), scaler.mode);
    },
  };
}

function peakOf(forecast: ServiceForecast): { t: number; v: number } | undefined {
  let peak: { t: number; v: number } | undefined;
  for (const p of forecast.forecast) if (!peak || p.v > peak.v) peak = p;
  return peak;
}

function summaryLine(f: ServiceForecast): string {
  const peak = peakOf(f);
  const load = peak
    ? `peak ${formatLoad(peak.v)} ${f.unit} at ${clockTime(peak.t / 1000)} (${f.model})`
    : `no forecast yet (${f.noForecast ?? 'no history'})`;
  return `${f.service}: ${load}; ${f.current} replica${f.current === 1 ? '' : 's'} now, plan ${f.plan.desired}`;
}

function forecastReply(f: ServiceForecast, decisions: ScalingDecision[], mode: string): Reply {
  const peak = peakOf(f);
  const latest = f.history[f.history.length - 1];
  const lines: string[] = [];
  if (peak) {
    lines.push(
      `${f.service} in ${f.environment}: forecast peak ${formatLoad(peak.v)} ${f.unit} at ${clockTime(peak.t / 1000)}, in the next ${minutes(peak.t - (latest?.t ?? peak.t))}; now ${formatLoad(latest?.v ?? 0)} ${f.unit}.`,
    );
    lines.push(
      `Model: ${f.model}, chosen by backtest on this service's history (${f.scores
        .map((s) => (s.folds > 0 ? `${s.name} ${percent(s.wape)} error` : `${s.name} not scored`))
        .join(', ')}).`,
    );
  } else {
    lines.push(
      `${f.service} in ${f.environment}: no forecast yet — ${f.noForecast ?? 'no history'}. Now ${formatLoad(latest?.v ?? 0)} ${f.unit}.`,
    );
  }
  const plan =
    f.plan.desired === f.current
      ? `Replicas: ${f.current}, enough for what is ahead.`
      : `Replicas: ${f.current} now; the plan is ${f.plan.desired}${mode === 'recommend' ? ' (recommend mode: I only advise)' : ''}.`;
  lines.push(plan);
  const recent = decisions.slice(0, DECISIONS_SHOWN);
  const blocks: Block[] = [{ type: 'section', text: lines.join('\n') }];
  if (recent.length > 0)
    blocks.push({
      type: 'list',
      items: recent.map((d) => `${d.at.slice(11, 16)} UTC ${d.outcome}: ${d.explanation}`),
    });
  const points = [...f.history.slice(-CHART_HISTORY_POINTS), ...f.forecast];
  if (points.length > 1) {
    const values = points.map((p) => p.v);
    blocks.push({
      type: 'chart',
      title: `${f.service} load (${f.unit}), history and forecast`,
      points,
      summary: {
        min: formatLoad(Math.min(...values)),
        max: formatLoad(Math.max(...values)),
        latest: formatLoad(latest?.v ?? 0),
      },
    });
  }
  const text = [...lines, ...recent.map((d) => `• ${d.explanation}`)].join('\n');
  return { text, blocks };
}

function minutes(ms: number): string {
  const m = Math.max(1, Math.round(ms / 60_000));
  return m >= 120 ? `${Math.round(m / 60)} hours` : `${m} min`;
}

function percent(ratio: number): string {
  return Number.isFinite(ratio) ? `${Math.round(ratio * 100)}%` : 'n/a';
}
