import type { Channel } from './message';

/** The port the pipeline reports each turn to; the server implements it with prom-client. */
export interface TurnMetrics {
  observeTurn(channel: Channel, intent: string, outcome: string, seconds: number): void;
}

export const NO_TURN_METRICS: TurnMetrics = { observeTurn: () => {} };
