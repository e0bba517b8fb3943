import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { TurnMetrics } from '../core/turn-metrics';

/** Buckets around the latencies that matter for chat: sub-millisecond rule NLU up to slow health checks. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** opsbot's Prometheus metrics, on a registry of its own so several servers can live in one test process. */
export class ServerMetrics implements TurnMetrics {
  readonly registry = new Registry();
  private readonly turns = new Counter({
    name: 'opsbot_turns_total',
    help: 'Chat turns handled, by channel, intent and outcome.',
    labelNames: ['channel', 'intent', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly turnDuration = new Histogram({
    name: 'opsbot_turn_duration_seconds',
    help: 'Time to handle a chat turn inside opsbot, by channel and intent.',
    labelNames: ['channel', 'intent'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'opsbot_http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly wsConnections = new Counter({
    name: 'opsbot_ws_connections_total',
    help: 'WebSocket connections accepted.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'opsbot_' });
  }

  observeTurn(channel: string, intent: string, outcome: string, seconds: number): void {
    this.turns.inc({ channel, intent, outcome });
    this.turnDuration.observe({ channel, intent }, seconds);
  }
}
