import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode } from '../../bot/core/errors';
import {
  appliesTo,
  compileRuleSets,
  loadRuleSetsFile,
  RuleSetError,
  validateRecord,
  type CompiledRules,
} from '../../engines/quality/data/validation-rules';

const ROOT = path.resolve(__dirname, '..', '..');

const ORDER_RULES = {
  rules: [
    {
      eventType: 'order.created',
      schema: {
        type: 'object',
        required: ['orderId', 'amountCents'],
        properties: {
          orderId: { type: 'string', pattern: '^ord-[0-9]+$' },
          amountCents: { type: 'integer' },
          channel: { type: 'string' },
        },
        additionalProperties: true,
      },
      checks: [
        { required: ['orderId', 'customer.id'] },
        { range: { field: 'amountCents', min: 1, max: 10_000_000 } },
        { enum: { field: 'currency', values: ['EUR', 'USD', 'GBP'] } },
        { format: { field: 'customer.email', format: 'email' } },
      ],
    },
    {
      eventType: 'order.*',
      checks: [{ compare: { left: 'shippedAt', op: '>=', right: 'createdAt' } }],
    },
  ],
};

function validOrder(): Record<string, unknown> {
  return {
    orderId: 'ord-10001',
    customer: { id: 'cus_4411', email: 'ana.silva@example.com' },
    amountCents: 2599,
    currency: 'EUR',
    createdAt: '2026-11-20T09:00:00Z',
  };
}

/** Every string anywhere in a record: none of them may appear in a violation message. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

function compileError(spec: unknown): RuleSetError {
  try {
    compileRuleSets(spec);
  } catch (err) {
    if (err instanceof RuleSetError) return err;
    throw err;
  }
  throw new Error('compiled');
}

describe('validateRecord', () => {
  let rules: CompiledRules;
  beforeAll(() => {
    rules = compileRuleSets(ORDER_RULES);
  });

  it('finds nothing wrong with a valid record', () => {
    expect(validateRecord(rules, 'order.created', validOrder())).toEqual([]);
  });

  it('applies every rule whose eventType matches: exactly, or by a prefix ending in *', () => {
    const late = { ...validOrder(), shippedAt: '2026-11-20T08:00:00Z' };
    expect(validateRecord(rules, 'order.created', late).map((v) => v.ruleIndex)).toEqual([1]);
    expect(validateRecord(rules, 'order.shipped', late).map((v) => v.ruleIndex)).toEqual([1]);
    expect(validateRecord(rules, 'orders.shipped', late)).toEqual([]);
    expect(appliesTo(rules, 'order.refunded')).toBe(true);
    expect(appliesTo(rules, 'payment.captured')).toBe(false);
    const everything = compileRuleSets({ rules: [{ eventType: '*', checks: [{ required: ['id'] }] }] });
    expect(validateRecord(everything, 'anything.at.all', {})).toHaveLength(1);
  });

  it('required: absent or null fields, by dotted path', () => {
    const order = validOrder();
    order.customer = { id: null, email: 'ana.silva@example.com' };
    expect(validateRecord(rules, 'order.created', order)).toEqual([
      { ruleIndex: 0, check: 'required', field: 'customer.id', message: 'customer.id is missing' },
    ]);
  });

  it('range: shows the number and the bound it broke', () => {
    const low = { ...validOrder(), amountCents: 0 };
    const high = { ...validOrder(), amountCents: 20_000_000 };
    expect(validateRecord(rules, 'order.created', low)).toEqual([
      { ruleIndex: 0, check: 'range', field: 'amountCents', message: 'amountCents 0 is below the minimum 1' },
    ]);
    expect(validateRecord(rules, 'order.created', high)[0]?.message).toBe(
      'amountCents 20000000 is above the maximum 10000000',
    );
  });

  it('range: a value that is not a number, without showing it', () => {
    const rangeOnly = compileRuleSets({
      rules: [{ eventType: 'metric', checks: [{ range: { field: 'cpu', max: 1 } }] }],
    });
    expect(validateRecord(rangeOnly, 'metric', { cpu: 'ninety percent' })).toEqual([
      { ruleIndex: 0, check: 'range', field: 'cpu', message: 'cpu is not a number' },
    ]);
    expect(validateRecord(rangeOnly, 'metric', {})).toEqual([]);
  });

  it('enum: lists the allowed values; a string value is not echoed, a number is', () => {
    const order = { ...validOrder(), currency: 'JPY' };
    expect(validateRecord(rules, 'order.created', order)).toEqual([
      { ruleIndex: 0, check: 'enum', field: 'currency', message: 'currency is not one of EUR, USD, GBP' },
    ]);
    const priorities = compileRuleSets({
      rules: [{ eventType: 'ticket', checks: [{ enum: { field: 'priority', values: [1, 2, 3] } }] }],
    });
    expect(validateRecord(priorities, 'ticket', { priority: 7 })[0]?.message).toBe(
      'priority 7 is not one of 1, 2, 3',
    );
  });

  it('format: any ajv-formats name; a non-string is not valid either', () => {
    const formats = compileRuleSets({
      rules: [
        {
          eventType: 'x',
          checks: [
            { format: { field: 'id', format: 'uuid' } },
            { format: { field: 'at', format: 'date-time' } },
            { format: { field: 'ip', format: 'ipv4' } },
          ],
        },
      ],
    });
    const good = { id: '6f1c2b8e-3a4d-4c5e-9f60-7a8b9c0d1e2f', at: '2026-11-20T09:00:00Z', ip: '10.1.2.3' };
    expect(validateRecord(formats, 'x', good)).toEqual([]);
    expect(validateRecord(formats, 'x', { id: 'not-a-uuid', at: 'yesterday', ip: 3232235777 })).toEqual([
      { ruleIndex: 0, check: 'format', field: 'id', message: 'id is not a valid uuid' },
      { ruleIndex: 0, check: 'format', field: 'at', message: 'at is not a valid date-time' },
      { ruleIndex: 0, check: 'format', field: 'ip', message: 'ip is not a valid ipv4' },
    ]);
  });

  it('compare: numbers, with their values', () => {
    const discounts = compileRuleSets({
      rules: [{ eventType: 'x', checks: [{ compare: { left: 'discount', op: '<=', right: 'total' } }] }],
    });
    expect(validateRecord(discounts, 'x', { discount: 500, total: 300 })).toEqual([
      { ruleIndex: 0, check: 'compare', field: 'discount', message: 'discount 500 is not <= total 300' },
    ]);
    expect(validateRecord(discounts, 'x', { discount: 300, total: 300 })).toEqual([]);
    expect(validateRecord(discounts, 'x', { total: 300 })).toEqual([]);
  });

  it('compare: ISO dates as times, across offsets, without echoing them', () => {
    const before = {
      ...validOrder(),
      createdAt: '2026-11-20T10:00:00+01:00',
      shippedAt: '2026-11-20T08:59:59Z',
    };
    const after = {
      ...validOrder(),
      createdAt: '2026-11-20T10:00:00+01:00',
      shippedAt: '2026-11-20T09:00:00Z',
    };
    expect(validateRecord(rules, 'order.shipped', before)).toEqual([
      {
        ruleIndex: 1,
        check: 'compare',
        field: 'shippedAt',
        message: 'shippedAt is not at or after createdAt',
      },
    ]);
    expect(validateRecord(rules, 'order.shipped', after)).toEqual([]);
  });

  it('compare: values that are neither both numbers nor both ISO dates', () => {
    const order = { ...validOrder(), shippedAt: 'soon' };
    expect(validateRecord(rules, 'order.shipped', order)[0]?.message).toBe(
      'shippedAt and createdAt cannot be compared: they must be both numbers or both ISO dates',
    );
  });

  it('schema: every problem, each with its field path, in the words of the schema', () => {
    const order = {
      customer: { id: 'cus_1', email: 'ana.silva@example.com' },
      amountCents: 12.5,
      channel: 7,
    };
    expect(validateRecord(rules, 'order.created', order)).toEqual([
      { ruleIndex: 0, check: 'schema', field: 'orderId', message: 'orderId is missing' },
      { ruleIndex: 0, check: 'schema', field: 'amountCents', message: 'amountCents must be integer' },
      { ruleIndex: 0, check: 'schema', field: 'channel', message: 'channel must be string' },
      { ruleIndex: 0, check: 'required', field: 'orderId', message: 'orderId is missing' },
    ]);
    expect(validateRecord(rules, 'order.created', { ...validOrder(), orderId: 'ORD-7' })[0]?.message).toBe(
      'orderId must match pattern "^ord-[0-9]+$"',
    );
    expect(validateRecord(rules, 'order.created', 'just text')[0]).toEqual({
      ruleIndex: 0,
      check: 'schema',
      field: '',
      message: 'the record must be object',
    });
  });

  it('schema: names a property the schema does not allow', () => {
    const closed = compileRuleSets({
      rules: [
        { eventType: 'x', schema: { type: 'object', properties: { a: {} }, additionalProperties: false } },
      ],
    });
    expect(validateRecord(closed, 'x', { a: 1, secret: 'hunter2' })).toEqual([
      { ruleIndex: 0, check: 'schema', field: 'secret', message: 'secret is not allowed by the schema' },
    ]);
  });

  it('never echoes a string value of the record', () => {
    const order = {
      orderId: 'ORD-secret-7',
      customer: { email: 'ana.silva(at)example.com' },
      amountCents: 'twenty euros',
      currency: 'Zimbabwe dollars',
      createdAt: '2026-11-20T09:00:00Z',
      shippedAt: '2026-11-19T09:00:00Z',
      channel: 'phone call from Ana Silva',
    };
    const violations = validateRecord(rules, 'order.created', order);
    expect(violations.length).toBeGreaterThanOrEqual(6);
    const messages = violations.map((v) => v.message).join('\n');
    for (const value of strings(order)) expect(messages).not.toContain(value);
  });
});

describe('compileRuleSets refuses bad specs, naming where', () => {
  it.each([
    [null, 'needs a list of rules'],
    [{ rules: [] }, 'rules: the list is empty'],
    [{ rules: [{ eventType: 'x', checks: [{ required: ['a'] }] }], extra: 1 }, 'unknown key "extra"'],
    [{ rules: ['x'] }, 'rules[0]: needs eventType and a schema or checks'],
    [{ rules: [{ eventType: 'order.*.x', checks: [{ required: ['a'] }] }] }, 'rules[0]: eventType needs'],
    [{ rules: [{ eventType: 'x' }] }, 'rules[0]: needs a schema or checks'],
    [{ rules: [{ eventType: 'x', check: [] }] }, 'rules[0]: unknown key "check"'],
    [{ rules: [{ eventType: 'x', checks: [] }] }, 'rules[0].checks: needs a list of checks'],
    [
      { rules: [{ eventType: 'x', schema: { type: 'object', colour: 1 } }] },
      'rules[0].schema: does not compile',
    ],
    [{ rules: [{ eventType: 'x', schema: 'object' }] }, 'rules[0].schema: needs a JSON Schema object'],
    [
      { rules: [{ eventType: 'x', checks: [{ required: ['a'], enum: {} }] }] },
      'rules[0].checks[0]: needs exactly one of required, range, enum, format, compare',
    ],
    [{ rules: [{ eventType: 'x', checks: [{ regex: {} }] }] }, 'rules[0].checks[0]: unknown check "regex"'],
    [
      { rules: [{ eventType: 'x', checks: [{ required: 'a' }] }] },
      'rules[0].checks[0]: required needs a list',
    ],
    [{ rules: [{ eventType: 'x', checks: [{ required: ['a..b'] }] }] }, 'rules[0].checks[0]: required needs'],
    [
      { rules: [{ eventType: 'x', checks: [{ range: { field: 'a', min: 5, max: 1 } }] }] },
      'rules[0].checks[0]: range min 5 is above max 1',
    ],
    [
      { rules: [{ eventType: 'x', checks: [{ range: { field: 'a', min: '1' } }] }] },
      'rules[0].checks[0]: range min must be a number',
    ],
    [
      { rules: [{ eventType: 'x', checks: [{ range: { field: 'a', minimum: 1 } }] }] },
      'rules[0].checks[0]: range: unknown key "minimum"',
    ],
    [
      { rules: [{ eventType: 'x', checks: [{ enum: { field: 'a', values: [] } }] }] },
      'rules[0].checks[0]: enum needs values',
    ],
    [
      { rules: [{ eventType: 'x', checks: [{ format: { field: 'a', format: 'emial' } }] }] },
      'rules[0].checks[0]: format: unknown format "emial"',
    ],
    [
      { rules: [{ eventType: 'x', checks: [{ compare: { left: 'a', op: '=>', right: 'b' } }] }] },
      'rules[0].checks[0]: compare needs op: one of < <= > >= == !=',
    ],
    [
      { rules: [{ eventType: 'x', checks: [{ range: { min: 1 } }] }] },
      'rules[0].checks[0]: range needs field',
    ],
  ])('%j', (spec, expected) => {
    const err = compileError(spec);
    expect(err.code).toBe(ErrorCode.RuleInvalid);
    expect(err.message).toContain(expected);
  });

  it('names the rule and the check: rules[2].checks[1]: range needs min or max', () => {
    const good = { eventType: 'x', checks: [{ required: ['a'] }] };
    const err = compileError({
      rules: [good, good, { eventType: 'y', checks: [{ required: ['a'] }, { range: { field: 'amount' } }] }],
    });
    expect(err.issues).toEqual(['rules[2].checks[1]: range needs min or max']);
  });

  it('reports every problem of every rule at once', () => {
    const err = compileError({
      rules: [
        { eventType: '', checks: [{ range: { field: 'a' } }] },
        { eventType: 'y', checks: [{ nope: 1 }] },
      ],
    });
    expect(err.issues).toHaveLength(3);
    expect(err.message).toBe(err.issues.join('; '));
  });
});

describe('loadRuleSetsFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'opsbot-quality-rules-'));
  });

  it('loads the demo rules', () => {
    const rules = loadRuleSetsFile(path.join(ROOT, 'demo', 'quality', 'order-rules.yaml'));
    expect(rules.rules.map((r) => r.eventType)).toEqual(['order.created', 'order.shipped']);
  });

  it('reads JSON as well', () => {
    const file = path.join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify(ORDER_RULES));
    expect(loadRuleSetsFile(file).rules).toHaveLength(2);
  });

  it('names the file in every refusal', () => {
    const missing = path.join(dir, 'missing.yaml');
    expect(() => loadRuleSetsFile(missing)).toThrow(`${missing}: cannot be read (ENOENT)`);
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, 'rules:\n  - eventType: [x\n');
    expect(() => loadRuleSetsFile(broken)).toThrow(`${broken}: not valid YAML or JSON`);
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'rules:\n  - eventType: x\n    checks:\n      - range: { field: a }\n');
    expect(() => loadRuleSetsFile(bad)).toThrow(`${bad}: rules[0].checks[0]: range needs min or max`);
  });
});
