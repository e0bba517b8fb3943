import type { EnvironmentName, ScalerPolicyConfig } from '../../bot/config/schema';
import type { ScalingPolicy } from './replica-planner';

export type ScalerMetric = ScalerPolicyConfig['metric'];

/**
 * One service's scaling policy with everything resolved (min and max from the catalog when not given): the
 * planner's policy, less the interval, which is the scaler's, plus what the scaler reads and reports.
 */
export interface ScalerPolicy extends Omit<ScalingPolicy, 'intervalSeconds'> {
  /** A catalog service, or the consumer group's name for opsbot's own consumers. */
  service: string;
  environment: EnvironmentName;
  metric: ScalerMetric;
  costPerReplicaHour: number;
  forecast: ScalerPolicyConfig['forecast'];
}

/** The policy of `service` from its config entry, with the catalog's replica bounds as defaults. */
export function resolvePolicy(
  service: string,
  config: ScalerPolicyConfig,
  catalogReplicas: { min: number; max: number } = { min: 1, max: 10 },
): ScalerPolicy {
  return {
    service,
    environment: config.environment,
    metric: config.metric,
    capacityPerReplica: config.capacityPerReplica,
    targetUtilisation: config.targetUtilisation,
    minReplicas: config.minReplicas ?? Math.max(1, catalogReplicas.min),
    maxReplicas: config.maxReplicas ?? catalogReplicas.max,
    scaleUpCooldownSeconds: config.scaleUpCooldownSeconds,
    scaleDownCooldownSeconds: config.scaleDownCooldownSeconds,
    startupSeconds: config.startupSeconds,
    costPerReplicaHour: config.costPerReplicaHour,
    utilisationCeiling: config.sla.utilisationCeiling,
    forecast: config.forecast,
  };
}
