import type { IncomingMessage } from 'node:http';
import { Router, type Request, type Response } from 'express';
import { ErrorCode, RequestError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Principal } from '../core/message';
import type { Policy } from '../policy/policy';
import type { Actor, Orchestrator } from '../../engines/orchestrator/orchestrator';
import type { RunStatus } from '../../engines/orchestrator/run';
import type { RunQuery } from '../../engines/orchestrator/run-store';
import type { WorkflowDefinition, WorkflowKind } from '../../engines/orchestrator/workflow';
import { authorisedCaller, bearerCredential, type Authenticator } from './authenticator';
import { readJsonBody } from './json-body';

/** Parameters are small; the same bound as a chat message keeps one request from exhausting memory. */
export const MAX_ORCHESTRATOR_BODY_BYTES = 64 * 1024;
export const DEFAULT_RUN_LIST_LIMIT = 50;
const MAX_REASON_CHARS = 500;

/** Runs, approvals and definitions (runbooks included: they are the automation, not the knowledge base). */
export const SAGAS_READ = 'sagas.read';
export const SAGA_START = 'saga.start';
export const RUNBOOK_RUN = 'runbook.run';

/** Every status, checked complete by the compiler, so a filter can name only real ones. */
export const RUN_STATUSES = Object.keys({
  awaiting_approval: true,
  running: true,
  compensating: true,
  succeeded: true,
  compensated: true,
  failed: true,
  cancelled: true,
  denied: true,
  expired: true,
} satisfies Record<RunStatus, true>) as RunStatus[];

/** A definition as the API shows it: what each step does, not its inputs (a plan shows those, resolved). */
export interface DefinitionView {
  kind: WorkflowKind;
  id: string;
  title: string;
  description: string;
  owner: string | null;
  source: string;
  parameters: WorkflowDefinition['parameters'];
  policy: WorkflowDefinition['policy'];
  triggers: WorkflowDefinition['triggers'];
  steps: {
    id: string;
    title: string | null;
    action: string;
    mutating: boolean;
    undo: { action: string } | null;
    timeoutMs: number;
    maxAttempts: number;
  }[];
}

/**
 * The orchestrator over HTTP, as in the seed design: start, list and show sagas (/api/v1/sagas), cancel a run,
 * list definitions, plan or run a runbook, and decide approvals. Callers authenticate like every API caller
 * (API key or signed token); who they are and their roles come from that credential and the policy, never
 * from the body, whose unknown fields are refused so a misspelt `dryRun` cannot start a real run.
 */
export function orchestratorApi(deps: {
  orchestrator: Orchestrator;
  authenticator: Authenticator;
  policy: Policy;
  logger: Logger;
}): Router {
  const router = Router();

  const authorise = (req: Request, permission: string) =>
    authorisedCaller(deps.authenticator, deps.policy, req.get('authorization'), permission, 'api');
  const actorOf = (user: Principal): Actor => ({ id: user.id, roles: deps.policy.rolesFor(user) });

  /** A dry run answers with the plan and changes nothing; otherwise the run starts in the background. */
  async function startOrPlan(
    req: Request,
    res: Response,
    user: Principal,
    request: { definitionId: string; kind: WorkflowKind; params: Record<string, unknown>; dryRun: boolean },
  ): Promise<void> {
    const runRequest = {
      definitionId: request.definitionId,
      kind: request.kind,
      params: request.params,
      actor: actorOf(user),
      trigger: { type: 'rest' as const },
      ...(req.correlationId ? { correlationId: req.correlationId } : {}),
    };
    if (request.dryRun) {
      res.json({ plan: await deps.orchestrator.plan(runRequest) });
      return;
    }
    const run = await deps.orchestrator.start(runRequest);
    deps.logger.info(
      {
        event: 'orchestrator.start',
        user: user.id,
        kind: run.kind,
        definition: run.definitionId,
        runId: run.id,
        status: run.status,
        correlationId: req.correlationId,
      },
      `${run.kind} started`,
    );
    res.status(202).json({ run });
  }

  router.post('/api/v1/sagas/start', async (req, res) => {
    const user = authorise(req, SAGA_START);
    const body = fieldsOf(await readJsonBody(req, MAX_ORCHESTRATOR_BODY_BYTES), ['saga', 'params', 'dryRun']);
    if (typeof body.saga !== 'string' || body.saga === '')
      throw invalid('saga: the id of the saga to start, e.g. "order-fulfillment"');
    await startOrPlan(req, res, user, {
      definitionId: body.saga,
      kind: 'saga',
      params: paramsOf(body),
      dryRun: dryRunOf(body),
    });
  });

  router.get('/api/v1/sagas', async (req, res) => {
    authorise(req, SAGAS_READ);
    res.json({ runs: await deps.orchestrator.list(runQuery(req.query)) });
  });

  router.get('/api/v1/sagas/:id', async (req, res) => {
    authorise(req, SAGAS_READ);
    res.json(await runOrThrow(deps.orchestrator, String(req.params.id)));
  });

  router.post('/api/v1/sagas/:id/cancel', async (req, res) => {
    const user = authorise(req, SAGAS_READ);
    const body = fieldsOf(await optionalJsonBody(req), ['reason']);
    const run = await runOrThrow(deps.orchestrator, String(req.params.id));
    // Stopping a run takes the right to start one of its kind.
    const decision = deps.policy.decide(user, run.kind === 'saga' ? SAGA_START : RUNBOOK_RUN);
    if (!decision.allowed) throw new RequestError(ErrorCode.Forbidden, decision.reason);
    const cancelled = await deps.orchestrator.cancel(run.id, actorOf(user), reasonOf(body));
    deps.logger.info(
      { event: 'orchestrator.cancel', user: user.id, runId: run.id, correlationId: req.correlationId },
      `${run.kind} run cancelled`,
    );
    res.json({ run: cancelled });
  });

  router.get('/api/v1/definitions', (req, res) => {
    authorise(req, SAGAS_READ);
    const kind = kindOf(req.query.kind, ['saga', 'runbook']);
    res.json({ definitions: deps.orchestrator.definitions(kind).map(definitionView) });
  });

  router.get('/api/v1/runbooks', (req, res) => {
    authorise(req, SAGAS_READ);
    res.json({ runbooks: deps.orchestrator.definitions('runbook').map(definitionView) });
  });

  router.post('/api/v1/runbooks/:id/run', async (req, res) => {
    const user = authorise(req, RUNBOOK_RUN);
    const body = fieldsOf(await optionalJsonBody(req), ['params', 'dryRun']);
    await startOrPlan(req, res, user, {
      definitionId: String(req.params.id),
      kind: 'runbook',
      params: paramsOf(body),
      dryRun: dryRunOf(body),
    });
  });

  router.get('/api/v1/approvals/:id', async (req, res) => {
    authorise(req, SAGAS_READ);
    const approval = await deps.orchestrator.approval(String(req.params.id));
    if (!approval) throw new RequestError(ErrorCode.NotFound, `no approval ${req.params.id}`);
    res.json(approval);
  });

  /**
   * Deciding needs a person: anonymous callers all share one guest identity, which could neither count as a
   * distinct approver nor be held to account. Whether this person may decide is the orchestrator's call,
   * from the roles the policy gives them and the approval's own rules; its answer is the outcome.
   */
  const decider = (req: Request): Principal => {
    const user = deps.authenticator.authenticate(bearerCredential(req.get('authorization')), 'api');
    if (!user.authenticated)
      throw new RequestError(
        ErrorCode.Unauthorized,
        'deciding an approval needs an identity: send an API key or a signed token',
      );
    return user;
  };

  router.post('/api/v1/approvals/:id/approve', async (req, res) => {
    const user = decider(req);
    const outcome = await deps.orchestrator.approve(String(req.params.id), actorOf(user));
    deps.logger.info(
      { event: 'orchestrator.approve', user: user.id, approval: req.params.id, result: outcome.result },
      'approval decided',
    );
    res.json({ outcome });
  });

  router.post('/api/v1/approvals/:id/deny', async (req, res) => {
    const user = decider(req);
    const body = fieldsOf(await optionalJsonBody(req), ['reason']);
    const outcome = await deps.orchestrator.deny(String(req.params.id), actorOf(user), reasonOf(body));
    deps.logger.info(
      { event: 'orchestrator.deny', user: user.id, approval: req.params.id, result: outcome.result },
      'approval decided',
    );
    res.json({ outcome });
  });

  return router;
}

export function definitionView(d: WorkflowDefinition): DefinitionView {
  return {
    kind: d.kind,
    id: d.id,
    title: d.title,
    description: d.description,
    owner: d.owner ?? null,
    source: d.source,
    parameters: d.parameters,
    policy: d.policy,
    triggers: d.triggers,
    steps: d.steps.map((s) => ({
      id: s.id,
      title: s.title ?? null,
      action: s.action,
      mutating: s.mutating,
      undo: s.undo ? { action: s.undo.action } : null,
      timeoutMs: s.timeoutMs,
      maxAttempts: s.retry.maxAttempts,
    })),
  };
}

async function runOrThrow(orchestrator: Orchestrator, id: string) {
  const run = await orchestrator.get(id);
  if (!run) throw new RequestError(ErrorCode.NotFound, `no saga or runbook run ${id}`);
  return run;
}

/** A body with nothing in it counts as `{}`: cancel, deny and a runbook run with no parameters need none. */
async function optionalJsonBody(req: IncomingMessage): Promise<unknown> {
  const declared = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(declared ?? 0) > 0;
  return hasBody ? readJsonBody(req, MAX_ORCHESTRATOR_BODY_BYTES) : {};
}

function fieldsOf(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (!isObject(body)) throw invalid(`the body must be a JSON object with ${allowed.join(', ')}`);
  const unknown = Object.keys(body).filter((field) => !allowed.includes(field));
  if (unknown.length > 0)
    throw invalid(
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${allowed.join(', ')})`,
    );
  return body;
}

function paramsOf(body: Record<string, unknown>): Record<string, unknown> {
  if (body.params === undefined) return {};
  if (!isObject(body.params)) throw invalid('params: must be a JSON object of parameter values');
  return body.params;
}

function dryRunOf(body: Record<string, unknown>): boolean {
  if (body.dryRun === undefined) return false;
  if (typeof body.dryRun !== 'boolean') throw invalid('dryRun: must be true or false');
  return body.dryRun;
}

function reasonOf(body: Record<string, unknown>): string | undefined {
  if (body.reason === undefined) return undefined;
  if (typeof body.reason !== 'string' || body.reason.length > MAX_REASON_CHARS)
    throw invalid(`reason: text of at most ${MAX_REASON_CHARS} characters`);
  return body.reason || undefined;
}

/** `?status=running,awaiting_approval&kind=saga|runbook|all&definition=refund&limit=50`; sagas unless told. */
function runQuery(query: Request['query']): RunQuery {
  const kind = kindOf(query.kind ?? 'saga', ['saga', 'runbook', 'all']);
  const definition = query.definition;
  if (definition !== undefined && (typeof definition !== 'string' || definition === ''))
    throw invalid('definition: the id of one saga or runbook, given once');
  return {
    ...(kind ? { kind } : {}),
    ...(definition ? { definitionId: definition } : {}),
    ...(query.status !== undefined ? { statuses: statusesOf(query.status) } : {}),
    limit: limitOf(query.limit),
  };
}

/** The kind named, or undefined for both (`all`, or no `kind` where that is allowed). */
function kindOf(value: unknown, allowed: readonly string[]): WorkflowKind | undefined {
  if (value === undefined || value === 'all') return undefined;
  if (typeof value !== 'string' || !allowed.includes(value))
    throw invalid(`kind: one of ${allowed.join(', ')}`);
  return value as WorkflowKind;
}

function statusesOf(value: unknown): RunStatus[] {
  const names = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : [];
  const unknown = names.filter((name) => !RUN_STATUSES.includes(name as RunStatus));
  if (names.length === 0 || unknown.length > 0)
    throw invalid(`status: a comma-separated list of ${RUN_STATUSES.join(', ')}`);
  return names as RunStatus[];
}

function limitOf(value: unknown): number {
  if (value === undefined) return DEFAULT_RUN_LIST_LIMIT;
  const n = typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw invalid('limit: a whole number from 1 to 1000');
  return n;
}

function invalid(message: string): RequestError {
  return new RequestError(ErrorCode.InvalidRequest, message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
