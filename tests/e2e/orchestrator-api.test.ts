import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { ErrorCode } from '../../bot/core/errors';
import { createLogger } from '../../bot/core/logger';
import { Policy } from '../../bot/policy/policy';
import { Authenticator } from '../../bot/server/authenticator';
import { errorHandler, sendError } from '../../bot/server/http-errors';
import { orchestratorApi } from '../../bot/server/orchestrator-api';
import { ActionRegistry } from '../../engines/orchestrator/action';
import { inProcessAction } from '../../engines/orchestrator/actions/in-process-action';
import { FileRunStore } from '../../engines/orchestrator/file-run-store';
import { OrchestratorService } from '../../engines/orchestrator/orchestrator-service';
import { FINAL_STATUSES, type WorkflowRun } from '../../engines/orchestrator/run';
import {
  DEFAULT_POLICY,
  type StepDefinition,
  type WorkflowDefinition,
} from '../../engines/orchestrator/workflow';
import { testConfig } from '../support/runtime';

/**
 * The orchestrator over REST as an integration meets it: a real express app with the router on a loopback
 * port, in front of a real OrchestratorService on a journal in a temp folder, running in-process actions. The
 * roles are the shipped policy's: an operator starts and approves, a viewer only reads.
 */
const OPERATOR_KEY = 'orch-operator-key-0123456789ab';
const SECOND_OPERATOR_KEY = 'orch-operator2-key-0123456789a';
const VIEWER_KEY = 'orch-viewer-key-0123456789abcd';

const logger = createLogger('silent');

function step(id: string, action: string, extra: Partial<StepDefinition> = {}): StepDefinition {
  return {
    id,
    action,
    with: {},
    mutating: true,
    timeoutMs: 2000,
    retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 },
    ...extra,
  };
}

/** A saga with a compensation and a required parameter, runnable by anyone allowed to start sagas. */
const orderSaga: WorkflowDefinition = {
  kind: 'saga',
  id: 'order',
  title: 'Reserve stock',
  description: 'Reserves stock for an order',
  owner: 'team-commerce',
  source: 'sagas/order.yaml',
  parameters: {
    type: 'object',
    properties: { sku: { type: 'string' }, quantity: { type: 'integer', minimum: 1, default: 1 } },
    required: ['sku'],
    additionalProperties: false,
  },
  policy: DEFAULT_POLICY,
  triggers: { alerts: [], intents: [], schedules: [] },
  steps: [
    step('reserve', 'reserve', {
      title: 'Reserve the stock',
      with: { sku: '{{ params.sku }}', quantity: '{{ params.quantity }}' },
      undo: { action: 'release', with: { sku: '{{ params.sku }}' } },
    }),
  ],
};

/** A runbook that someone other than the requester must approve before it runs. */
const restartRunbook: WorkflowDefinition = {
  kind: 'runbook',
  id: 'restart-demo',
  title: 'Restart a service',
  description: 'Restarts one service',
  source: 'runbooks/restart-demo.md',
  parameters: {
    type: 'object',
    properties: { service: { type: 'string', enum: ['payments', 'orders'], default: 'payments' } },
    additionalProperties: false,
  },
  policy: {
    ...DEFAULT_POLICY,
    approval: { ...DEFAULT_POLICY.approval, required: true, selfApproval: false },
  },
  triggers: { alerts: [], intents: [], schedules: [] },
  steps: [step('restart', 'restart', { with: { service: '{{ params.service }}' } })],
};

describe('orchestrator REST API', () => {
  let dir: string;
  let orchestrator: OrchestratorService;
  let server: Server;
  let url: string;
  /** Every action the orchestrator ran, in order: what "no side effect" is checked against. */
  const executed: { action: string; inputs: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    const config = testConfig((raw) => {
      raw.auth = {
        apiKeys: [
          { id: 'op', key: OPERATOR_KEY, user: { id: 'ops-ci', name: 'Ops CI' } },
          { id: 'op2', key: SECOND_OPERATOR_KEY, user: { id: 'ops-two', name: 'Second operator' } },
          { id: 'view', key: VIEWER_KEY, user: { id: 'dash', name: 'Dashboard' } },
        ],
      };
      raw.policy.users['api:ops-ci'] = ['operator'];
      raw.policy.users['api:ops-two'] = ['operator'];
    });
    const policy = new Policy(config.policy);
    const record =
      (action: string) =>
      async (inputs: Record<string, unknown>): Promise<unknown> => {
        executed.push({ action, inputs });
        return { ok: true };
      };
    const actions = new ActionRegistry()
      .register(
        inProcessAction('reserve', record('reserve'), {
          mutating: true,
          describe: (inputs) => ({ summary: `reserve ${String(inputs.sku)}`, services: ['inventory'] }),
        }),
      )
      .register(inProcessAction('release', record('release'), { mutating: true }))
      .register(inProcessAction('restart', record('restart'), { mutating: true }));
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-api-'));
    orchestrator = new OrchestratorService({
      store: new FileRunStore(dir),
      actions,
      definitions: () => [orderSaga, restartRunbook],
      audit: { record: () => {} },
      logger,
      rolesAllow: (roles, permission) => policy.rolesAllow(roles, permission),
    });
    const app = express();
    app.use(orchestratorApi({ orchestrator, authenticator: new Authenticator(config.auth), policy, logger }));
    app.use((req, res) => sendError(res, 404, ErrorCode.NotFound, `no route for ${req.method} ${req.path}`));
    app.use(errorHandler(logger));
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await orchestrator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function call(method: string, urlPath: string, body?: unknown, key: string | undefined = OPERATOR_KEY) {
    return fetch(`${url}${urlPath}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function json(method: string, urlPath: string, body?: unknown, key?: string) {
    const response = await call(method, urlPath, body, key);
    return { status: response.status, body: (await response.json()) as any };
  }

  /** The run as the API shows it once it has ended: asked again until it has. */
  async function finished(id: string): Promise<WorkflowRun> {
    for (;;) {
      const run = (await json('GET', `/api/v1/sagas/${id}`, undefined, VIEWER_KEY)).body as WorkflowRun;
      if (FINAL_STATUSES.has(run.status)) return run;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async function errorOf(method: string, urlPath: string, body?: unknown, key?: string) {
    const { status, body: answer } = await json(method, urlPath, body, key);
    return { status, code: answer.error?.code, message: answer.error?.message };
  }

  it('starts a saga (202) for the authenticated caller, and shows it running to success', async () => {
    const started = await json('POST', '/api/v1/sagas/start', { saga: 'order', params: { sku: 'sku-7' } });
    expect(started.status).toBe(202);
    const { run } = started.body;
    expect(run).toMatchObject({
      kind: 'saga',
      definitionId: 'order',
      actor: 'api:ops-ci',
      roles: ['operator'],
      trigger: { type: 'rest' },
      params: { sku: 'sku-7', quantity: 1 },
    });
    const ended = await finished(run.id);
    expect(ended.status).toBe('succeeded');
    expect(ended.steps.map((s) => [s.id, s.status])).toEqual([['reserve', 'succeeded']]);
    expect(executed).toContainEqual({ action: 'reserve', inputs: { sku: 'sku-7', quantity: 1 } });

    const listed = await json('GET', '/api/v1/sagas?status=succeeded', undefined, VIEWER_KEY);
    expect(listed.status).toBe(200);
    expect(listed.body.runs.map((r: WorkflowRun) => r.id)).toContain(run.id);
  });

  it('plans a dry run (200) with the inputs resolved, and runs and records nothing', async () => {
    const before = executed.length;
    const runsBefore = (await orchestrator.list()).length;
    const { status, body } = await json('POST', '/api/v1/sagas/start', {
      saga: 'order',
      params: { sku: 'sku-dry', quantity: 3 },
      dryRun: true,
    });
    expect(status).toBe(200);
    expect(body.run).toBeUndefined();
    expect(body.plan).toMatchObject({
      definition: { kind: 'saga', id: 'order' },
      params: { sku: 'sku-dry', quantity: 3 },
      steps: [
        {
          id: 'reserve',
          inputs: { sku: 'sku-dry', quantity: 3 },
          target: { summary: 'reserve sku-dry' },
          undo: { action: 'release' },
        },
      ],
      blastRadius: { services: ['inventory'], mutatingSteps: 1 },
    });
    const runbookPlan = await json('POST', '/api/v1/runbooks/restart-demo/run', {
      params: { service: 'orders' },
      dryRun: true,
    });
    expect(runbookPlan.status).toBe(200);
    expect(runbookPlan.body.plan.policyNotes.join(' ')).toMatch(/not the requester/);
    expect(executed).toHaveLength(before);
    expect(await orchestrator.list()).toHaveLength(runsBefore);
  });

  it('answers bad input with 400 and a coded JSON error, and starts nothing', async () => {
    const runsBefore = (await orchestrator.list()).length;
    expect(await errorOf('POST', '/api/v1/sagas/start', { saga: 'order', params: { quantity: 0 } })).toEqual({
      status: 400,
      code: 'invalid_request',
      message: expect.stringMatching(/^parameters of saga order: .*sku is required/),
    });
    expect(
      await errorOf('POST', '/api/v1/sagas/start', { saga: 'order', params: { sku: 'x', colour: 'red' } }),
    ).toMatchObject({ status: 400, message: expect.stringMatching(/colour is not a parameter/) });
    expect(await errorOf('POST', '/api/v1/sagas/start', [{ saga: 'order' }])).toMatchObject({
      status: 400,
      message: expect.stringMatching(/must be a JSON object/),
    });
    expect(await errorOf('POST', '/api/v1/sagas/start', { saga: 42 })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^saga: /),
    });
    expect(await errorOf('POST', '/api/v1/sagas/start', { saga: 'order', params: 'sku=x' })).toMatchObject({
      status: 400,
      message: 'params: must be a JSON object of parameter values',
    });
    expect(
      await errorOf('POST', '/api/v1/sagas/start', { saga: 'order', params: { sku: 'x' }, dryRun: 'yes' }),
    ).toMatchObject({ status: 400, message: 'dryRun: must be true or false' });
    // A misspelt dryRun must not start a real run; nor can a body say who the caller is.
    expect(
      await errorOf('POST', '/api/v1/sagas/start', { saga: 'order', params: { sku: 'x' }, dry_run: true }),
    ).toMatchObject({ status: 400, message: expect.stringMatching(/unknown field dry_run/) });
    expect(
      await errorOf('POST', '/api/v1/sagas/start', {
        saga: 'order',
        params: { sku: 'x' },
        actor: 'web:boss',
      }),
    ).toMatchObject({ status: 400, message: expect.stringMatching(/unknown field actor/) });
    expect(await errorOf('POST', '/api/v1/sagas/start', { saga: 'restart-demo' })).toMatchObject({
      status: 400,
      message: 'restart-demo is a runbook, not a saga',
    });
    const notJson = await fetch(`${url}/api/v1/sagas/start`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
      body: '{"saga": ',
    });
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error.code).toBe('invalid_json');
    expect((await errorOf('GET', '/api/v1/sagas?status=running,sleeping')).status).toBe(400);
    expect((await errorOf('GET', '/api/v1/sagas?kind=job')).status).toBe(400);
    expect((await errorOf('GET', '/api/v1/sagas?limit=0')).status).toBe(400);
    expect((await errorOf('GET', '/api/v1/definitions?kind=sagas')).status).toBe(400);
    expect(await orchestrator.list()).toHaveLength(runsBefore);
  });

  it('answers 404 for unknown sagas, runbooks, runs and approvals', async () => {
    expect(await errorOf('POST', '/api/v1/sagas/start', { saga: 'nope' })).toMatchObject({
      status: 404,
      code: 'not_found',
      message: expect.stringMatching(/no saga named nope \(known: order\)/),
    });
    expect((await errorOf('POST', '/api/v1/runbooks/nope/run', { dryRun: true })).status).toBe(404);
    expect((await errorOf('GET', '/api/v1/sagas/no-such-run')).status).toBe(404);
    expect((await errorOf('POST', '/api/v1/sagas/no-such-run/cancel')).status).toBe(404);
    expect((await errorOf('GET', '/api/v1/approvals/0000beef')).status).toBe(404);
    expect((await errorOf('POST', '/api/v1/approvals/0000beef/approve')).status).toBe(404);
  });

  it('refuses bad credentials (401) and callers without the permission (403)', async () => {
    expect(await errorOf('GET', '/api/v1/sagas', undefined, 'wrong-key')).toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
    // Anonymous callers are guests, and the shipped policy lets guests see no runs.
    expect((await errorOf('GET', '/api/v1/sagas', undefined, '')).status).toBe(403);
    expect(
      await errorOf('POST', '/api/v1/sagas/start', { saga: 'order', params: { sku: 'x' } }, VIEWER_KEY),
    ).toMatchObject({ status: 403, code: 'forbidden', message: expect.stringMatching(/saga\.start/) });
    expect((await errorOf('POST', '/api/v1/runbooks/restart-demo/run', {}, VIEWER_KEY)).status).toBe(403);
  });

  it('lists definitions with their steps, runbooks alone under /runbooks', async () => {
    const all = await json('GET', '/api/v1/definitions', undefined, VIEWER_KEY);
    expect(all.status).toBe(200);
    expect(all.body.definitions.map((d: any) => `${d.kind}:${d.id}`)).toEqual([
      'saga:order',
      'runbook:restart-demo',
    ]);
    expect(all.body.definitions[0]).toMatchObject({
      owner: 'team-commerce',
      source: 'sagas/order.yaml',
      parameters: { required: ['sku'] },
      steps: [
        {
          id: 'reserve',
          title: 'Reserve the stock',
          action: 'reserve',
          mutating: true,
          undo: { action: 'release' },
          timeoutMs: 2000,
          maxAttempts: 2,
        },
      ],
    });
    const sagasOnly = await json('GET', '/api/v1/definitions?kind=saga', undefined, VIEWER_KEY);
    expect(sagasOnly.body.definitions.map((d: any) => d.id)).toEqual(['order']);
    const runbooks = await json('GET', '/api/v1/runbooks', undefined, VIEWER_KEY);
    expect(runbooks.body.runbooks).toEqual([
      expect.objectContaining({
        kind: 'runbook',
        id: 'restart-demo',
        owner: null,
        policy: expect.objectContaining({ approval: expect.objectContaining({ required: true }) }),
        steps: [expect.objectContaining({ id: 'restart', title: null, undo: null })],
      }),
    ]);
  });

  it('runs a runbook after another operator approves it; its requester and a viewer cannot', async () => {
    const started = await json('POST', '/api/v1/runbooks/restart-demo/run', {
      params: { service: 'orders' },
    });
    expect(started.status).toBe(202);
    const { run } = started.body;
    expect(run).toMatchObject({ kind: 'runbook', status: 'awaiting_approval', actor: 'api:ops-ci' });
    const approvalPath = `/api/v1/approvals/${run.approvalId}`;

    expect((await json('GET', approvalPath, undefined, VIEWER_KEY)).body).toMatchObject({
      runId: run.id,
      status: 'pending',
      requestedBy: 'api:ops-ci',
    });
    // Deciding needs an identity: an anonymous guest could be anyone, any number of times.
    expect((await errorOf('POST', `${approvalPath}/approve`, undefined, '')).status).toBe(401);
    const own = await json('POST', `${approvalPath}/approve`);
    expect(own.status).toBe(200);
    expect(own.body.outcome).toMatchObject({
      result: 'refused',
      reason: expect.stringMatching(/someone else/),
    });
    const viewer = await json('POST', `${approvalPath}/approve`, undefined, VIEWER_KEY);
    expect(viewer.body.outcome).toMatchObject({
      result: 'refused',
      reason: expect.stringMatching(/runbook\.run/),
    });
    expect(executed.filter((e) => e.action === 'restart')).toEqual([]);

    const approved = await json('POST', `${approvalPath}/approve`, undefined, SECOND_OPERATOR_KEY);
    expect(approved.body.outcome).toMatchObject({
      result: 'approved',
      approval: { approvals: [{ by: 'api:ops-two' }] },
    });
    expect((await finished(run.id)).status).toBe('succeeded');
    expect(executed.filter((e) => e.action === 'restart')).toEqual([
      { action: 'restart', inputs: { service: 'orders' } },
    ]);
    const again = await json('POST', `${approvalPath}/approve`, undefined, SECOND_OPERATOR_KEY);
    expect(again.body.outcome.result).toBe('already_decided');
    const runbookRuns = await json('GET', '/api/v1/sagas?kind=runbook', undefined, VIEWER_KEY);
    expect(runbookRuns.body.runs.map((r: WorkflowRun) => r.id)).toEqual([run.id]);
    const sagaRuns = await json('GET', '/api/v1/sagas', undefined, VIEWER_KEY);
    expect(sagaRuns.body.runs.every((r: WorkflowRun) => r.kind === 'saga')).toBe(true);
  });

  it('denies a run with a reason: it ends denied without running a step', async () => {
    const { run } = (await json('POST', '/api/v1/runbooks/restart-demo/run', {})).body;
    const denied = await json(
      'POST',
      `/api/v1/approvals/${run.approvalId}/deny`,
      { reason: 'not during the sale' },
      SECOND_OPERATOR_KEY,
    );
    expect(denied.status).toBe(200);
    expect(denied.body.outcome).toMatchObject({
      result: 'denied',
      approval: { status: 'denied', denial: { by: 'api:ops-two', reason: 'not during the sale' } },
    });
    const ended = await finished(run.id);
    expect(ended.status).toBe('denied');
    expect(ended.steps[0]?.status).toBe('pending');
    expect(
      (await errorOf('POST', `/api/v1/approvals/${run.approvalId}/deny`, { reason: 7 }, SECOND_OPERATOR_KEY))
        .status,
    ).toBe(400);
  });

  it('cancels a waiting run for those allowed to run it, with the reason recorded', async () => {
    const { run } = (await json('POST', '/api/v1/runbooks/restart-demo/run', {})).body;
    const cancelPath = `/api/v1/sagas/${run.id}/cancel`;
    expect(await errorOf('POST', cancelPath, { reason: 'mine now' }, VIEWER_KEY)).toMatchObject({
      status: 403,
      message: expect.stringMatching(/runbook\.run/),
    });
    const cancelled = await json('POST', cancelPath, { reason: 'wrong service' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.run).toMatchObject({
      status: 'cancelled',
      cancel: { by: 'api:ops-ci', reason: 'wrong service' },
    });
    expect(
      (await json('GET', `/api/v1/approvals/${run.approvalId}`, undefined, VIEWER_KEY)).body.status,
    ).toBe('cancelled');
    expect(await errorOf('POST', cancelPath)).toMatchObject({
      status: 400,
      message: expect.stringMatching(/already ended: cancelled/),
    });
  });
});
