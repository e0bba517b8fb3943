import type { RiskAssessment, WorkflowRun } from './run';
import type { WorkflowDefinition } from './workflow';

/** What a run is about to do, as the failure model sees it before it starts. */
export interface RiskQuestion {
  definition: WorkflowDefinition;
  params: Record<string, unknown>;
  /** Services its steps touch (the plan's blast radius). */
  services: string[];
  environment?: string;
  now: Date;
}

/**
 * Scores a run before it starts. The orchestrator applies the answer: a high risk makes approval required and
 * doubles timeouts and adds retries. Undefined when no model is loaded (the plan then says risk is unscored).
 */
export interface RiskAssessor {
  readonly description: string;
  assess(question: RiskQuestion): Promise<Omit<RiskAssessment, 'adjustments'> | undefined>;
}

/**
 * Finished runs, kept for the failure model's features ("3 of the last 10 runs of this saga failed") and its
 * training (`npm run train:saga`). The executor records every run that reaches a final status.
 */
export interface ExecutionHistory {
  record(run: WorkflowRun, features?: Record<string, number>): void;
}
