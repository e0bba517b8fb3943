/** How handler and target failures are retried before an event goes to the dead letter queue. */
export interface RetryPolicy {
  /** Handling attempts in all, the first included. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 10_000 };

/**
 * The wait before attempt `attempt + 1`: exponential, capped, with full jitter, so consumers that failed
 * together (a dependency went down) do not all come back at the same instant.
 */
export function backoffDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
