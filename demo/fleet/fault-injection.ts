import { isRecord } from '../../adapters/is-record';
import { HttpError } from './http-json';

const FAULT_KINDS = ['latency', 'errors', 'crash', 'hang'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const DEFAULT_FAULT_DURATION_SECONDS = 60;
/** An hour: long enough for any drill, short enough that a forgotten fault heals itself. */
const MAX_FAULT_DURATION_SECONDS = 3600;
const DEFAULT_FAULT_LATENCY_MS = 2000;
/** Past a minute every client has long timed out; more would only pile up pending requests. */
const MAX_FAULT_LATENCY_MS = 60_000;
/**
 * An errors fault affecting at least this share of requests makes /health report degraded, as a real
 * service's health check would notice its own dependency failing for most requests.
 */
export const DEGRADED_ERROR_RATE = 0.5;

/** What POST /admin/fault asked for, validated. */
export interface FaultSpec {
  kind: FaultKind;
  /** Share of domain requests affected; only latency and errors faults pick requests, the others take all. */
  rate: number;
  durationSeconds: number;
  latencyMs: number;
}

export interface ActiveFault {
  kind: FaultKind;
  rate: number;
  /** Only for latency faults. */
  latencyMs?: number;
  /** Epoch milliseconds. */
  startedAt: number;
  until: number;
}

/** The fault as /admin/fault and /admin/info report it. */
export interface FaultView {
  kind: FaultKind;
  rate: number;
  latencyMs?: number;
  startedAt: string;
  until: string;
}

function isFaultKind(value: unknown): value is FaultKind {
  return typeof value === 'string' && (FAULT_KINDS as readonly string[]).includes(value);
}

function numberField(
  body: Record<string, unknown>,
  field: string,
  fallback: number,
  min: number,
  max: number,
) {
  const value = body[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new HttpError(400, 'invalid_fault', `${field} must be a number from ${min} to ${max}`);
  }
  return value;
}

/** Validates a POST /admin/fault body; throws a 400 HttpError naming the first bad field. */
export function parseFaultRequest(body: unknown): FaultSpec {
  if (!isRecord(body)) throw new HttpError(400, 'invalid_fault', 'body must be a JSON object');
  if (!isFaultKind(body.kind)) {
    throw new HttpError(400, 'invalid_fault', `kind must be one of ${FAULT_KINDS.join(', ')}`);
  }
  const durationSeconds = numberField(
    body,
    'duration',
    DEFAULT_FAULT_DURATION_SECONDS,
    0,
    MAX_FAULT_DURATION_SECONDS,
  );
  if (durationSeconds === 0) throw new HttpError(400, 'invalid_fault', 'duration must be more than 0');
  const rate = numberField(body, 'rate', 1, 0, 1);
  const latencyMs = numberField(body, 'latencyMs', DEFAULT_FAULT_LATENCY_MS, 0, MAX_FAULT_LATENCY_MS);
  const picksRequests = body.kind === 'latency' || body.kind === 'errors';
  return { kind: body.kind, rate: picksRequests ? rate : 1, durationSeconds, latencyMs };
}

/** The one fault a service instance is currently suffering, if any; a new fault replaces the old one. */
export class FaultInjector {
  private fault: ActiveFault | undefined;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  inject(spec: FaultSpec): ActiveFault {
    const startedAt = this.now();
    this.fault = {
      kind: spec.kind,
      rate: spec.rate,
      ...(spec.kind === 'latency' ? { latencyMs: spec.latencyMs } : {}),
      startedAt,
      until: startedAt + spec.durationSeconds * 1000,
    };
    return this.fault;
  }

  clear(): void {
    this.fault = undefined;
  }

  /** The active fault; an expired one is forgotten here rather than by a timer, so nothing keeps running. */
  current(): ActiveFault | undefined {
    if (this.fault && this.now() >= this.fault.until) this.fault = undefined;
    return this.fault;
  }

  /** Whether this fault hits the request at hand: each request is picked independently with the fault's rate. */
  picks(fault: ActiveFault): boolean {
    return this.random() < fault.rate;
  }
}

export function viewFault(fault: ActiveFault): FaultView {
  return {
    kind: fault.kind,
    rate: fault.rate,
    ...(fault.latencyMs !== undefined ? { latencyMs: fault.latencyMs } : {}),
    startedAt: new Date(fault.startedAt).toISOString(),
    until: new Date(fault.until).toISOString(),
  };
}
