import type { BadgeState } from './message';

export interface ProbeResult {
  state: BadgeState;
  /** Human-readable: "HTTP 200 in 4 ms", "connection refused", "timed out after 2000 ms". */
  detail: string;
  latencyMs: number;
  /** Epoch milliseconds of the check; older than now when a cached result is reused. */
  checkedAt: number;
  httpStatus?: number;
}

/** The port system status depends on to check a service's health URL. */
export interface HealthProbe {
  check(url: string): Promise<ProbeResult>;
}

/** One of opsbot's own parts, reported by system status and /readyz. */
export interface Component {
  name: string;
  /** False for parts that may be absent without opsbot being unready (engines not installed). */
  requiredForReadiness: boolean;
  check(): Promise<{ state: BadgeState; detail: string }>;
}

/**
 * A component's state, never an exception: a check that throws is reported as critical with its message,
 * so one broken part shows up as such instead of failing /readyz or "system status" as a whole.
 */
export async function checkComponent(component: Component): Promise<{ state: BadgeState; detail: string }> {
  try {
    return await component.check();
  } catch (err) {
    return { state: 'critical', detail: err instanceof Error ? err.message : String(err) };
  }
}
