/** What one run of a health check saw. */
export interface CheckResult {
  ok: boolean;
  /** How long the check took, failures included. */
  latencyMs: number;
  /** For people: "HTTP 200 in 4 ms", "connection refused", "2 of 3 samples are 0: {instance="b"}". */
  detail: string;
}

/**
 * The port the maintenance controller checks a service through: an HTTP GET, a TCP connect, a Prometheus
 * query (adapters/health/). A check resolves with what it saw and never rejects for an unhealthy service;
 * it stops work when `signal` aborts, which the controller does once `timeoutMs` has passed, reporting the
 * timeout itself, so a check that ignores its signal still cannot hold a round.
 */
export interface HealthCheck {
  /** How history and alerts name it: "http http://127.0.0.1:7101/health", "tcp 127.0.0.1:5432". */
  readonly name: string;
  readonly timeoutMs: number;
  run(signal: AbortSignal): Promise<CheckResult>;
}
