import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSagas, parseSaga, type SagaProblem } from '../../engines/orchestrator/sagas/saga-loader';
import {
  DEFAULT_POLICY,
  DEFAULT_STEP_RETRY,
  DEFAULT_STEP_TIMEOUT_MS,
} from '../../engines/orchestrator/workflow';
import { fixtureActions } from '../support/orchestrator-actions-fixture';

const PROJECT = path.resolve(__dirname, '../..');
const ACTIONS = new Map([
  ['http', { inputSchema: {}, mutating: true }],
  ['event', { inputSchema: {}, mutating: false }],
]);

/** A valid saga, as lines, so a test can break exactly one of them and know its line number. */
const VALID = [
  'id: ship-gift', // 1
  'title: Ship a gift', // 2
  'parameters:', // 3
  '  type: object', // 4
  '  properties:', // 5
  '    orderId: {type: string}', // 6
  '  required: [orderId]', // 7
  'steps:', // 8
  '  - id: ship', // 9
  '    action: http', // 10
  '    with:', // 11
  '      method: POST', // 12
  '      service: checkout', // 13
  '      path: /checkout/ship', // 14
  "      body: {orderId: '{{ params.orderId }}'}", // 15
  '    compensation:', // 16
  '      action: http', // 17
  '      with:', // 18
  '        method: POST', // 19
  '        service: checkout', // 20
  '        path: /checkout/ship/{{ steps.ship.output.body.shipmentId }}/cancel', // 21
  '  - id: tell', // 22
  '    action: event', // 23
  '    with:', // 24
  '      type: gift.shipped', // 25
  "      data: {shipmentId: '{{ steps.ship.output.body.shipmentId }}', run: '{{ run.id }}'}", // 26
];

function parse(lines: string[]) {
  return parseSaga(lines.join('\n'), 'sagas/ship-gift.yaml');
}

function errors(lines: string[]): Pick<SagaProblem, 'line' | 'message'>[] {
  return parse(lines)
    .problems.filter((p) => p.severity === 'error')
    .map(({ line, message }) => ({ line, message }));
}

function replaceLine(line: number, ...replacement: string[]): string[] {
  return [...VALID.slice(0, line - 1), ...replacement, ...VALID.slice(line)];
}

describe('the shipped sagas', () => {
  const { definitions, problems } = loadSagas('sagas', PROJECT, fixtureActions());
  const saga = (id: string) => {
    const found = definitions.find((d) => d.id === id);
    if (!found) throw new Error(`no saga ${id}`);
    return found;
  };
  const compensations = (id: string) =>
    saga(id).steps.map((s) => [s.id, s.undo ? `${s.undo.with.method} ${s.undo.with.path}` : undefined]);

  it('load with no problems, every step mutating as its action is', () => {
    expect(problems).toEqual([]);
    expect(definitions.map((d) => d.id).sort()).toEqual(['order-fulfillment', 'refund', 'user-onboarding']);
    for (const d of definitions) {
      expect(d.kind).toBe('saga');
      expect(d.source).toBe(`sagas/${d.id}.yaml`);
      expect(d.steps.every((s) => s.mutating)).toBe(true);
    }
  });

  it('compensate order fulfillment in the fleet’s own words, in step order', () => {
    expect(compensations('order-fulfillment')).toEqual([
      ['create-order', 'POST /orders/{{ steps.create-order.output.body.orderId }}/cancel'],
      ['reserve-inventory', 'POST /inventory/release'],
      ['charge-payment', 'POST /payments/refund'],
      ['ship-order', 'POST /checkout/ship/{{ steps.ship-order.output.body.shipmentId }}/cancel'],
      ['notify-customer', undefined],
      ['publish-fulfilled', undefined],
    ]);
    const steps = saga('order-fulfillment').steps;
    expect(steps.find((s) => s.id === 'reserve-inventory')?.undo?.with.body).toEqual({
      reservationId: '{{ steps.reserve-inventory.output.body.reservationId }}',
    });
    expect(steps.find((s) => s.id === 'charge-payment')?.undo?.with.body).toEqual({
      paymentId: '{{ steps.charge-payment.output.body.paymentId }}',
    });
  });

  it('give the order the body orders validates: items of sku and quantity', () => {
    const create = saga('order-fulfillment').steps[0];
    expect(create?.with).toEqual({
      method: 'POST',
      service: 'orders',
      path: '/orders',
      body: {
        customerId: '{{ params.customerId }}',
        items: [{ sku: '{{ params.sku }}', quantity: '{{ params.quantity }}' }],
      },
      expectStatus: 201,
    });
  });

  it('read timeouts and retries, and default the rest', () => {
    const steps = saga('order-fulfillment').steps;
    const charge = steps.find((s) => s.id === 'charge-payment');
    expect(charge?.timeoutMs).toBe(15_000);
    expect(charge?.retry).toEqual({ ...DEFAULT_STEP_RETRY, maxAttempts: 3 });
    expect(steps[0]?.timeoutMs).toBe(DEFAULT_STEP_TIMEOUT_MS);
    expect(steps[0]?.retry).toEqual(DEFAULT_STEP_RETRY);
  });

  it('leave the refund without compensations and require a second person to approve it', () => {
    expect(compensations('refund').every(([, undo]) => undo === undefined)).toBe(true);
    expect(saga('refund').policy.approval).toEqual({
      required: true,
      approvers: 1,
      selfApproval: false,
      ttlSeconds: 3600,
      roles: [],
    });
  });

  it('deactivate an onboarded user when a later step fails', () => {
    expect(compensations('user-onboarding')).toEqual([
      ['create-user', 'POST /users/{{ steps.create-user.output.body.userId }}/deactivate'],
      ['send-welcome', undefined],
      ['publish-onboarded', undefined],
    ]);
  });
});

describe('parseSaga', () => {
  it('maps a valid saga onto the workflow definition, with the steps’ lines', () => {
    const { definition, problems } = parse(VALID);
    expect(problems).toEqual([]);
    expect(definition).toMatchObject({
      kind: 'saga',
      id: 'ship-gift',
      description: '',
      source: 'sagas/ship-gift.yaml',
      policy: DEFAULT_POLICY,
      triggers: { alerts: [], intents: [], schedules: [] },
      parameters: { additionalProperties: false, required: ['orderId'] },
    });
    // Without the actions, a step that does not say counts as mutating: the side that never runs twice.
    expect(definition?.steps.map((s) => [s.id, s.line, s.mutating])).toEqual([
      ['ship', 9, true],
      ['tell', 22, true],
    ]);
    expect(definition?.steps[0]?.undo?.action).toBe('http');
  });

  it('takes an unsaid mutating from the action, refuses lowering it, and refuses unknown actions', () => {
    const withActions = (lines: string[]) => parseSaga(lines.join('\n'), 'sagas/ship-gift.yaml', ACTIONS);
    expect(withActions(VALID).definition?.steps.map((s) => s.mutating)).toEqual([true, false]);
    expect(
      withActions(replaceLine(23, '    action: event', '    mutating: true')).definition?.steps[1]?.mutating,
    ).toBe(true);
    expect(withActions(replaceLine(10, '    action: http', '    mutating: false')).problems).toEqual([
      expect.objectContaining({
        line: 11,
        message:
          'step ship: mutating: false, but http changes things; a step may raise mutating, not lower it',
      }),
    ]);
    expect(withActions(replaceLine(23, '    action: evnet')).problems).toEqual([
      expect.objectContaining({
        line: 23,
        message: 'step tell: unknown action evnet (known: approval, event, http)',
      }),
    ]);
  });

  it('reads a policy written the runbook way', () => {
    const { definition, problems } = parse([
      ...VALID,
      'policy:',
      '  roles: [operator]',
      '  auto_run: false',
      '  risk: high',
      '  approval: {required: true, approvers: 2, self_approval: false, ttl: 30m, roles: [lead]}',
      'triggers:',
      '  intents: [restart_service]',
    ]);
    expect(problems).toEqual([]);
    expect(definition?.policy).toEqual({
      roles: ['operator'],
      autoRun: false,
      risk: 'high',
      approval: { required: true, approvers: 2, selfApproval: false, ttlSeconds: 1800, roles: ['lead'] },
    });
    expect(definition?.triggers.intents).toEqual(['restart_service']);
    // An approval block asks for approval unless it says otherwise, as in runbooks.
    expect(
      parse([...VALID, 'policy: {approval: {approvers: 2, ttl: 90}}']).definition?.policy.approval,
    ).toEqual({
      ...DEFAULT_POLICY.approval,
      required: true,
      approvers: 2,
      ttlSeconds: 90,
    });
  });

  it('reports broken YAML on its line', () => {
    const { definition, problems } = parse(replaceLine(15, "      body: {orderId: '{{ params.orderId }}'"));
    expect(definition).toBeUndefined();
    expect(problems[0]).toMatchObject({ file: 'sagas/ship-gift.yaml', severity: 'error' });
    expect(problems[0]?.line).toBeGreaterThanOrEqual(15);
  });

  it('reports unknown fields on their own line, at every level', () => {
    expect(errors([...VALID.slice(0, 2), 'team: commerce', ...VALID.slice(2)])).toEqual([
      { line: 3, message: expect.stringMatching(/^the saga: unknown field team \(known: id, title/) },
    ]);
    expect(errors(replaceLine(10, '    action: http', '    retry: 3'))).toEqual([
      { line: 11, message: expect.stringMatching(/^a step: unknown field retry/) },
    ]);
    expect(errors(replaceLine(17, '      action: http', '      timeout: 5s'))).toEqual([
      { line: 18, message: expect.stringMatching(/compensation: unknown field timeout/) },
    ]);
  });

  it('refuses a step id used twice, naming where it was first', () => {
    expect(errors(replaceLine(22, '  - id: ship'))).toEqual([
      { line: 22, message: 'step id ship is used twice (first at line 9); step ids must be unique' },
    ]);
  });

  it('refuses a step id that is not kebab-case', () => {
    expect(errors(replaceLine(22, '  - id: Tell_Customer'))).toEqual([
      { line: 22, message: 'id Tell_Customer must be kebab-case (lower-case words joined by -)' },
    ]);
  });

  it('refuses a compensation that refers to a later step', () => {
    expect(
      errors(replaceLine(21, '        path: /checkout/ship/{{ steps.tell.output.body.id }}/cancel')),
    ).toEqual([
      {
        line: 16,
        message:
          'step ship: compensation: {{ steps.tell.output.body.id }} refers to tell, which is not an earlier step',
      },
    ]);
  });

  it('refuses a step input that refers to its own output or to an unknown parameter', () => {
    expect(errors(replaceLine(15, "      body: {orderId: '{{ steps.ship.output.body.orderId }}'}"))).toEqual([
      {
        line: 9,
        message:
          'step ship: {{ steps.ship.output.body.orderId }} refers to ship, which is not an earlier step',
      },
    ]);
    expect(errors(replaceLine(15, "      body: {orderId: '{{ params.order }}'}"))).toEqual([
      {
        line: 9,
        message: 'step ship: {{ params.order }} names no parameter declared under parameters.properties',
      },
    ]);
  });

  it('refuses alert templates in a saga, which no alert starts', () => {
    expect(errors(replaceLine(25, "      type: '{{ alert.labels.type }}'"))).toEqual([
      { line: 22, message: expect.stringContaining('saga templates start with params, steps or run') },
    ]);
  });

  it('refuses parameters that are not a JSON Schema ajv compiles', () => {
    expect(errors(replaceLine(6, '    orderId: {type: text}'))).toEqual([
      { line: 3, message: expect.stringMatching(/^parameters: the schema does not compile: /) },
    ]);
    expect(errors(replaceLine(7, '  required: [order]'))).toEqual([
      { line: 3, message: expect.stringContaining('required property "order" is not defined') },
    ]);
  });

  it('refuses bad values with the line of their field', () => {
    expect(errors(replaceLine(10, '    action: http', '    timeout: soon'))).toEqual([
      { line: 11, message: 'step ship: timeout must be a duration such as 10s, 500ms, 2m or 1h' },
    ]);
    expect(errors([...VALID, 'policy: {risk: extreme}'])).toEqual([
      { line: 27, message: 'policy.risk must be one of low, medium, high' },
    ]);
    expect(errors([...VALID, 'triggers: {alerts: [PaymentsDown]}'])).toEqual([
      { line: 27, message: 'triggers: unknown field alerts (known: intents)' },
    ]);
  });

  it('asks for what a saga cannot do without', () => {
    expect(errors(VALID.filter((_, i) => i !== 1))).toEqual([{ line: 1, message: 'the saga needs title' }]);
    expect(errors(VALID.filter((_, i) => i !== 9))).toEqual([
      { line: 9, message: 'step ship needs an action (http, event, …)' },
    ]);
    expect(errors(['id: empty', 'title: Empty', 'steps: []'])).toEqual([
      { line: 3, message: 'steps must be a list of at least one step' },
    ]);
  });
});

describe('loadSagas', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sagas-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the first of two sagas with one id and skips sagas with errors', () => {
    writeFileSync(path.join(dir, 'a.yaml'), VALID.join('\n'));
    writeFileSync(path.join(dir, 'b.yml'), VALID.join('\n'));
    writeFileSync(path.join(dir, 'broken.yaml'), 'id: broken\n');
    writeFileSync(path.join(dir, 'notes.txt'), 'not a saga');
    const { definitions, problems } = loadSagas('.', dir);
    expect(definitions.map((d) => d.source)).toEqual(['a.yaml']);
    expect(problems.filter((p) => p.severity === 'error').map((p) => `${p.file}:${p.line}`)).toEqual([
      'b.yml:0',
      'broken.yaml:1',
      'broken.yaml:1',
    ]);
  });

  it('warns, without failing, when the folder does not exist', () => {
    expect(loadSagas('missing', dir)).toEqual({
      definitions: [],
      problems: [{ file: 'missing', line: 0, message: 'no sagas folder here', severity: 'warning' }],
    });
  });
});
