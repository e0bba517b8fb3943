import { ErrorCode, OpsbotError } from '../../bot/core/errors';

/**
 * The predictive scaler's decision for one service at one moment: how many replicas it should run, from the
 * load it has seen and the load forecast for it. Pure, so the scaler and `npm run sim:scaler` make the very
 * same decision and the simulation's figures speak for the scaler.
 *
 * Scale-ups look ahead: a replica started now serves only after `startupSeconds`, and the next decision comes
 * one interval later, so capacity for any load forecast before then must be asked for now. Scale-downs are
 * slow on purpose: they wait out a cooldown and must fit the highest load seen over that cooldown as well as
 * the forecast, so noise around a replica boundary does not flap the service up and down.
 */

/** A load sample or forecast value (metric units: requests/s, CPU cores, queue lag) at epoch seconds `t`. */
export interface LoadPoint {
  t: number;
  v: number;
}

/**
 * A forecast value. It holds from `t` until the next point's `t`, as bucketed metrics do (a point per
 * 5-minute bucket). `upper`, when known, is a high quantile of the load (the forecast widened by the
 * forecast's own past errors): the planner keeps it under the SLA's utilisation ceiling.
 */
export interface ForecastPoint extends LoadPoint {
  upper?: number;
}

export interface ScalingPolicy {
  /** At least one: scaling to zero needs a cold-start path this planner does not model. */
  minReplicas: number;
  maxReplicas: number;
  /** Utilisation (0..1] the expected load should run at; the room above it absorbs what no forecast sees. */
  targetUtilisation: number;
  /** Utilisation (target..1] past which the SLA breaks (latency climbs steeply): the upper band must stay under it. */
  utilisationCeiling: number;
  /** Metric units one replica serves at 100% utilisation. */
  capacityPerReplica: number;
  /** Least time between two scale-ups. */
  scaleUpCooldownSeconds: number;
  /** Least time after any scale event before a scale-down, and how far back the load seen must fit it. */
  scaleDownCooldownSeconds: number;
  /** A new replica's time to ready: how far ahead capacity must be asked for. */
  startupSeconds: number;
  /** Time between two decisions: a decision must hold until the next one can take effect. */
  intervalSeconds: number;
}

export interface PlanInput {
  /** Epoch seconds. */
  now: number;
  /** Replicas asked for so far, ready or starting. */
  replicas: number;
  /**
   * Load samples, oldest first, the last being the current load; samples older than the scale-down cooldown
   * are not needed (a scale-down must fit every sample inside it).
   */
  observed: readonly LoadPoint[];
  /**
   * Future load, oldest first, from the point in force at `now` on (each point holds until the next, so a
   * forecast's last point keeps applying: pass a fresh one); empty when there is none and the plan follows
   * observed load alone.
   */
  forecast: readonly ForecastPoint[];
  lastScaleUpAt?: number;
  lastScaleDownAt?: number;
}

/** Why the plan is what it is, short enough for a decision log. */
export type PlanReason = 'forecast' | 'observed' | 'min' | 'max' | 'cooldown' | 'steady';

export interface ReplicaPlan {
  desired: number;
  current: number;
  direction: 'up' | 'down' | 'hold';
  /** The load point that decided it: a forecast point, or an observed sample. */
  driver: ForecastPoint;
  /** Which limit the driver had to respect: its expected load at the target, or its upper band at the ceiling. */
  limit: 'target' | 'ceiling';
  /** Expected utilisation of `desired` replicas at the driver's expected load. */
  utilisationAt: number;
  reason: PlanReason;
}

/** Guards Math.ceil against float noise: 7.000000000001 replicas is 7. */
const REPLICA_EPSILON = 1e-9;
const SECONDS_PER_HOUR = 3600;
/**
 * A scale-down must leave the smaller fleet this far under its limits at the load that decided it (as the
 * Kubernetes HPA's 10% tolerance does): load hovering at a replica boundary then stays on the larger side.
 */
const SCALE_DOWN_TOLERANCE = 0.1;

/** What a fleet of `replicas` costs for `seconds` at `costPerReplicaHour`. */
export function replicaCost(replicas: number, seconds: number, costPerReplicaHour: number): number {
  return ((replicas * seconds) / SECONDS_PER_HOUR) * costPerReplicaHour;
}

/** How many replicas the policy wants for the load at one point, and which of its limits decided. */
interface PointNeed {
  replicas: number;
  point: ForecastPoint;
  limit: 'target' | 'ceiling';
  source: 'forecast' | 'observed';
}

/**
 * The replicas `policy` wants now. Throws an OpsbotError: ConfigInvalid for a policy that cannot be followed
 * (bounds, utilisations, negative times), InvalidRequest when nothing has been observed.
 */
export function planReplicas(policy: ScalingPolicy, input: PlanInput): ReplicaPlan {
  checkPolicy(policy);
  const latest = input.observed.at(-1);
  if (latest === undefined) {
    throw new OpsbotError(ErrorCode.InvalidRequest, 'planning replicas needs at least one observed sample');
  }
  const current = input.replicas;
  const lookAheadEnd = input.now + policy.startupSeconds + policy.intervalSeconds;
  const ahead: { point: ForecastPoint; source: PointNeed['source'] }[] = [
    { point: latest, source: 'observed' },
    ...forecastWindow(input.forecast, input.now, lookAheadEnd).map((point) => ({
      point,
      source: 'forecast' as const,
    })),
  ];
  const downWindowStart = input.now - policy.scaleDownCooldownSeconds;
  const seen = input.observed.filter((p) => p.t >= downWindowStart);
  const upNeed = highest(ahead.map(({ point, source }) => needAt(policy, point, source)));
  // A scale-down must also fit what the cooldown window has seen, with room to spare: noise does not undo a
  // scale-up at once.
  const downNeed = highest(
    [...ahead, ...seen.map((point) => ({ point, source: 'observed' as const }))].map(({ point, source }) =>
      needAt(policy, point, source, 1 - SCALE_DOWN_TOLERANCE),
    ),
  );

  const plan = (desired: number, need: PointNeed, reason: PlanReason): ReplicaPlan => ({
    desired,
    current,
    direction: desired > current ? 'up' : desired < current ? 'down' : 'hold',
    driver: need.point,
    limit: need.limit,
    utilisationAt: need.point.v / (desired * policy.capacityPerReplica),
    reason,
  });
  // The bounds are the operator's, not a decision: they apply whatever the cooldowns say.
  if (current < policy.minReplicas || current > policy.maxReplicas) {
    const desired = Math.min(Math.max(upNeed.replicas, policy.minReplicas), policy.maxReplicas);
    const reason = desired === upNeed.replicas ? upNeed.source : current < policy.minReplicas ? 'min' : 'max';
    return plan(desired, upNeed, reason);
  }
  if (upNeed.replicas > current) {
    if (current === policy.maxReplicas) return plan(current, upNeed, 'max');
    if (within(input.lastScaleUpAt, policy.scaleUpCooldownSeconds, input.now)) {
      return plan(current, upNeed, 'cooldown');
    }
    const desired = Math.min(upNeed.replicas, policy.maxReplicas);
    return plan(desired, upNeed, desired < upNeed.replicas ? 'max' : upNeed.source);
  }
  if (downNeed.replicas < current) {
    if (current === policy.minReplicas) return plan(current, downNeed, 'min');
    if (
      within(input.lastScaleUpAt, policy.scaleDownCooldownSeconds, input.now) ||
      within(input.lastScaleDownAt, policy.scaleDownCooldownSeconds, input.now)
    ) {
      return plan(current, downNeed, 'cooldown');
    }
    const desired = Math.max(downNeed.replicas, policy.minReplicas);
    return plan(desired, downNeed, desired > downNeed.replicas ? 'min' : downNeed.source);
  }
  return plan(current, downNeed, 'steady');
}

/**
 * The forecast points in force during [from, to]: the last one starting at or before `from` (it holds until
 * the next) and every one starting inside the window.
 */
function forecastWindow(forecast: readonly ForecastPoint[], from: number, to: number): ForecastPoint[] {
  let first = 0;
  while (first + 1 < forecast.length && (forecast[first + 1] as ForecastPoint).t <= from) first += 1;
  // Every point from `first` on is in force somewhere in the window unless it starts after it.
  return forecast.slice(first).filter((p) => p.t <= to);
}

/** `margin` (≤ 1) shrinks what a replica may take, for decisions that need room to spare. */
function needAt(
  policy: ScalingPolicy,
  point: ForecastPoint,
  source: PointNeed['source'],
  margin = 1,
): PointNeed {
  const perReplica = policy.capacityPerReplica * margin;
  const atTarget = replicasFor(point.v, perReplica * policy.targetUtilisation);
  const atCeiling =
    point.upper === undefined ? 0 : replicasFor(point.upper, perReplica * policy.utilisationCeiling);
  return atCeiling > atTarget
    ? { replicas: atCeiling, point, limit: 'ceiling', source }
    : { replicas: atTarget, point, limit: 'target', source };
}

function replicasFor(load: number, loadPerReplica: number): number {
  return Math.max(0, Math.ceil(load / loadPerReplica - REPLICA_EPSILON));
}

/** The need asking for most replicas; the earliest of equals, so the driver is the first point that needs them. */
function highest(needs: readonly PointNeed[]): PointNeed {
  return needs.reduce((best, need) => (need.replicas > best.replicas ? need : best));
}

function within(since: number | undefined, seconds: number, now: number): boolean {
  return since !== undefined && now - since < seconds;
}

function checkPolicy(policy: ScalingPolicy): void {
  const problems: string[] = [];
  if (!Number.isInteger(policy.minReplicas) || policy.minReplicas < 1) {
    problems.push('minReplicas must be a whole number of at least 1');
  }
  if (!Number.isInteger(policy.maxReplicas) || policy.maxReplicas < policy.minReplicas) {
    problems.push('maxReplicas must be a whole number not below minReplicas');
  }
  if (!(policy.targetUtilisation > 0 && policy.targetUtilisation <= 1)) {
    problems.push('targetUtilisation must be in (0, 1]');
  }
  if (!(policy.utilisationCeiling >= policy.targetUtilisation && policy.utilisationCeiling <= 1)) {
    problems.push('utilisationCeiling must be in [targetUtilisation, 1]');
  }
  if (!(policy.capacityPerReplica > 0)) problems.push('capacityPerReplica must be positive');
  for (const field of [
    'scaleUpCooldownSeconds',
    'scaleDownCooldownSeconds',
    'startupSeconds',
    'intervalSeconds',
  ] as const) {
    if (!(policy[field] >= 0)) problems.push(`${field} must not be negative`);
  }
  if (problems.length > 0) {
    throw new OpsbotError(ErrorCode.ConfigInvalid, `invalid scaling policy: ${problems.join('; ')}`);
  }
}
