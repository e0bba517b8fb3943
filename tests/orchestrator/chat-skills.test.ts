import path from 'node:path';
import { ServiceCatalog } from '../../bot/config/catalog';
import type { Block, ButtonsBlock, InboundTurn, Principal, Reply } from '../../bot/core/message';
import { newSession, type Slots } from '../../bot/dialogue/session';
import { createApprovalCommands } from '../../bot/skills/approval-commands';
import { parametersFromText } from '../../bot/skills/chat-run';
import { approvalButtons, planReply, runReply } from '../../bot/skills/plan-reply';
import { createRunRunbookSkill } from '../../bot/skills/run-runbook';
import { createSagaStatusSkill } from '../../bot/skills/saga-status';
import type { Skill, SkillContext } from '../../bot/skills/skill';
import { createStartSagaSkill, sagasNamed } from '../../bot/skills/start-saga';
import type { WorkflowRun } from '../../engines/orchestrator/run';
import { loadSagas } from '../../engines/orchestrator/sagas/saga-loader';
import {
  DEFAULT_POLICY,
  DEFAULT_STEP_RETRY,
  type StepDefinition,
  type WorkflowDefinition,
} from '../../engines/orchestrator/workflow';
import { FakeOrchestrator } from '../support/fake-orchestrator';
import { testConfig } from '../support/runtime';

const alice: Principal = { id: 'web:alice', name: 'Alice', authenticated: true };
const catalog = new ServiceCatalog(testConfig());
const SAGAS = loadSagas('sagas', path.resolve(__dirname, '../..')).definitions;

function step(
  id: string,
  action: string,
  inputs: Record<string, unknown>,
  extra: Partial<StepDefinition> = {},
) {
  return {
    id,
    action,
    with: inputs,
    mutating: false,
    timeoutMs: 30_000,
    retry: DEFAULT_STEP_RETRY,
    ...extra,
  };
}

const SERVICE_DOWN: WorkflowDefinition = {
  kind: 'runbook',
  id: 'service-down',
  title: 'Service down',
  description: 'A service answers no requests.',
  source: 'runbooks/service-down.md',
  parameters: {
    type: 'object',
    properties: {
      service: { type: 'string', description: 'The service that is down.', examples: ['payments'] },
      environment: { type: 'string' },
      replicas: { type: 'integer', default: 2 },
    },
    required: ['service', 'environment'],
  },
  policy: DEFAULT_POLICY,
  triggers: { alerts: [], intents: [], schedules: [] },
  steps: [
    step('check-health', 'query', { service: '{{ params.service }}' }),
    step(
      'restart',
      'restart',
      { service: '{{ params.service }}' },
      { mutating: true, undo: { action: 'scale', with: { service: '{{ params.service }}', replicas: 1 } } },
    ),
  ],
};

const FAILOVER: WorkflowDefinition = {
  ...SERVICE_DOWN,
  id: 'payments-failover',
  title: 'Fail payments over to the standby provider',
  description: '',
  source: 'runbooks/payments-failover.md',
  parameters: { type: 'object', properties: {} },
  policy: {
    ...DEFAULT_POLICY,
    risk: 'high',
    approval: { required: true, approvers: 2, selfApproval: false, ttlSeconds: 1800, roles: ['lead'] },
  },
};

function context(text: string, slots: Slots = {}, roles = ['operator']): SkillContext {
  return {
    turn: { channel: 'web', user: alice, conversationId: 'conv-1', text },
    user: alice,
    roles,
    slots,
    session: newSession(),
    catalog,
    can: () => true,
    skills: [],
    correlationId: 'corr-1',
  };
}

function buttons(reply: Reply): ButtonsBlock['buttons'] {
  return reply.blocks.filter((b): b is ButtonsBlock => b.type === 'buttons').flatMap((b) => b.buttons);
}

function block<T extends Block['type']>(reply: Reply, type: T): Extract<Block, { type: T }> | undefined {
  return reply.blocks.find((b): b is Extract<Block, { type: T }> => b.type === type);
}

describe('run_runbook', () => {
  let orchestrator: FakeOrchestrator;
  let skill: Skill;
  beforeEach(() => {
    orchestrator = new FakeOrchestrator([SERVICE_DOWN, FAILOVER, ...SAGAS]);
    skill = createRunRunbookSkill({
      orchestrator,
      threadOf: (turn) => ({ channel: 'web', room: turn.conversationId }),
    });
  });

  it('is not confirmed by the dialogue: the approval buttons are the confirmation', () => {
    expect(skill).toMatchObject({
      intent: 'run_runbook',
      permission: 'runbook.run',
      mutating: false,
      installed: true,
    });
  });

  it('accepts only runbooks the orchestrator has, and names some when asking', () => {
    const runbook = skill.slots.find((s) => s.entity === 'runbook');
    expect(runbook?.required).toBe(true);
    expect(runbook?.validate?.('service-down', {}, catalog)).toBeUndefined();
    expect(runbook?.validate?.('order-fulfillment', {}, catalog)).toBe(
      'There is no runbook order-fulfillment.',
    );
    expect(runbook?.prompt).toBe('Which runbook? For example service-down, payments-failover.');
  });

  it('starts the run for the service said, defaults the environment, and shows the plan with approval buttons', async () => {
    const reply = await skill.handle(
      context('run the service-down runbook for payments', { runbook: 'service-down', service: 'payments' }),
    );

    expect(orchestrator.started).toEqual([
      {
        definitionId: 'service-down',
        kind: 'runbook',
        params: { service: 'payments', environment: 'production' },
        actor: { id: 'web:alice', roles: ['operator'] },
        trigger: { type: 'chat', ref: 'conv-1' },
        correlationId: 'corr-1',
        thread: { channel: 'web', room: 'conv-1' },
      },
    ]);
    const [run] = await orchestrator.list();
    expect(reply.text).toContain('Plan: runbook service-down — Service down');
    expect(reply.text).toContain('Parameters: service=payments, environment=production, replicas=2');
    expect(reply.text).toContain('1. check-health — query payments (query)');
    expect(reply.text).toContain(
      '2. restart — restart payments (restart; changes something; undo: scale payments)',
    );
    expect(reply.text).toContain('Blast radius: payments in production; 1 of 2 steps change something');
    expect(reply.text).toContain('Approval: your own confirmation (the policy asks for no other approval)');
    expect(reply.text).toContain(`Run ${run?.id} waits for approval ab000001: 0 of 1 approval`);
    expect(block(reply, 'list')).toMatchObject({ ordered: true });
    expect(buttons(reply)).toEqual([
      { actionId: 'orchestrator.approve', label: 'Approve', value: 'ab000001', style: 'primary' },
      { actionId: 'orchestrator.deny', label: 'Deny', value: 'ab000001', style: 'danger' },
    ]);
  });

  it('explains a missing required parameter with an example to copy, and starts nothing', async () => {
    const reply = await skill.handle(context('run the service-down runbook', { runbook: 'service-down' }));
    expect(reply.text).toBe(
      [
        'The service-down runbook needs one more parameter:',
        '- service (e.g. payments): The service that is down.',
        'Ask again with them, for example:',
        'run the service-down runbook for payments',
      ].join('\n'),
    );
    expect(orchestrator.started).toEqual([]);
  });

  it('says when the runbook takes no service, and reads name=value for the parameters it has', async () => {
    const reply = await skill.handle(
      context('run payments-failover for payments', { runbook: 'payments-failover', service: 'payments' }),
    );
    expect(reply.text.split('\n')[0]).toBe(
      'The payments-failover runbook takes no service, so I left payments out.',
    );
    expect(orchestrator.started[0]?.params).toEqual({});

    await skill.handle(
      context('run service-down for search replicas=3', { runbook: 'service-down', service: 'search' }),
    );
    expect(orchestrator.started[1]?.params).toEqual({
      service: 'search',
      environment: 'production',
      replicas: 3,
    });
  });

  it('shows the policy and the risk with its reasons', async () => {
    orchestrator.risk = {
      probability: 0.62,
      level: 'high',
      reasons: ['payments 12% errors in the last 5 min'],
      model: 'saga-failure@1',
      adjustments: ['approval required'],
    };
    const reply = await skill.handle(context('run payments-failover', { runbook: 'payments-failover' }));
    expect(reply.text).toContain('Approval: 2 approvals from lead, not from the requester');
    expect(reply.text).toContain('Risk: high, 62% predicted chance of failure; approval required');
    expect(reply.text).toContain('Risk: payments 12% errors in the last 5 min');
    expect(reply.text).toContain('the policy asks for approval');
  });

  it('tells a refusal by the orchestrator as such', async () => {
    const locked = { ...SERVICE_DOWN, policy: { ...DEFAULT_POLICY, roles: ['sre'] } };
    orchestrator = new FakeOrchestrator([locked]);
    skill = createRunRunbookSkill({ orchestrator });
    const reply = await skill.handle(
      context('run service-down for payments', { runbook: 'service-down', service: 'payments' }),
    );
    expect(reply.text).toBe(
      "I can't run the runbook service-down: service-down may be run by sre only. Nothing was started.",
    );
    expect(buttons(reply)).toEqual([]);
  });
});

describe('start_saga', () => {
  let orchestrator: FakeOrchestrator;
  let skill: Skill;
  beforeEach(() => {
    orchestrator = new FakeOrchestrator([SERVICE_DOWN, ...SAGAS]);
    skill = createStartSagaSkill({ orchestrator });
  });

  it('finds the saga the words name', () => {
    const ids = (text: string) => sagasNamed(text, SAGAS).map((s) => s.id);
    expect(ids('start the order fulfillment saga')).toEqual(['order-fulfillment']);
    expect(ids('onboard a new user')).toEqual(['user-onboarding']);
    expect(ids('start refund for the order')).toEqual(['refund']);
    expect(ids('start a saga')).toEqual([]);
  });

  it('reads entities, name=value, "name value" and values only one parameter accepts', async () => {
    const reply = await skill.handle(
      context(
        'start the order fulfillment saga for customer cus_123, 2 of sku-7, quantity 2 amountCents=2598',
        {
          customer_id: 'cus_123',
        },
      ),
    );
    expect(orchestrator.started[0]).toMatchObject({
      definitionId: 'order-fulfillment',
      kind: 'saga',
      params: { customerId: 'cus_123', sku: 'sku-7', quantity: 2, amountCents: 2598 },
    });
    expect(reply.text).toContain('Plan: saga order-fulfillment — Order fulfillment');
    expect(reply.text).toContain(
      'Create the order — POST orders /orders (http; changes something; compensation: POST orders /orders/{{ steps.create-order.output.body.orderId }}/cancel)',
    );
    expect(buttons(reply).map((b) => [b.actionId, b.value])).toEqual([
      ['orchestrator.approve', 'ab000001'],
      ['orchestrator.deny', 'ab000001'],
    ]);
  });

  it('asks for everything missing in one message, keeping what was given in the example', async () => {
    const reply = await skill.handle(
      context('start the order fulfillment saga for customer cus_123', { customer_id: 'cus_123' }),
    );
    expect(reply.text).toBe(
      [
        'To start order-fulfillment (Order fulfillment) I also need:',
        '- sku (e.g. sku-7): The product, as the catalog names it.',
        '- amountCents (e.g. 2598): What the customer is charged, in cents (payments does not price the order itself).',
        'Ask again with everything, for example:',
        'start the order-fulfillment saga customerId=cus_123 sku=sku-7 quantity=2 amountCents=2598',
      ].join('\n'),
    );
    expect(block(reply, 'code')?.code).toBe(
      'start the order-fulfillment saga customerId=cus_123 sku=sku-7 quantity=2 amountCents=2598',
    );
    expect(orchestrator.started).toEqual([]);
  });

  it('quotes multi-word values in the example, and takes quoted values back', async () => {
    const asked = await skill.handle(context('onboard a user with email ada@example.com'));
    expect(asked.text).toContain('start the user-onboarding saga email=ada@example.com name="Ada Lovelace"');
    await skill.handle(context('start the user-onboarding saga email=ada@example.com name="Ada Lovelace"'));
    expect(orchestrator.started[0]?.params).toEqual({ email: 'ada@example.com', name: 'Ada Lovelace' });
  });

  it('lists the sagas when the words name none, and the candidates when they name several', async () => {
    const none = await skill.handle(context('start a saga'));
    expect(none.text.split('\n').slice(0, 4)).toEqual([
      'Which saga? These can be started:',
      expect.stringMatching(/^- order-fulfillment — Order fulfillment: /),
      expect.stringMatching(/^- refund — Refund a payment: /),
      expect.stringMatching(/^- user-onboarding — User onboarding: /),
    ]);
    const several = await skill.handle(context('start the saga for the user order'));
    expect(several.text.split('\n')[0]).toBe('Which of these sagas do you mean?');
    expect(several.text).toContain('- order-fulfillment');
    expect(several.text).toContain('- user-onboarding');
    expect(orchestrator.started).toEqual([]);
  });

  it('shows who must approve a refund', async () => {
    const reply = await skill.handle(context('start the refund saga for pay_3f9c2a1b7d4e5f60'));
    expect(orchestrator.started[0]?.params).toEqual({ paymentId: 'pay_3f9c2a1b7d4e5f60' });
    expect(reply.text).toContain(
      'Parameters: paymentId=pay_3f9c2a1b7d4e5f60, reason=requested by the customer',
    );
    expect(reply.text).toContain('Approval: 1 approval, not from the requester');
  });
});

describe('parametersFromText', () => {
  const schema = SAGAS.find((s) => s.id === 'order-fulfillment')!.parameters;

  it('reads "name value" only where the value fits, and leaves a bad name=value to the schema', () => {
    expect(parametersFromText('the quantity we need and currency please', schema)).toEqual({});
    expect(parametersFromText('currency usd, quantity: 3.', schema)).toEqual({
      currency: 'usd',
      quantity: 3,
    });
    expect(parametersFromText('quantity=two', schema)).toEqual({ quantity: 'two' });
  });

  it('accepts the spelled-out names', () => {
    expect(parametersFromText('customer id cus_9 amount_cents=100 amount-cents=5', schema)).toEqual({
      customerId: 'cus_9',
      amountCents: 100,
    });
  });
});

describe('saga_status', () => {
  let orchestrator: FakeOrchestrator;
  let skill: Skill;
  const running: WorkflowRun = {
    id: '3f9c2a1b-1111-4222-8333-444455556666',
    kind: 'saga',
    definitionId: 'order-fulfillment',
    title: 'Order fulfillment',
    params: { customerId: 'cus_1', quantity: 2 },
    status: 'compensating',
    steps: [
      {
        id: 'create-order',
        action: 'http',
        mutating: true,
        status: 'compensated',
        attempts: 1,
        idempotencyKey: 'k1',
      },
      {
        id: 'charge-payment',
        action: 'http',
        mutating: true,
        status: 'failed',
        attempts: 3,
        idempotencyKey: 'k2',
        error: 'payments answered 503',
      },
      {
        id: 'ship-order',
        action: 'http',
        mutating: true,
        status: 'compensation_failed',
        attempts: 1,
        idempotencyKey: 'k3',
        compensation: { status: 'failed', attempts: 3, error: 'checkout answered 500' },
      },
      {
        id: 'notify-customer',
        action: 'http',
        mutating: true,
        status: 'pending',
        attempts: 0,
        idempotencyKey: 'k4',
      },
    ],
    actor: 'web:alice',
    roles: ['operator'],
    trigger: { type: 'chat', ref: 'conv-1' },
    correlationId: 'c',
    createdAt: '2026-08-27T14:02:00.000Z',
    updatedAt: '2026-08-27T14:03:00.000Z',
    risk: { probability: 0.31, level: 'medium', reasons: ['payments slow'], model: 'm', adjustments: [] },
    version: 7,
  };
  const finished: WorkflowRun = {
    ...running,
    id: '9a8b7c6d-1111-4222-8333-444455556666',
    kind: 'runbook',
    definitionId: 'service-down',
    title: 'Service down',
    status: 'succeeded',
    steps: [],
    createdAt: '2026-08-27T13:00:00.000Z',
    endedAt: '2026-08-27T13:01:00.000Z',
    risk: undefined,
  };

  beforeEach(() => {
    orchestrator = new FakeOrchestrator([]);
    orchestrator.put(running);
    orchestrator.put(finished);
    skill = createSagaStatusSkill({ orchestrator });
  });

  it('shows one run: status, steps with attempts, errors and compensation, risk and who started it', async () => {
    const reply = await skill.handle(context(`status of ${running.id}`, { saga_id: running.id }));
    expect(reply.text).toBe(
      [
        `Saga order-fulfillment (Order fulfillment), run ${running.id}: compensating`,
        'Started by: web:alice (chat conv-1)',
        'Started: 2026-08-27 14:02 UTC',
        'Parameters: customerId=cus_1, quantity=2',
        'Risk: medium, 31% predicted chance of failure; payments slow',
        'Steps:',
        '1. create-order: compensated after 1 attempt',
        '2. charge-payment: failed after 3 attempts — payments answered 503',
        '3. ship-order: compensation failed after 1 attempt (compensation: checkout answered 500)',
        '4. notify-customer: pending',
      ].join('\n'),
    );
    expect(block(reply, 'status')?.badges).toEqual([
      { label: 'order-fulfillment', state: 'warning', detail: 'compensating' },
    ]);
  });

  it('finds a run by the 8 characters listings show', async () => {
    const reply = await skill.handle(context('how is 9a8b7c6d doing?'));
    expect(reply.text.split('\n')[0]).toBe(
      `Runbook service-down (Service down), run ${finished.id}: succeeded`,
    );
    expect(reply.text).toContain('Ended: 2026-08-27 13:01 UTC');
  });

  it('says so when there is no such run', async () => {
    const reply = await skill.handle(context('status of deadbeef'));
    expect(reply.text).toBe(
      'There is no run deadbeef. Ask "which sagas are running?" to see the runs there are.',
    );
  });

  it('lists runs in flight and recently finished, sagas and runbooks alike', async () => {
    const reply = await skill.handle(context('which sagas are running?'));
    expect(reply.text).toBe(
      [
        'In flight (1):',
        '- 3f9c2a1b saga order-fulfillment: compensating — web:alice, 2026-08-27 14:02 UTC',
        'Recently finished:',
        '- 9a8b7c6d runbook service-down: succeeded — web:alice, 2026-08-27 13:00 UTC',
        'Ask "status of <run id>" for a run\'s steps; the first 8 characters of the id are enough.',
      ].join('\n'),
    );
  });

  it('shows an open approval with its buttons', async () => {
    const starter = new FakeOrchestrator([SERVICE_DOWN]);
    const started = await starter.start({
      definitionId: 'service-down',
      params: { service: 'payments', environment: 'production' },
      actor: { id: 'web:bob', roles: [] },
      trigger: { type: 'chat' },
    });
    const reply = await createSagaStatusSkill({ orchestrator: starter }).handle(
      context('', { saga_id: started.id }),
    );
    expect(reply.text).toContain(
      'Approval: Run 00000001-aaaa-4bbb-8ccc-000000000001 waits for approval ab000001',
    );
    expect(buttons(reply).map((b) => b.value)).toEqual(['ab000001', 'ab000001']);
  });

  it('says when nothing has run', async () => {
    const reply = await createSagaStatusSkill({ orchestrator: new FakeOrchestrator([]) }).handle(
      context('sagas?'),
    );
    expect(reply.text).toBe('No sagas or runbooks have run yet.');
  });
});

describe('approval commands', () => {
  let orchestrator: FakeOrchestrator;
  const commands = () => createApprovalCommands(orchestrator);
  const bob = { id: 'web:bob', roles: ['lead'] };
  const carol = { id: 'web:carol', roles: ['lead'] };
  const typed = (text: string, user = alice): InboundTurn => ({
    channel: 'web',
    user,
    conversationId: 'c',
    text,
  });
  const clicked = (actionId: string, value: string): InboundTurn => ({
    channel: 'web',
    user: alice,
    conversationId: 'c',
    text: '',
    action: { actionId, value },
  });

  async function failoverApproval(): Promise<string> {
    const run = await orchestrator.start({
      definitionId: 'payments-failover',
      params: {},
      actor: { id: 'web:alice', roles: ['lead'] },
      trigger: { type: 'chat' },
    });
    return run.approvalId as string;
  }

  beforeEach(() => {
    orchestrator = new FakeOrchestrator([SERVICE_DOWN, FAILOVER]);
  });

  it('matches the plan buttons and typed commands, and nothing else', () => {
    const { matches } = commands();
    expect(matches(clicked('orchestrator.approve', 'ab000001'))).toBe(true);
    expect(matches(clicked('orchestrator.deny', 'ab000001'))).toBe(true);
    expect(matches(clicked('dialogue.confirm', 'yes'))).toBe(false);
    expect(matches(typed('approve 3f9c2a1b'))).toBe(true);
    expect(matches(typed('Deny 3F9C2A1B because it is peak time'))).toBe(true);
    expect(matches(typed('reject 3f9c2a1b: not now'))).toBe(true);
    expect(matches(typed('approve the change'))).toBe(false);
    expect(matches(typed('please approve 3f9c2a1b'))).toBe(false);
    expect(matches(typed('approve 3f9c2a1bc'))).toBe(false);
  });

  it('records one approval of several, then approves with the last', async () => {
    const id = await failoverApproval();
    const first = await commands().handle(clicked('orchestrator.approve', id), bob);
    expect(first.reply.text).toBe(
      'Recorded your approval of run runbook payments-failover. It needs 1 more approval before it goes ahead.',
    );
    expect(first.kind).toBe('recorded');
    const again = await commands().handle(typed(`approve ${id}`), bob);
    expect(again.kind).toBe('refused');
    expect(again.reply.text).toBe(
      'You have already approved run runbook payments-failover; it still needs 1 more approval from someone else.',
    );
    const last = await commands().handle(typed(`approve ${id}`), carol);
    expect(last.kind).toBe('answered');
    expect(last.reply.text).toBe(
      'Approved: run runbook payments-failover. Run 00000001-aaaa-4bbb-8ccc-000000000001 starts now; ask "status of run 00000001" to follow it.',
    );
    expect(orchestrator.decisions.map((d) => [d.verb, d.approvalId, d.actor.id])).toEqual([
      ['approve', id, 'web:bob'],
      ['approve', id, 'web:bob'],
      ['approve', id, 'web:carol'],
    ]);
  });

  it('passes a typed denial reason on and says the run will not start', async () => {
    const id = await failoverApproval();
    const reply = await commands().handle(typed(`deny ${id} because it is peak time`), bob);
    expect(orchestrator.decisions[0]).toMatchObject({ verb: 'deny', reason: 'it is peak time' });
    expect(reply.reply.text).toBe(
      'Denied: run runbook payments-failover. Run 00000001-aaaa-4bbb-8ccc-000000000001 will not start (reason: it is peak time).',
    );
    const late = await commands().handle(clicked('orchestrator.approve', id), carol);
    expect(late.reply.text).toBe(
      `Approval ${id} was already decided: denied by web:bob (it is peak time). Nothing changed.`,
    );
  });

  it('words a refusal with the orchestrator’s reason', async () => {
    const id = await failoverApproval();
    const self = await commands().handle(clicked('orchestrator.approve', id), {
      id: 'web:alice',
      roles: ['lead'],
    });
    expect(self.reply.text).toBe(
      "You can't approve run runbook payments-failover: the person who started a run cannot approve it. Nothing changed.",
    );
    const role = await commands().handle(clicked('orchestrator.deny', id), {
      id: 'web:dan',
      roles: ['viewer'],
    });
    expect(role.reply.text).toBe(
      "You can't deny run runbook payments-failover: approving needs the role lead. Nothing changed.",
    );
  });

  it('says when there is no such approval', async () => {
    const reply = await commands().handle(typed('approve 0badc0de'), bob);
    expect(reply.reply.text).toBe("There is no approval 0badc0de. Check the id in the plan's message.");
  });
});

describe('plan and run replies', () => {
  it('puts the approval id on both buttons', () => {
    expect(approvalButtons('ab12cd34').buttons.map((b) => [b.actionId, b.value])).toEqual([
      ['orchestrator.approve', 'ab12cd34'],
      ['orchestrator.deny', 'ab12cd34'],
    ]);
  });

  it('offers no buttons once the approval is decided', async () => {
    const orchestrator = new FakeOrchestrator([SERVICE_DOWN]);
    const request = {
      definitionId: 'service-down',
      params: { service: 'payments', environment: 'production' },
      actor: { id: 'web:alice', roles: [] },
      trigger: { type: 'chat' as const },
    };
    const run = await orchestrator.start(request);
    await orchestrator.approve(run.approvalId as string, { id: 'web:alice', roles: [] });
    const approval = await orchestrator.approval(run.approvalId as string);
    const plan = planReply(await orchestrator.plan(request), approval);
    expect(plan.text).toContain('Approved by web:alice.');
    expect(buttons(plan)).toEqual([]);
    expect(buttons(runReply((await orchestrator.get(run.id)) as WorkflowRun, approval))).toEqual([]);
  });
});
