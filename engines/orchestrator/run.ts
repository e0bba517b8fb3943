import type { NotifyTarget } from '../../bot/config/schema';
import type { RiskLevel, WorkflowKind } from './workflow';

/**
 * A run's life: it may wait for approval, then runs its steps in order; a failure (or a cancel) runs the
 * compensations of the steps that completed, in reverse order.
 *
 *   awaiting_approval → running → succeeded
 *                     ↘ denied / expired / cancelled
 *   running → compensating → compensated | failed (a compensation failed: a person must look)
 *   running → cancelled (after compensating what had completed)
 */
export type RunStatus =
  | 'awaiting_approval'
  | 'running'
  | 'compensating'
  | 'succeeded'
  | 'compensated'
  | 'failed'
  | 'cancelled'
  | 'denied'
  | 'expired';

export const FINAL_STATUSES: ReadonlySet<RunStatus> = new Set([
  'succeeded',
  'compensated',
  'failed',
  'cancelled',
  'denied',
  'expired',
]);

export type StepStatus =
  | 'pending'
  | 'running'
  | 'waiting'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'compensating'
  | 'compensated'
  | 'compensation_failed';

export interface StepRun {
  id: string;
  action: string;
  mutating: boolean;
  status: StepStatus;
  /** Attempts started, the first included; persisted before each attempt runs. */
  attempts: number;
  /** Sent to the target with every attempt (HTTP Idempotency-Key, event id): a retry or resume is a replay. */
  idempotencyKey: string;
  /** The inputs as resolved when the step started: what the plan and the audit log show. */
  inputs?: Record<string, unknown>;
  output?: unknown;
  error?: string;
  startedAt?: string;
  endedAt?: string;
  /** Set while a wait or an approval step is pending: the time it gives up (ISO). */
  until?: string;
  compensation?: {
    status: 'running' | 'succeeded' | 'failed';
    attempts: number;
    error?: string;
    endedAt?: string;
  };
}

/** What started a run. */
export interface RunTrigger {
  type: 'chat' | 'rest' | 'cli' | 'alert' | 'schedule' | 'simulation';
  /** Alert fingerprint, chat conversation, schedule expression… */
  ref?: string;
}

export interface RiskAssessment {
  /** Predicted probability that the run fails (0–1). */
  probability: number;
  level: RiskLevel;
  /** The features that pushed the score up most, as people read them: "payments 12% errors in the last 5 min". */
  reasons: string[];
  model: string;
  /** The feature values it was scored on, kept with the run so its history can train the next model. */
  features?: Record<string, number>;
  /** What the orchestrator changed because of it. */
  adjustments: string[];
}

export interface WorkflowRun {
  id: string;
  kind: WorkflowKind;
  definitionId: string;
  title: string;
  params: Record<string, unknown>;
  status: RunStatus;
  steps: StepRun[];
  /** Who started it ("slack:U123", "alertmanager"), and the roles policy gave them then. */
  actor: string;
  roles: string[];
  trigger: RunTrigger;
  correlationId: string;
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
  error?: string;
  risk?: RiskAssessment;
  /** The approval the run is waiting for, or was started after. */
  approvalId?: string;
  /** Where its progress is posted: the chat thread of the plan. */
  thread?: NotifyTarget & { messageId?: string };
  /** The alert that started it, for `{{ alert.labels.* }}` in step inputs. */
  alert?: { fingerprint: string; labels: Record<string, string>; annotations: Record<string, string> };
  /** The alert fingerprint + runbook it holds: no second run starts for it while this one is active. */
  dedupKey?: string;
  /** Set by a cancel: the run compensates and ends cancelled, even when another process is driving it. */
  cancel?: { by: string; at: string; reason?: string };
  /** Set when an approval step was denied or expired: the run compensates and ends with this status. */
  refusal?: 'denied' | 'expired';
  /** The process driving it and until when; another process takes a running run over once this has passed. */
  lease?: { owner: string; until: number };
  /** Bumped by every write; a store refuses a write based on an older version. */
  version: number;
}
