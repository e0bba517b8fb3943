import { parse as parseYaml } from 'yaml';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import type { OpsEvent } from '../../engines/eventbus/envelope';
import {
  compileRules,
  describeRule,
  REDACTED,
  RuleError,
  type RoutingDeps,
  type RoutingRule,
} from '../../engines/eventbus/routing';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Frozen, so any write to it by the router throws. */
function event(overrides: Partial<OpsEvent> = {}): OpsEvent {
  return deepFreeze({
    specversion: '1.0',
    id: 'evt-1',
    type: 'order.created',
    source: '/services/orders',
    time: '2026-11-20T10:00:00.000Z',
    subject: 'order/1234',
    correlationid: 'corr-1',
    dataversion: 2,
    dataschema: 'opsbot:schemas/order.created/2',
    datacontenttype: 'application/json',
    data: {
      total: 1200,
      currency: 'EUR',
      status: 'NEW',
      service: 'payments',
      internal_notes: 'call back',
      customer: { email: 'ann@example.com', name: 'Ann' },
      items: [{ sku: 'AB-1' }],
    },
    ...overrides,
  });
}

const withData = (data: unknown) => event({ data });

function rule(fields: object): object {
  return { id: 'r', targets: [{ topic: 'out' }], ...fields };
}

function matches(match: object, ev: OpsEvent): boolean {
  return compileRules([rule({ match })]).route(ev).length === 1;
}

/** The data the rule's transforms make of `data`. */
function transform(transforms: object[], data: unknown, deps: RoutingDeps = {}): unknown {
  const [routed] = compileRules([rule({ transforms })], deps).route(withData(data));
  return routed?.event.data;
}

function refusal(specs: unknown[], deps: RoutingDeps = {}): RuleError {
  try {
    compileRules(specs, deps);
  } catch (err) {
    if (err instanceof RuleError) return err;
    throw err;
  }
  throw new Error('the rules were accepted');
}

const refused = (specs: unknown[], deps: RoutingDeps = {}): string => refusal(specs, deps).message;

const EXAMPLE_YAML = `
- id: big-orders-to-finance
  description: Orders over 1000 go to finance, with the customer's email redacted
  match:
    type: order.created
    source: { prefix: /services/ }
    data:
      - { field: total, gt: 1000 }
      - { field: currency, in: [EUR, USD] }
      - { field: customer.email, exists: true }
  transforms:
    - { rename: { from: total, to: amount } }
    - { map: { field: status, values: { NEW: created, PAID: paid }, default: unknown } }
    - { drop: [internal_notes] }
    - { redact: [customer.email] }
    - { enrich: { service: service, into: serviceInfo, fields: [owner, tier] } }
  targets:
    - topic: finance.orders
    - webhook: { url: https://finance.example.com/hook, timeoutMs: 2000 }
    - engine: quality
`;

const CATALOG: Record<string, Record<string, unknown>> = {
  payments: { owner: 'team-payments', tier: 1, runbook: 'rb-7' },
};
const catalog = (service: string) => CATALOG[service];

describe('routing rules from the config', () => {
  it('route a matching event, transformed once, to every target of the rule', () => {
    const table = compileRules(parseYaml(EXAMPLE_YAML), { catalog, engines: ['quality', 'orchestrator'] });
    const input = event();

    const routed = table.route(input);

    expect(routed.map((r) => [r.ruleId, r.target])).toEqual([
      ['big-orders-to-finance', { kind: 'topic', topic: 'finance.orders' }],
      [
        'big-orders-to-finance',
        { kind: 'webhook', url: 'https://finance.example.com/hook', timeoutMs: 2000 },
      ],
      ['big-orders-to-finance', { kind: 'engine', engine: 'quality' }],
    ]);
    expect(routed[0]?.event.data).toEqual({
      amount: 1200,
      currency: 'EUR',
      status: 'created',
      service: 'payments',
      customer: { email: REDACTED, name: 'Ann' },
      items: [{ sku: 'AB-1' }],
      serviceInfo: { owner: 'team-payments', tier: 1 },
    });
    expect(routed[1]?.event).toBe(routed[0]?.event);
    expect(routed[0]?.event).toMatchObject({ id: 'evt-1', type: 'order.created', subject: 'order/1234' });
  });

  it('leave out the schema of transformed data, which no longer follows it, and keep it when untouched', () => {
    const table = compileRules([
      rule({ id: 'plain' }),
      rule({ id: 'reshaped', transforms: [{ drop: ['status'] }] }),
    ]);

    const [plain, reshaped] = table.route(event());

    expect(plain?.event).toMatchObject({ dataschema: 'opsbot:schemas/order.created/2', dataversion: 2 });
    expect(reshaped?.event).not.toHaveProperty('dataschema');
    expect(reshaped?.event).not.toHaveProperty('dataversion');
    expect(reshaped?.event.correlationid).toBe('corr-1');
  });

  it('accept the same rules as JSON and keep them, defaults filled in, to give back', () => {
    const specs = parseYaml(EXAMPLE_YAML) as object[];
    const table = compileRules(JSON.parse(JSON.stringify(specs)), { catalog });

    const [kept] = table.rules;

    expect(kept).toMatchObject({
      id: 'big-orders-to-finance',
      enabled: true,
      match: { type: 'order.created' },
    });
    expect(kept?.targets[1]).toEqual({
      webhook: { url: 'https://finance.example.com/hook', timeoutMs: 2000 },
    });
    expect(JSON.parse(JSON.stringify(table.rules))).toEqual(table.rules);
    expect(compileRules(JSON.parse(JSON.stringify(table.rules)), { catalog }).rules).toEqual(table.rules);
    expect(compileRules([rule({ targets: [{ webhook: { url: 'http://h/x' } }] })]).rules[0]?.targets).toEqual(
      [{ webhook: { url: 'http://h/x', timeoutMs: 5000 } }],
    );
    const headers = { Authorization: 'Bearer t' };
    const [routed] = compileRules([rule({ targets: [{ webhook: { url: 'http://h/x', headers } }] })]).route(
      event(),
    );
    expect(routed?.target).toEqual({ kind: 'webhook', url: 'http://h/x', timeoutMs: 5000, headers });
  });
});

describe('match on data', () => {
  const cases: [string, object, unknown, boolean][] = [
    ['eq, equal', { field: 'status', eq: 'NEW' }, { status: 'NEW' }, true],
    ['eq, different', { field: 'status', eq: 'NEW' }, { status: 'new' }, false],
    ['eq, no coercion', { field: 'total', eq: 1 }, { total: '1' }, false],
    ['eq, missing', { field: 'status', eq: 'NEW' }, {}, false],
    ['eq null, null', { field: 'closed', eq: null }, { closed: null }, true],
    ['ne, different', { field: 'status', ne: 'PAID' }, { status: 'NEW' }, true],
    ['ne, equal', { field: 'status', ne: 'PAID' }, { status: 'PAID' }, false],
    ['ne, missing', { field: 'status', ne: 'PAID' }, {}, true],
    ['in, listed', { field: 'currency', in: ['EUR', 'USD'] }, { currency: 'USD' }, true],
    ['in, not listed', { field: 'currency', in: ['EUR', 'USD'] }, { currency: 'GBP' }, false],
    ['in, numbers', { field: 'code', in: [500, 503] }, { code: 503 }, true],
    ['in, missing', { field: 'currency', in: ['EUR'] }, {}, false],
    ['prefix, starts with', { field: 'sku', prefix: 'AB-' }, { sku: 'AB-1' }, true],
    ['prefix, elsewhere', { field: 'sku', prefix: 'AB-' }, { sku: 'XAB-1' }, false],
    ['prefix, not a string', { field: 'sku', prefix: '1' }, { sku: 12 }, false],
    ['exists, present', { field: 'email', exists: true }, { email: 'a@b' }, true],
    ['exists, null', { field: 'email', exists: true }, { email: null }, false],
    ['exists, missing', { field: 'email', exists: true }, {}, false],
    ['exists false, missing', { field: 'email', exists: false }, {}, true],
    ['exists false, present', { field: 'email', exists: false }, { email: 'a@b' }, false],
    ['gt, above', { field: 'total', gt: 1000 }, { total: 1000.5 }, true],
    ['gt, equal', { field: 'total', gt: 1000 }, { total: 1000 }, false],
    ['gt, numeric text', { field: 'total', gt: 1000 }, { total: '2000' }, false],
    ['gte, equal', { field: 'total', gte: 1000 }, { total: 1000 }, true],
    ['gte, below', { field: 'total', gte: 1000 }, { total: 999 }, false],
    ['lt, below', { field: 'total', lt: 10 }, { total: 9 }, true],
    ['lt, equal', { field: 'total', lt: 10 }, { total: 10 }, false],
    ['lte, equal', { field: 'total', lte: 10 }, { total: 10 }, true],
    ['lte, above', { field: 'total', lte: 10 }, { total: 11 }, false],
    [
      'nested path',
      { field: 'customer.address.country', eq: 'FR' },
      { customer: { address: { country: 'FR' } } },
      true,
    ],
    ['nested path through a scalar', { field: 'customer.address', exists: true }, { customer: 'Ann' }, false],
    ['no path into arrays', { field: 'items.0', exists: true }, { items: ['a'] }, false],
    ['no inherited fields', { field: 'toString', exists: true }, { total: 1 }, false],
    ['data that is not an object', { field: 'total', exists: true }, 'total', false],
  ];
  it.each(cases)('%s', (_name, condition, data, expected) => {
    expect(matches({ data: [condition] }, withData(data))).toBe(expected);
  });

  it('require every condition', () => {
    const data = [
      { field: 'total', gt: 1000 },
      { field: 'currency', eq: 'EUR' },
    ];
    expect(matches({ data }, withData({ total: 1200, currency: 'EUR' }))).toBe(true);
    expect(matches({ data }, withData({ total: 1200, currency: 'USD' }))).toBe(false);
    expect(matches({ data }, withData({ total: 800, currency: 'EUR' }))).toBe(false);
  });
});

describe('match on the envelope', () => {
  const typeCases: [unknown, string, boolean][] = [
    ['order.created', 'order.created', true],
    ['order.created', 'order.updated', false],
    [['order.created', 'order.updated'], 'order.updated', true],
    [['order.created', 'order.updated'], 'order.deleted', false],
    ['order.*', 'order.created', true],
    ['order.*', 'order.item.added', false],
    ['order.*', 'orders.created', false],
    ['order.*', 'order', false],
    ['ops.saga.step_*', 'ops.saga.step_failed', true],
    ['ops.saga.step_*', 'ops.saga.started', false],
    ['ops.**', 'ops.saga.step_failed', true],
    ['ops.**', 'ops.deploy', true],
    ['ops.**', 'ops', false],
    ['ops.**.failed', 'ops.saga.step.failed', true],
    ['ops.**.failed', 'ops.failed', false],
    ['*.created', 'invoice.created', true],
    [['order.created', 'ops.**'], 'ops.deploy', true],
    [['order.created', 'ops.**'], 'order.created', true],
    [['order.created', 'ops.**'], 'invoice.created', false],
  ];
  it.each(typeCases)('type %j against %s', (type, eventType, expected) => {
    expect(matches({ type }, event({ type: eventType }))).toBe(expected);
  });

  it('match source, subject and correlation id exactly or by prefix', () => {
    expect(matches({ source: '/services/orders' }, event())).toBe(true);
    expect(matches({ source: '/services/order' }, event())).toBe(false);
    expect(matches({ source: { prefix: '/services/' } }, event())).toBe(true);
    expect(matches({ source: { prefix: '/jobs/' } }, event())).toBe(false);
    expect(matches({ subject: { prefix: 'order/' } }, event())).toBe(true);
    expect(matches({ subject: 'order/1' }, event())).toBe(false);
    expect(matches({ correlationid: 'corr-1' }, event())).toBe(true);
    expect(matches({ correlationid: { prefix: 'corr-' } }, event({ correlationid: undefined }))).toBe(false);
  });

  it('take every event when the rule has no match', () => {
    expect(compileRules([rule({})]).route(event({ type: 'anything.at_all' }))).toHaveLength(1);
  });
});

describe('transforms', () => {
  it('rename a field, into a nested place too', () => {
    expect(transform([{ rename: { from: 'total', to: 'amount' } }], { total: 5, x: 1 })).toEqual({
      amount: 5,
      x: 1,
    });
    expect(transform([{ rename: { from: 'a.b', to: 'c.d' } }], { a: { b: 1, k: 2 } })).toEqual({
      a: { k: 2 },
      c: { d: 1 },
    });
  });

  it('leave the data when the field to rename is missing or the destination cannot take it', () => {
    expect(transform([{ rename: { from: 'total', to: 'amount' } }], { x: 1 })).toEqual({ x: 1 });
    expect(transform([{ rename: { from: 'total', to: 'x.amount' } }], { total: 5, x: 1 })).toEqual({
      total: 5,
      x: 1,
    });
  });

  it('map values by their text, falling back to the default or else the value', () => {
    const map = {
      map: { field: 'status', values: { NEW: 'created', 200: 'ok', true: 'yes' }, default: 'unknown' },
    };
    expect(transform([map], { status: 'NEW' })).toEqual({ status: 'created' });
    expect(transform([map], { status: 200 })).toEqual({ status: 'ok' });
    expect(transform([map], { status: true })).toEqual({ status: 'yes' });
    expect(transform([map], { status: 'ODD' })).toEqual({ status: 'unknown' });
    expect(transform([map], { status: { nested: 1 } })).toEqual({ status: 'unknown' });
    expect(transform([map], {})).toEqual({});
    const noDefault = { map: { field: 'status', values: { NEW: 'created' } } };
    expect(transform([noDefault], { status: 'ODD' })).toEqual({ status: 'ODD' });
  });

  it('drop fields, nested ones too, and ignore missing ones', () => {
    expect(
      transform([{ drop: ['notes', 'customer.email', 'absent.field'] }], {
        notes: 'x',
        keep: 1,
        customer: { email: 'a@b', name: 'Ann' },
      }),
    ).toEqual({ keep: 1, customer: { name: 'Ann' } });
  });

  it('redact with the quality engine redactor, given the value and its path', () => {
    const seen: [unknown, string][] = [];
    const redact = (value: unknown, path: string) => {
      seen.push([value, path]);
      return `<${path}>`;
    };
    const data = transform(
      [{ redact: ['customer.email', 'phone', 'absent'] }],
      {
        customer: { email: 'a@b' },
        phone: 123,
      },
      { redact },
    );
    expect(data).toEqual({ customer: { email: '<customer.email>' }, phone: '<phone>' });
    expect(seen).toEqual([
      ['a@b', 'customer.email'],
      [123, 'phone'],
    ]);
  });

  it('redact to a fixed marker without a redactor', () => {
    expect(transform([{ redact: ['customer'] }], { customer: { email: 'a@b' } })).toEqual({
      customer: REDACTED,
    });
    expect(REDACTED).toBe('[REDACTED]');
  });

  it('enrich with the listed fields the catalog has for the service', () => {
    const enrich = {
      enrich: { service: 'svc.name', into: 'meta.service', fields: ['owner', 'tier', 'absent'] },
    };
    expect(transform([enrich], { svc: { name: 'payments' } }, { catalog })).toEqual({
      svc: { name: 'payments' },
      meta: { service: { owner: 'team-payments', tier: 1 } },
    });
  });

  it('leave the event as it is for a service the catalog does not know, or without a catalog', () => {
    const rules = [
      rule({ transforms: [{ enrich: { service: 'service', into: 'info', fields: ['owner'] } }] }),
    ];
    const unknown = withData({ service: 'ledger' });
    expect(compileRules(rules, { catalog }).route(unknown)[0]?.event).toBe(unknown);
    const notText = withData({ service: 42 });
    expect(compileRules(rules, { catalog }).route(notText)[0]?.event).toBe(notText);
    const known = withData({ service: 'payments' });
    expect(compileRules(rules).route(known)[0]?.event).toBe(known);
  });

  it('apply transforms in order, each seeing the previous one', () => {
    const transforms = [
      { rename: { from: 'total', to: 'amount' } },
      { map: { field: 'amount', values: { 5: 'five' } } },
      { drop: ['total'] },
    ];
    expect(transform(transforms, { total: 5 })).toEqual({ amount: 'five' });
  });
});

describe('the input event', () => {
  it('is never changed, and what a transform does not touch is shared', () => {
    const input = event();
    const snapshot = structuredClone(input);
    const table = compileRules(parseYaml(EXAMPLE_YAML), { catalog });

    const [routed] = table.route(input);

    expect(input).toEqual(snapshot);
    const data = routed?.event.data as Record<string, unknown>;
    expect(data.items).toBe((input.data as Record<string, unknown>).items);
    expect(data.customer).not.toBe((input.data as Record<string, unknown>).customer);
  });

  it('is passed on as is by a rule without transforms or whose transforms change nothing', () => {
    const input = event();
    const table = compileRules([
      rule({ id: 'none' }),
      rule({ id: 'no-op', transforms: [{ drop: ['absent'] }, { redact: ['missing'] }] }),
    ]);
    expect(table.route(input).map((r) => r.event)).toEqual([input, input]);
    expect(table.route(input)[1]?.event).toBe(input);
  });
});

describe('the routing table', () => {
  it('route in rule order, each rule from the event as published', () => {
    const table = compileRules([
      rule({
        id: 'first',
        transforms: [{ rename: { from: 'total', to: 'amount' } }],
        targets: [{ topic: 'a' }, { topic: 'b' }],
      }),
      rule({ id: 'unmatched', match: { type: 'invoice.*' } }),
      rule({
        id: 'second',
        match: { data: [{ field: 'total', exists: true }] },
        targets: [{ engine: 'quality' }],
      }),
    ]);

    const routed = table.route(event());

    expect(routed.map((r) => [r.ruleId, r.target])).toEqual([
      ['first', { kind: 'topic', topic: 'a' }],
      ['first', { kind: 'topic', topic: 'b' }],
      ['second', { kind: 'engine', engine: 'quality' }],
    ]);
    expect(routed[2]?.event.data).toHaveProperty('total', 1200);
  });

  it('skip disabled rules but keep them in the table', () => {
    const table = compileRules([rule({ id: 'off', enabled: false }), rule({ id: 'on' })]);
    expect(table.route(event()).map((r) => r.ruleId)).toEqual(['on']);
    expect(table.rules.map((r) => [r.id, r.enabled])).toEqual([
      ['off', false],
      ['on', true],
    ]);
  });

  it('answer every unmatched event with the same empty list', () => {
    const table = compileRules([rule({ match: { type: 'invoice.created' } })]);
    const first = table.route(event());
    expect(first).toEqual([]);
    expect(table.route(event({ id: 'evt-2' }))).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('route nothing without rules', () => {
    expect(compileRules([]).route(event())).toEqual([]);
  });
});

describe('refused rules', () => {
  const target = [{ topic: 'out' }];
  const withCondition = (condition: object) => [{ id: 'big', match: { data: [condition] }, targets: target }];

  it('are coded errors listing every reason of every rule', () => {
    const err = refusal([
      { id: 'good', targets: target },
      { id: 'bad', match: { type: 'Order' }, targets: [] },
      { id: 'worse', match: { data: [{ field: 'total', gt: '1000' }] }, targets: [{ topic: 'x' }], extra: 1 },
    ]);
    expect(err).toBeInstanceOf(OpsbotError);
    expect(err.code).toBe(ErrorCode.RuleInvalid);
    expect(err.issues).toEqual([
      'rule bad: match.type: "Order" is neither an event type (dotted lower-case words) nor a glob like "order.*" or "ops.**"',
      'rule bad: targets: needs at least one target',
      'rule worse: match.data[0]: "gt" needs a number',
      'rule worse: extra: unknown field',
    ]);
    expect(err.message).toBe(err.issues.join('; '));
  });

  it('give "gt", "gte", "lt" and "lte" a number', () => {
    for (const op of ['gt', 'gte', 'lt', 'lte'])
      expect(refused(withCondition({ field: 'total', [op]: '1000' }))).toBe(
        `rule big: match.data[0]: "${op}" needs a number`,
      );
  });

  it('name an unknown operator', () => {
    expect(refused(withCondition({ field: 'total', like: '10%' }))).toBe(
      'rule big: match.data[0]: unknown operator "like" (one of eq, ne, in, prefix, exists, gt, gte, lt, lte)',
    );
  });

  it('need one operator per condition', () => {
    expect(refused(withCondition({ field: 'total' }))).toBe(
      'rule big: match.data[0]: needs an operator (one of eq, ne, in, prefix, exists, gt, gte, lt, lte)',
    );
    expect(refused(withCondition({ field: 'total', gt: 1, lt: 5 }))).toBe(
      'rule big: match.data[0]: has 2 operators (gt, lt); write each as its own list entry',
    );
  });

  it('report an extra operator and a bad value together', () => {
    expect(refusal(withCondition({ field: 'total', gt: 'big', lt: 5 })).issues).toEqual([
      'rule big: match.data[0]: has 2 operators (gt, lt); write each as its own list entry',
      'rule big: match.data[0]: "gt" needs a number',
    ]);
  });

  it('need conditions to be mappings', () => {
    expect(refused([{ id: 'big', match: { data: ['total > 1000'] }, targets: target }])).toBe(
      'rule big: match.data[0]: needs a mapping with field and one of eq, ne, in, prefix, exists, gt, gte, lt, lte',
    );
  });

  it('check every operator value and the field', () => {
    expect(refused(withCondition({ field: 'a', in: [] }))).toBe(
      'rule big: match.data[0]: "in" needs at least one value',
    );
    expect(refused(withCondition({ field: 'a', in: ['x', {}] }))).toBe(
      'rule big: match.data[0].in[1]: needs a string, number, boolean or null',
    );
    expect(refused(withCondition({ field: 'a', eq: [1] }))).toBe(
      'rule big: match.data[0]: "eq" needs a string, number, boolean or null',
    );
    expect(refused(withCondition({ field: 'a', exists: 'yes' }))).toBe(
      'rule big: match.data[0]: "exists" needs true or false',
    );
    expect(refused(withCondition({ field: 'a', prefix: 1 }))).toBe(
      'rule big: match.data[0]: "prefix" needs a string',
    );
    expect(refused(withCondition({ gt: 1 }))).toBe('rule big: match.data[0].field: is required');
    expect(refused(withCondition({ field: 'a..b', gt: 1 }))).toBe(
      'rule big: match.data[0].field: "a..b" is not a dot path like "customer.email"',
    );
    expect(refused(withCondition({ field: 'a.__proto__', exists: true }))).toBe(
      'rule big: match.data[0].field: "__proto__" cannot be a field name',
    );
  });

  it('refuse a glob that is not one', () => {
    for (const type of ['order..created', 'order.***', 'order.cr**', 'order.?', 'Order.*', ''])
      expect(refused([{ id: 'g', match: { type }, targets: target }])).toMatch(
        /^rule g: match\.type: ".*" is neither an event type/,
      );
    expect(refused([{ id: 'g', match: { type: ['order.*', 'x[y]'] }, targets: target }])).toMatch(
      /^rule g: match\.type\[1\]: "x\[y\]" is neither/,
    );
    expect(refused([{ id: 'g', match: { type: [] }, targets: target }])).toBe(
      'rule g: match.type: needs at least one event type',
    );
  });

  it('refuse duplicate ids', () => {
    expect(refused([rule({ id: 'same' }), rule({ id: 'other' }), rule({ id: 'same' })])).toBe(
      'rules[2]: id: "same" is already the id of rules[0]',
    );
  });

  it('refuse a webhook that is not http(s)', () => {
    expect(refused([rule({ id: 'w', targets: [{ webhook: { url: 'ftp://files.example.com/x' } }] })])).toBe(
      'rule w: targets[0].webhook.url: must be an http(s) URL',
    );
    expect(refused([rule({ id: 'w', targets: [{ webhook: { url: 'not a url' } }] })])).toBe(
      'rule w: targets[0].webhook.url: must be an http(s) URL',
    );
    expect(refused([rule({ id: 'w', targets: [{ webhook: { timeoutMs: 1000 } }] })])).toBe(
      'rule w: targets[0].webhook.url: is required',
    );
  });

  it('refuse an engine the build does not have, only when the build says which it has', () => {
    const spec = [rule({ id: 'e', targets: [{ topic: 'a' }, { engine: 'qualty' }] })];
    expect(refused(spec, { engines: ['quality', 'orchestrator'] })).toBe(
      'rule e: targets[1]: unknown engine "qualty" (installed: quality, orchestrator)',
    );
    expect(refused(spec, { engines: [] })).toBe(
      'rule e: targets[1]: unknown engine "qualty" (no engine is installed)',
    );
    expect(compileRules(spec).rules).toHaveLength(1);
  });

  it('need at least one target, each naming one kind', () => {
    expect(refused([{ id: 't', targets: [] }])).toBe('rule t: targets: needs at least one target');
    expect(refused([{ id: 't' }])).toBe('rule t: targets: is required');
    expect(refused([rule({ id: 't', targets: [{ queue: 'x' }] })])).toBe(
      'rule t: targets[0]: unknown target "queue" (one of topic, webhook, engine)',
    );
    expect(refused([rule({ id: 't', targets: [{ topic: 'a', engine: 'quality' }] })])).toBe(
      'rule t: targets[0]: has 2 targets (topic, engine); write each as its own list entry',
    );
    expect(refused([rule({ id: 't', targets: [{ topic: 'a b' }] })])).toBe(
      'rule t: targets[0]: "topic" must be 1-249 letters, digits, ".", "_" and "-"',
    );
  });

  it('check transforms', () => {
    const refusedTransform = (t: object) => refused([rule({ id: 'x', transforms: [t] })]);
    expect(refusedTransform({ rename: { from: 'a' } })).toBe('rule x: transforms[0].rename.to: is required');
    expect(refusedTransform({ rename: { from: 'a', to: 'a' } })).toBe(
      'rule x: transforms[0].rename.to: is the same field as from',
    );
    expect(refusedTransform({ rename: 'a' })).toBe('rule x: transforms[0]: "rename" needs {from, to}');
    expect(refusedTransform({ drop: [] })).toBe('rule x: transforms[0]: "drop" needs at least one field');
    expect(refusedTransform({ redact: 'email' })).toBe(
      'rule x: transforms[0]: "redact" needs a list of fields',
    );
    expect(refusedTransform({ map: { field: 's', values: {} } })).toBe(
      'rule x: transforms[0].map.values: needs at least one value',
    );
    expect(refusedTransform({ enrich: { service: 's', into: 'i', fields: [] } })).toBe(
      'rule x: transforms[0].enrich.fields: needs at least one field',
    );
    expect(refusedTransform({ upcase: ['a'] })).toBe(
      'rule x: transforms[0]: unknown transform "upcase" (one of rename, map, drop, redact, enrich)',
    );
    expect(refusedTransform({ drop: ['a'], redact: ['b'] })).toBe(
      'rule x: transforms[0]: has 2 transforms (drop, redact); write each as its own list entry',
    );
  });

  it('name a rule without a usable id by its place', () => {
    expect(refused([rule({}), 'route everything'])).toBe(
      'rules[1]: needs a mapping with id, match and targets',
    );
    expect(refused([{ targets: target }])).toBe('rules[0]: id: is required');
    expect(refused([{ id: 'has space', targets: target }])).toBe(
      'rules[0]: id: must be 1-128 letters, digits, ".", "_" and "-", starting with a letter or digit',
    );
  });
});

describe('describeRule', () => {
  const describeSpec = (spec: object) => describeRule(compileRules([spec]).rules[0] as RoutingRule);

  it('summarise a rule on one line', () => {
    expect(
      describeSpec({
        id: 'big',
        match: {
          type: 'order.created',
          source: { prefix: '/services/' },
          data: [{ field: 'total', gt: 1000 }],
        },
        targets: [{ topic: 'finance.orders' }, { webhook: { url: 'https://finance.example.com/hook' } }],
      }),
    ).toBe(
      'order.created from /services/* where total > 1000 → topic finance.orders, webhook finance.example.com',
    );
  });

  it('name every condition, transform and target', () => {
    const rules = compileRules(parseYaml(EXAMPLE_YAML)).rules;
    expect(describeRule(rules[0] as RoutingRule)).toBe(
      'order.created from /services/* where total > 1000 and currency is EUR or USD and customer.email exists' +
        ' → topic finance.orders, webhook finance.example.com, engine quality' +
        ' (transforms: rename total→amount, map status, drop internal_notes, redact customer.email, enrich serviceInfo)',
    );
    expect(
      describeSpec({
        id: 'd',
        enabled: false,
        match: {
          type: ['ops.**', 'order.created'],
          subject: 'order/1',
          correlationid: { prefix: 'c-' },
          data: [
            { field: 'a', eq: 'x' },
            { field: 'b', ne: null },
            { field: 'c', prefix: 'p' },
            { field: 'd', exists: false },
            { field: 'e', gte: 1 },
            { field: 'f', lt: 2 },
            { field: 'g', lte: 3 },
          ],
        },
        targets: [{ engine: 'quality' }],
      }),
    ).toBe(
      '(disabled) ops.** or order.created about order/1 in correlation c-* where a = x and b ≠ null and' +
        ' c starts with p and d is absent and e ≥ 1 and f < 2 and g ≤ 3 → engine quality',
    );
    expect(describeSpec({ id: 'all', targets: [{ topic: 'audit' }] })).toBe('any event → topic audit');
  });
});
