import type { SimulatedAutoscaler } from './autoscaler';

/** Guards Math.ceil against float noise: 60.000000001 replicas is 60. */
const REPLICA_EPSILON = 1e-9;

/** Static peak provisioning: enough replicas for the trace's peak at the target utilisation, all the time. */
export class StaticAutoscaler implements SimulatedAutoscaler {
  readonly name = 'static peak';

  constructor(readonly replicas: number) {}

  /** The replicas `peakRate` needs at `targetUtilisation`. */
  static forPeak(peakRate: number, capacityPerReplica: number, targetUtilisation: number): StaticAutoscaler {
    const replicas = Math.ceil(peakRate / (capacityPerReplica * targetUtilisation) - REPLICA_EPSILON);
    return new StaticAutoscaler(Math.max(1, replicas));
  }

  startingReplicas(): number {
    return this.replicas;
  }

  desiredReplicas(): number {
    return this.replicas;
  }
}
