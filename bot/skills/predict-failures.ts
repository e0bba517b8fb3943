import type { EnvironmentName } from '../config/schema';
import type { BadgeState, Block, Reply } from '../core/message';
import type {
  FailurePrediction,
  ServiceRisk,
} from '../../engines/maintenance/failure-prediction/service-failure-predictor';
import {
  hasEnoughHistory,
  historyMs,
  MIN_HISTORY_MS,
  MINUTE_MS,
  type ServiceSignals,
} from '../../engines/maintenance/failure-prediction/service-signals';
import { ANY_SERVICE_SLOTS } from './service-slots';
import type { Skill } from './skill';
import type { RiskLevel } from '../../engines/orchestrator/workflow';

/** Services listed with their reasons at most; the rest are counted. */
const SERVICES_LISTED = 8;

const LEVEL_BADGES: Record<RiskLevel, BadgeState> = { high: 'critical', medium: 'warning', low: 'ok' };

export interface PredictFailuresDeps {
  /** Read per question, so a model loaded (or lost) later is what answers. */
  prediction: () => FailurePrediction;
  /** The signals of every service the maintenance controller watches in `environment`. */
  signals: (environment: EnvironmentName) => Promise<ServiceSignals[]>;
}

/**
 * "Which services are likely to fail?": every watched service of the environment (or the one named) ranked by
 * the failure model's P(failure within the next hour), with the signals that raised it. Services the
 * controller has watched for less than MIN_HISTORY_MS are left out and named: a risk from a few checks
 * would be a guess.
 */
export function createPredictFailuresSkill(deps: PredictFailuresDeps): Skill {
  return {
    intent: 'predict_failures',
    permission: 'failures.read',
    summary: 'Predict which services are likely to fail',
    examples: ['which services are likely to fail?', 'is payments about to fail?'],
    slots: [...ANY_SERVICE_SLOTS],
    mutating: false,
    installed: true,
    async handle({ slots, catalog }) {
      const environment = (slots.environment ?? catalog.defaultEnvironment) as EnvironmentName;
      const prediction = deps.prediction();
      if (!prediction.on) {
        return reply(`Failure prediction is off: ${prediction.reason}.`, [
          { type: 'status', badges: [{ label: 'failure prediction', state: 'unknown', detail: 'off' }] },
        ]);
      }
      let watched: ServiceSignals[];
      try {
        watched = await deps.signals(environment);
      } catch (err) {
        return reply(`I could not read the health history of ${environment}: ${(err as Error).message}.`);
      }
      const named = slots.service === undefined ? undefined : String(slots.service);
      const asked = named === undefined ? watched : watched.filter((s) => s.service === named);
      if (asked.length === 0) {
        return reply(
          named === undefined
            ? `The maintenance controller watches no services in ${environment} yet, so there is nothing to predict.`
            : `The maintenance controller has no health history for ${named} in ${environment}, so I can't predict whether it will fail.`,
        );
      }
      const ready = asked.filter(hasEnoughHistory);
      const tooNew = asked.filter((s) => !hasEnoughHistory(s));
      if (ready.length === 0) return reply(notEnoughHistory(tooNew, environment));
      let risks: ServiceRisk[];
      try {
        risks = await prediction.predictor.predict(ready);
      } catch (err) {
        return reply(`Failure prediction failed: ${(err as Error).message}.`);
      }
      return rankedReply(risks, tooNew, environment, prediction.predictor.description);
    },
  };
}

function rankedReply(
  risks: readonly ServiceRisk[],
  tooNew: readonly ServiceSignals[],
  environment: EnvironmentName,
  model: string,
): Reply {
  const summary = summaryLine(risks, environment);
  const listed = risks.slice(0, SERVICES_LISTED);
  const lines = listed.map(riskLine);
  if (risks.length > listed.length) lines.push(`…and ${risks.length - listed.length} more at lower risk.`);
  const waiting =
    tooNew.length > 0
      ? `Too new to predict (watched for less than ${MIN_HISTORY_MS / MINUTE_MS} min): ${tooNew.map((s) => s.service).join(', ')}.`
      : undefined;
  const blocks: Block[] = [
    { type: 'section', text: summary },
    {
      type: 'status',
      badges: listed.map((r) => ({
        label: r.service,
        state: LEVEL_BADGES[r.level],
        detail: `${percent(r.risk)} ${r.level}`,
      })),
    },
    { type: 'list', items: lines, ordered: true },
  ];
  if (waiting) blocks.push({ type: 'section', text: waiting });
  blocks.push({ type: 'fields', fields: [{ label: 'Model', value: model }] });
  const text = [summary, ...lines.map((line, i) => `${i + 1}. ${line}`), ...(waiting ? [waiting] : [])].join(
    '\n',
  );
  return { text, blocks };
}

/** The headline: how many services are at high risk, or that none is and which is riskiest. */
function summaryLine(risks: readonly ServiceRisk[], environment: EnvironmentName): string {
  if (risks.length === 1) {
    const only = risks[0] as ServiceRisk;
    return `${only.service} (${environment}) has a ${percent(only.risk)} chance of failing within the next hour: ${only.level} risk.`;
  }
  const high = risks.filter((r) => r.level === 'high');
  if (high.length > 0) {
    const names = high.map((r) => `${r.service} (${percent(r.risk)})`).join(', ');
    return `${high.length} of ${risks.length} services in ${environment} are at high risk of failing within the next hour: ${names}.`;
  }
  const riskiest = risks[0] as ServiceRisk;
  return `No service in ${environment} is at high risk of failing within the next hour; the riskiest is ${riskiest.service} (${percent(riskiest.risk)}, ${riskiest.level}).`;
}

function riskLine(risk: ServiceRisk): string {
  const why = risk.reasons.length > 0 ? `: ${risk.reasons.join('; ')}` : ': nothing stands out';
  return `${risk.service} ${percent(risk.risk)} (${risk.level})${why}`;
}

function notEnoughHistory(tooNew: readonly ServiceSignals[], environment: EnvironmentName): string {
  const longest = Math.max(...tooNew.map(historyMs));
  const them = tooNew.length === 1 ? (tooNew[0] as ServiceSignals).service : 'them';
  const watched =
    longest < MINUTE_MS
      ? `has only just started checking ${them}`
      : `has checked ${them} for ${Math.floor(longest / MINUTE_MS)} min`;
  return (
    `Not enough history yet to predict failures in ${environment}: the maintenance controller ${watched}, ` +
    `and a prediction needs ${MIN_HISTORY_MS / MINUTE_MS} min of health checks. Ask again in a few minutes.`
  );
}

function reply(text: string, extra: Block[] = []): Reply {
  return { text, blocks: [{ type: 'section', text }, ...extra] };
}

function percent(ratio: number): string {
  const value = ratio * 100;
  return value < 1 ? `${Number(value.toFixed(1))}%` : `${Math.round(value)}%`;
}
