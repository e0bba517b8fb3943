/** What a simulated autoscaler sees at each sync: the load of the step just ended and the service's state. */
export interface AutoscalerInput {
  /** Epoch seconds. */
  now: number;
  /** Offered load over [now − stepSeconds, now). */
  observed: number;
  stepSeconds: number;
  /** Replicas asked for, ready or starting. */
  replicas: number;
  readyReplicas: number;
}

/** One of the provisioning policies the scaler simulation compares. */
export interface SimulatedAutoscaler {
  readonly name: string;
  /** The replicas it starts the service with, all ready, when the trace's first step brings `load`. */
  startingReplicas(load: number): number;
  /** The replicas it wants from now on. */
  desiredReplicas(input: AutoscalerInput): Promise<number> | number;
}
