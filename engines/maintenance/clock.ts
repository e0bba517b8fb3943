/** A timer the clock handed out, to cancel it. */
export type TimerHandle = { readonly __timer: unique symbol };

/**
 * Time and timers for the maintenance controller: the system's in production, a hand-driven one in tests,
 * so thresholds, timeouts and heal limits are tested without waiting for them.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * Date.now and the global timers. Timers are unref'd: a watch left running must not keep a process alive
 * that has nothing else to do (a CLI command, a test that forgot stop()).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer as unknown as TimerHandle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as unknown as NodeJS.Timeout);
  },
};
