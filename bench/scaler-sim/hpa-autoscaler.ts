import type { AutoscalerInput, SimulatedAutoscaler } from './autoscaler';

export interface HpaOptions {
  /** Per-pod target of the metric, as a share of what one replica serves. */
  targetUtilisation: number;
  capacityPerReplica: number;
  minReplicas: number;
  maxReplicas: number;
}

/** The HPA's defaults (Kubernetes autoscaling/v2, horizontal-pod-autoscaler-tolerance and behavior). */
const TOLERANCE = 0.1;
const SCALE_DOWN_STABILISATION_SECONDS = 300;
/** Default scale-up policies, the larger one applying: double the pods, or add four, per 15 s period
 * (the sync period). */
const SCALE_UP_PERCENT_PER_PERIOD = 100;
const SCALE_UP_PODS_PER_PERIOD = 4;

/**
 * The Kubernetes Horizontal Pod Autoscaler on a per-pod metric (the offered request rate, which unlike CPU
 * does not saturate at 100%), as its controller computes it at each 15 s sync:
 *
 * - usage ratio = mean metric of the pods that report one (the ready pods) / the per-pod target;
 * - pods still starting report nothing: when the ratio says scale down they count as at the target, when it
 *   says scale up as idle, and a recomputed ratio within tolerance or on the other side of 1 keeps the count;
 * - within 10% of the target nothing changes, otherwise desired = ceil(ratio × pods counted);
 * - a scale-down takes the highest recommendation of the last 5 minutes (stabilisation window);
 * - a scale-up adds at most max(100%, 4 pods) per 15 s; the bounds clamp the result.
 */
export class HpaAutoscaler implements SimulatedAutoscaler {
  readonly name = 'reactive (HPA)';
  /** Raw recommendations of the stabilisation window, oldest first. */
  private readonly recommendations: { t: number; replicas: number }[] = [];

  constructor(private readonly options: HpaOptions) {}

  /** What a first sync over ready pods at that load would ask for. */
  startingReplicas(load: number): number {
    const { capacityPerReplica, targetUtilisation, minReplicas, maxReplicas } = this.options;
    return Math.min(
      Math.max(Math.ceil(load / (capacityPerReplica * targetUtilisation)), minReplicas),
      maxReplicas,
    );
  }

  desiredReplicas(input: AutoscalerInput): number {
    const current = input.replicas;
    const recommendation = this.recommend(input);
    while (
      this.recommendations.length > 0 &&
      (this.recommendations[0] as { t: number }).t <= input.now - SCALE_DOWN_STABILISATION_SECONDS
    ) {
      this.recommendations.shift();
    }
    this.recommendations.push({ t: input.now, replicas: recommendation });
    const downRecommendation = Math.max(...this.recommendations.map((r) => r.replicas));
    let desired = current;
    if (recommendation > desired) desired = recommendation;
    if (desired > downRecommendation) desired = downRecommendation;

    // The policies' period equals the sync period, so the period holds no earlier change than this one.
    const scaleUpLimit = Math.max(
      current * (1 + SCALE_UP_PERCENT_PER_PERIOD / 100),
      current + SCALE_UP_PODS_PER_PERIOD,
    );
    desired = Math.min(desired, scaleUpLimit);
    desired = Math.min(Math.max(desired, this.options.minReplicas), this.options.maxReplicas);
    return desired;
  }

  /** The replica calculator's recommendation for this sync, before stabilisation and rate limits. */
  private recommend({ observed, replicas, readyReplicas }: AutoscalerInput): number {
    // No pod reports a metric yet: the controller cannot compute and leaves the count alone.
    if (readyReplicas === 0) return replicas;
    const targetPerPod = this.options.capacityPerReplica * this.options.targetUtilisation;
    const ratio = observed / readyReplicas / targetPerPod;
    const missing = replicas - readyReplicas;
    if (missing === 0) {
      return Math.abs(1 - ratio) <= TOLERANCE ? replicas : Math.ceil(ratio * readyReplicas);
    }
    const filled = ratio < 1 ? observed / targetPerPod + missing : observed / targetPerPod;
    const newRatio = filled / replicas;
    if (Math.abs(1 - newRatio) <= TOLERANCE || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) {
      return replicas;
    }
    const newReplicas = Math.ceil(newRatio * replicas);
    if ((newRatio < 1 && newReplicas > replicas) || (newRatio > 1 && newReplicas < replicas)) return replicas;
    return newReplicas;
  }
}
