/**
 * A horizontally scaled service as the scaler simulation sees it: a new replica serves only `startupSeconds`
 * after it is asked for, a removed one stops at once (the simulation does not drain connections).
 */
export class SimulatedService {
  /** When each replica is (or was) ready, ascending: the last ones are the newest. */
  private readonly readyAt: number[];

  constructor(
    private readonly startupSeconds: number,
    /** Replicas running, all ready, when the simulation starts. */
    initialReplicas: number,
    now: number,
  ) {
    this.readyAt = Array.from({ length: initialReplicas }, () => now);
  }

  /** Replicas asked for: ready or starting, all of them paid for. */
  get replicas(): number {
    return this.readyAt.length;
  }

  ready(now: number): number {
    let ready = 0;
    while (ready < this.readyAt.length && (this.readyAt[ready] as number) <= now) ready += 1;
    return ready;
  }

  /** Starts or removes replicas; removing takes the newest first, which are the ones still starting. */
  scaleTo(replicas: number, now: number): void {
    while (this.readyAt.length > replicas) this.readyAt.pop();
    while (this.readyAt.length < replicas) this.readyAt.push(now + this.startupSeconds);
  }
}
