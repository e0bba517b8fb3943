import { replicaCost } from '../../engines/scaler/replica-planner';
import type { SimulatedAutoscaler } from './autoscaler';
import type { LoadTrace } from './load-trace';
import { SimulatedService } from './simulated-service';

export interface SimulationSetup {
  capacityPerReplica: number;
  startupSeconds: number;
  /**
   * The SLA: a step is in violation when its offered load exceeds the ready replicas' capacity times this
   * ceiling (past it, queueing delay and so p95 latency climb steeply), and a minute is in violation when any
   * of its steps is.
   */
  utilisationCeiling: number;
  costPerReplicaHour: number;
  /** Steps replayed before scoring starts: the policies run through them, nothing is counted. */
  warmUpSteps: number;
}

export interface SimulationResult {
  policy: string;
  replicaHours: number;
  cost: number;
  /** Minutes scored. */
  minutes: number;
  violationMinutes: number;
  violationSeconds: number;
  /** Scale-ups plus scale-downs while scored. */
  scaleActions: number;
  peakReplicas: number;
}

const SECONDS_PER_MINUTE = 60;
const SECONDS_PER_HOUR = 3600;

/**
 * Replays `trace` through a simulated service run by `autoscaler`. The service starts with the replicas the
 * autoscaler starts it with, all ready; from the second step on, the autoscaler sees the previous step's
 * load and sets the replica count; then the step's load meets the replicas ready by its start.
 */
export async function simulate(
  trace: LoadTrace,
  autoscaler: SimulatedAutoscaler,
  setup: SimulationSetup,
): Promise<SimulationResult> {
  const { stepSeconds, rates } = trace;
  const scoreStart = trace.start + setup.warmUpSteps * stepSeconds;
  const minutes = Math.ceil(((rates.length - setup.warmUpSteps) * stepSeconds) / SECONDS_PER_MINUTE);
  const violatedMinutes = new Uint8Array(minutes);
  const service = new SimulatedService(
    setup.startupSeconds,
    autoscaler.startingReplicas(rates[0] ?? 0),
    trace.start,
  );
  let replicaSeconds = 0;
  let violationSeconds = 0;
  let scaleActions = 0;
  let peakReplicas = 0;
  for (let i = 0; i < rates.length; i += 1) {
    const now = trace.start + i * stepSeconds;
    const scored = i >= setup.warmUpSteps;
    if (i > 0) {
      const replicas = service.replicas;
      const desired = await autoscaler.desiredReplicas({
        now,
        observed: rates[i - 1] as number,
        stepSeconds,
        replicas,
        readyReplicas: service.ready(now),
      });
      if (desired !== replicas) {
        service.scaleTo(desired, now);
        if (scored) scaleActions += 1;
      }
    }
    if (!scored) continue;
    replicaSeconds += service.replicas * stepSeconds;
    peakReplicas = Math.max(peakReplicas, service.replicas);
    const capacity = service.ready(now) * setup.capacityPerReplica * setup.utilisationCeiling;
    if ((rates[i] as number) > capacity) {
      violationSeconds += stepSeconds;
      violatedMinutes[Math.floor((now - scoreStart) / SECONDS_PER_MINUTE)] = 1;
    }
  }
  return {
    policy: autoscaler.name,
    replicaHours: replicaSeconds / SECONDS_PER_HOUR,
    cost: replicaCost(replicaSeconds, 1, setup.costPerReplicaHour),
    minutes,
    violationMinutes: violatedMinutes.reduce((sum, v) => sum + v, 0),
    violationSeconds,
    scaleActions,
    peakReplicas,
  };
}
