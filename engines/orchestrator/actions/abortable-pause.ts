import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Sleeps, or rejects with the signal's reason once the step times out or the run is cancelled: every
 * standard action stopped by its signal rejects with that reason, so the executor tells a stop from a failure.
 */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (err) {
    signal.throwIfAborted();
    throw err;
  }
}
