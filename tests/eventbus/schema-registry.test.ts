import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { ErrorCode } from '../../bot/core/errors';
import { FileRecordStore } from '../../bot/core/record-store';
import type { OpsEvent } from '../../engines/eventbus/envelope';
import { checkBackwardCompatible, type JsonSchema } from '../../engines/eventbus/schema-compatibility';
import {
  SchemaRegistry,
  type SchemaRegistryOptions,
  type StoredSchema,
} from '../../engines/eventbus/schema-registry';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-schemas-'));
  dirs.push(dir);
  return dir;
}

function storeIn(dir: string): FileRecordStore<StoredSchema> {
  return new FileRecordStore<StoredSchema>(dir, 'event-schemas');
}

async function newRegistry(options?: SchemaRegistryOptions, dir = tempDir()): Promise<SchemaRegistry> {
  const registry = new SchemaRegistry(storeIn(dir), options);
  await registry.load();
  return registry;
}

function event(type: string, data: unknown, dataversion?: number): OpsEvent {
  return {
    specversion: '1.0',
    id: randomUUID(),
    type,
    source: '/tests',
    time: '2024-01-01T00:00:00.000Z',
    datacontenttype: 'application/json',
    data,
    ...(dataversion === undefined ? {} : { dataversion }),
  };
}

const ORDER_V1 = {
  type: 'object',
  properties: { id: { type: 'string' }, total: { type: 'number' } },
  required: ['id', 'total'],
  additionalProperties: false,
};

/** v1 plus an optional currency and a list of lines: closed, so adding properties is compatible. */
const ORDER_V2 = {
  ...ORDER_V1,
  properties: {
    ...ORDER_V1.properties,
    currency: { type: 'string', enum: ['EUR', 'USD'] },
    lines: {
      type: 'array',
      items: {
        type: 'object',
        properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 } },
        required: ['sku', 'qty'],
      },
    },
  },
};

function object(properties: Record<string, JsonSchema>, extra: Record<string, unknown> = {}): JsonSchema {
  return { type: 'object', properties, ...extra };
}

describe('checkBackwardCompatible', () => {
  /** [what, old schema, new schema, the reasons expected: none means compatible]. */
  const cases: [string, JsonSchema, JsonSchema, string[]][] = [
    ['an identical schema', ORDER_V1, structuredClone(ORDER_V1), []],
    [
      'changed annotations and a new root $id',
      { ...ORDER_V1, $id: 'https://opsbot.example/order.created/1', description: 'old' },
      { ...ORDER_V1, $id: 'https://opsbot.example/order.created/2', description: 'new', title: 'Order' },
      [],
    ],

    // required
    ['a new optional property on a closed object', ORDER_V1, ORDER_V2, []],
    [
      'a new required property',
      ORDER_V1,
      { ...ORDER_V2, required: ['id', 'total', 'currency'] },
      ['properties.currency: newly required'],
    ],
    [
      'a new required property with a default (validation does not fill defaults in)',
      object({ id: { type: 'string' } }, { additionalProperties: false }),
      object(
        { id: { type: 'string' }, region: { type: 'string', default: 'eu' } },
        {
          additionalProperties: false,
          required: ['region'],
        },
      ),
      ['properties.region: newly required (its default is not applied)'],
    ],
    ['a property no longer required', ORDER_V1, { ...ORDER_V1, required: ['id'] }, []],

    // type
    [
      'number narrowed to integer',
      object({ total: { type: 'number' } }),
      object({ total: { type: 'integer' } }),
      ['properties.total: type narrowed from number to integer'],
    ],
    [
      'a nullable string made non-null',
      object({ note: { type: ['string', 'null'] } }),
      object({ note: { type: 'string' } }),
      ['properties.note: type narrowed from ["string","null"] to string'],
    ],
    [
      'a type added where there was none',
      object({ note: {} }),
      object({ note: { type: 'string' } }),
      ['properties.note: type narrowed from any to string'],
    ],
    ['integer widened to number', object({ n: { type: 'integer' } }), object({ n: { type: 'number' } }), []],
    [
      'string widened to string or null',
      object({ note: { type: 'string' } }),
      object({ note: { type: ['string', 'null'] } }),
      [],
    ],
    [
      'a type added that the enum already implied',
      object({ status: { enum: ['open', 'paid'] } }),
      object({ status: { type: 'string', enum: ['open', 'paid'] } }),
      [],
    ],
    [
      'keywords of a type the old schema never allowed',
      { type: 'number' },
      { type: ['number', 'string'], minLength: 3 },
      [],
    ],

    // enum and const
    [
      'an enum that loses a value',
      object({ status: { type: 'string', enum: ['open', 'paid', 'cancelled'] } }),
      object({ status: { type: 'string', enum: ['open', 'paid'] } }),
      ['properties.status: enum no longer allows "cancelled"'],
    ],
    [
      'an enum that gains a value',
      object({ status: { type: 'string', enum: ['open', 'paid'] } }),
      object({ status: { type: 'string', enum: ['open', 'paid', 'cancelled'] } }),
      [],
    ],
    [
      'an enum where any string was allowed',
      object({ status: { type: 'string' } }),
      object({ status: { type: 'string', enum: ['open'] } }),
      ['properties.status: enum added'],
    ],
    [
      'a const opened up to an enum holding it',
      object({ kind: { const: 'order' } }),
      object({ kind: { enum: ['order', 'refund'] } }),
      [],
    ],
    [
      'a const changed',
      object({ kind: { const: 'order' } }),
      object({ kind: { const: 'refund' } }),
      ['properties.kind: const no longer allows "order"'],
    ],

    // additionalProperties
    [
      'additionalProperties true to false',
      object({ id: { type: 'string' } }, { additionalProperties: true }),
      object({ id: { type: 'string' } }, { additionalProperties: false }),
      ['(root): additionalProperties changed from true to false'],
    ],
    [
      'additionalProperties unset to false',
      object({ id: { type: 'string' } }),
      object({ id: { type: 'string' } }, { additionalProperties: false }),
      ['(root): additionalProperties changed from true to false'],
    ],
    [
      'additionalProperties false to true',
      object({ id: { type: 'string' } }, { additionalProperties: false }),
      object({ id: { type: 'string' } }, { additionalProperties: true }),
      [],
    ],
    [
      'additionalProperties narrowed as a schema',
      object({}, { additionalProperties: { type: ['string', 'number'] } }),
      object({}, { additionalProperties: { type: 'string' } }),
      ['additionalProperties: type narrowed from ["string","number"] to string'],
    ],
    [
      'a property removed while additionalProperties is false',
      object({ id: { type: 'string' }, legacy: { type: 'string' } }, { additionalProperties: false }),
      object({ id: { type: 'string' } }, { additionalProperties: false }),
      ['properties.legacy: removed while additionalProperties is false'],
    ],
    [
      'a property removed from an open object',
      object({ id: { type: 'string' }, legacy: { type: 'string' } }),
      object({ id: { type: 'string' } }),
      [],
    ],
    [
      'a typed property added to an open object',
      object({ id: { type: 'string' } }),
      object({ id: { type: 'string' }, note: { type: 'string' } }),
      [
        'properties.note: added, but old events may carry it with any value (additionalProperties is not false)',
      ],
    ],
    [
      'an untyped property added to an open object',
      object({ id: { type: 'string' } }),
      object({ id: { type: 'string' }, note: { description: 'free text' } }),
      [],
    ],
    [
      'a property added within what additionalProperties allowed',
      object({}, { additionalProperties: { type: 'string' } }),
      object({ note: { type: ['string', 'null'] } }, { additionalProperties: { type: 'string' } }),
      [],
    ],
    [
      'a property added narrower than what additionalProperties allowed',
      object({}, { additionalProperties: { type: 'string' } }),
      object({ count: { type: 'integer' } }, { additionalProperties: { type: 'string' } }),
      ['properties.count: type narrowed from string to integer'],
    ],
    [
      'a patternProperties schema narrowed',
      object({}, { patternProperties: { '^x-': { type: ['string', 'null'] } } }),
      object({}, { patternProperties: { '^x-': { type: 'string' } } }),
      ['patternProperties["^x-"]: type narrowed from ["string","null"] to string'],
    ],
    [
      'a pattern added',
      object({}),
      object({}, { patternProperties: { '^x-': { type: 'string' } } }),
      ['(root): cannot prove compatible: patternProperties changed'],
    ],

    // numbers
    [
      'a minimum raised',
      object({ total: { type: 'number', minimum: 0 } }),
      object({ total: { type: 'number', minimum: 1 } }),
      ['properties.total: minimum tightened from >= 0 to >= 1'],
    ],
    [
      'a minimum made exclusive',
      object({ total: { type: 'number', minimum: 0 } }),
      object({ total: { type: 'number', exclusiveMinimum: 0 } }),
      ['properties.total: minimum tightened from >= 0 to > 0'],
    ],
    [
      'a minimum added',
      object({ total: { type: 'number' } }),
      object({ total: { type: 'number', minimum: 0 } }),
      ['properties.total: minimum added: >= 0'],
    ],
    [
      'a minimum lowered, or made inclusive',
      object({ a: { type: 'number', minimum: 1 }, b: { type: 'number', exclusiveMinimum: 0 } }),
      object({ a: { type: 'number', minimum: 0 }, b: { type: 'number', minimum: 0 } }),
      [],
    ],
    [
      'a maximum lowered',
      object({ total: { type: 'number', maximum: 100 } }),
      object({ total: { type: 'number', maximum: 50 } }),
      ['properties.total: maximum tightened from <= 100 to <= 50'],
    ],
    [
      'a maximum raised or removed',
      object({ a: { type: 'number', maximum: 100 }, b: { type: 'number', exclusiveMaximum: 10 } }),
      object({ a: { type: 'number', maximum: 200 }, b: { type: 'number' } }),
      [],
    ],
    [
      'multipleOf made coarser',
      object({ cents: { type: 'integer', multipleOf: 5 } }),
      object({ cents: { type: 'integer', multipleOf: 10 } }),
      ['properties.cents: multipleOf changed from 5 to 10'],
    ],
    [
      'multipleOf made finer',
      object({ cents: { type: 'integer', multipleOf: 10 } }),
      object({ cents: { type: 'integer', multipleOf: 5 } }),
      [],
    ],

    // strings
    [
      'minLength raised, maxLength lowered and added',
      object({
        a: { type: 'string', minLength: 1 },
        b: { type: 'string', maxLength: 10 },
        c: { type: 'string' },
      }),
      object({
        a: { type: 'string', minLength: 2 },
        b: { type: 'string', maxLength: 5 },
        c: { type: 'string', maxLength: 64 },
      }),
      [
        'properties.a: minLength raised from 1 to 2',
        'properties.b: maxLength lowered from 10 to 5',
        'properties.c: maxLength added: 64',
      ],
    ],
    [
      'minLength lowered, maxLength raised',
      object({ a: { type: 'string', minLength: 2 }, b: { type: 'string', maxLength: 5 } }),
      object({ a: { type: 'string', minLength: 1 }, b: { type: 'string', maxLength: 10 } }),
      [],
    ],
    [
      'a pattern changed',
      object({ sku: { type: 'string', pattern: '^[A-Z]+$' } }),
      object({ sku: { type: 'string', pattern: '^[A-Z0-9]+$' } }),
      ['properties.sku: pattern changed from "^[A-Z]+$" to "^[A-Z0-9]+$"'],
    ],
    [
      'a pattern removed',
      object({ sku: { type: 'string', pattern: '^[A-Z]+$' } }),
      object({ sku: { type: 'string' } }),
      [],
    ],
    [
      'a format added',
      object({ email: { type: 'string' } }),
      object({ email: { type: 'string', format: 'email' } }),
      ['properties.email: format added: "email"'],
    ],
    [
      'a format removed',
      object({ email: { type: 'string', format: 'email' } }),
      object({ email: { type: 'string' } }),
      [],
    ],

    // nesting and arrays
    [
      'a nested object narrowed',
      object({ customer: object({ age: { type: 'number' } }, { additionalProperties: false }) }),
      object({ customer: object({ age: { type: 'integer' } }) }),
      ['properties.customer.properties.age: type narrowed from number to integer'],
    ],
    [
      'a nested object closed',
      object({ customer: object({ age: { type: 'number' } }) }),
      object({ customer: object({ age: { type: 'number' } }, { additionalProperties: false }) }),
      ['properties.customer: additionalProperties changed from true to false'],
    ],
    [
      'a nested object widened',
      object({ customer: object({ age: { type: 'integer' } }, { required: ['age'] }) }),
      object({ customer: object({ age: { type: 'number' } }) }),
      [],
    ],
    [
      'array items narrowed, deep inside',
      ORDER_V2,
      {
        ...ORDER_V2,
        properties: {
          ...ORDER_V2.properties,
          lines: {
            type: 'array',
            items: object({ sku: { type: 'string' }, qty: { type: 'integer', minimum: 2 } }),
          },
        },
      },
      ['properties.lines.items.properties.qty: minimum tightened from >= 1 to >= 2'],
    ],
    [
      'array items widened',
      object({ tags: { type: 'array', items: { type: 'string' } } }),
      object({ tags: { type: 'array', items: { type: ['string', 'number'] } } }),
      [],
    ],
    [
      'array items typed where any were allowed',
      object({ tags: { type: 'array' } }),
      object({ tags: { type: 'array', items: { type: 'string' } } }),
      ['properties.tags.items: type narrowed from any to string'],
    ],
    [
      'minItems raised, maxItems lowered, uniqueItems added',
      object({ tags: { type: 'array', minItems: 1, maxItems: 10 } }),
      object({ tags: { type: 'array', minItems: 2, maxItems: 5, uniqueItems: true } }),
      [
        'properties.tags: minItems raised from 1 to 2',
        'properties.tags: maxItems lowered from 10 to 5',
        'properties.tags: uniqueItems added',
      ],
    ],
    [
      'a tuple position added where old arrays could not reach',
      { type: 'array', prefixItems: [{ type: 'string' }], items: false },
      { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false },
      [],
    ],
    [
      'a tuple position added over open items',
      { type: 'array', prefixItems: [{ type: 'string' }] },
      { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] },
      ['prefixItems[1]: type narrowed from any to number'],
    ],

    // what the check cannot reason about
    [
      'a changed $ref',
      object({ a: { $ref: '#/$defs/one' } }, { $defs: { one: { type: 'string' }, two: { type: 'string' } } }),
      object({ a: { $ref: '#/$defs/two' } }, { $defs: { one: { type: 'string' }, two: { type: 'string' } } }),
      ['properties.a: cannot prove compatible: $ref changed'],
    ],
    [
      'a changed oneOf',
      { oneOf: [{ type: 'string' }, { type: 'number' }] },
      { oneOf: [{ type: 'string' }, { type: 'integer' }] },
      ['(root): cannot prove compatible: oneOf changed'],
    ],
    [
      'an unchanged anyOf next to a widened type',
      object({ a: { type: 'integer' } }, { anyOf: [{ required: ['a'] }] }),
      object({ a: { type: 'number' } }, { anyOf: [{ required: ['a'] }] }),
      [],
    ],
    [
      'if/then added',
      object({ a: { type: 'string' } }),
      object({ a: { type: 'string' } }, { if: { required: ['a'] }, then: { required: ['b'] } }),
      ['(root): cannot prove compatible: if changed', '(root): cannot prove compatible: then changed'],
    ],
    [
      'a nested $id changed',
      object({ a: { $id: 'https://opsbot.example/a/1', type: 'string' } }),
      object({ a: { $id: 'https://opsbot.example/a/2', type: 'string' } }),
      ['properties.a: cannot prove compatible: $id changed'],
    ],
    [
      'a schema using unevaluatedProperties',
      object({ a: { type: 'string' } }, { unevaluatedProperties: false }),
      object({ a: { type: 'string' }, b: { type: 'string' } }, { unevaluatedProperties: false }),
      ['(root): cannot prove compatible: schema using unevaluatedProperties changed'],
    ],

    // boolean schemas
    ['anything from a schema that allowed nothing', false, { type: 'string' }, []],
    ['true from anything', { type: 'string' }, true, []],
    ['false from anything', { type: 'string' }, false, ['(root): now rejects every value']],
  ];

  it.each(cases)('%s', (_what, oldSchema, newSchema, reasons) => {
    expect(checkBackwardCompatible(oldSchema, newSchema)).toEqual(reasons);
  });

  it('reports every reason, not just the first', () => {
    const reasons = checkBackwardCompatible(
      object({ total: { type: 'number' }, note: { type: ['string', 'null'] } }),
      object({ total: { type: 'integer' }, note: { type: 'string' } }, { additionalProperties: false }),
    );
    expect(reasons).toEqual([
      'properties.total: type narrowed from number to integer',
      'properties.note: type narrowed from ["string","null"] to string',
      '(root): additionalProperties changed from true to false',
    ]);
  });
});

describe('SchemaRegistry registration', () => {
  it('numbers versions from 1, and takes a given version only when it is the next one', async () => {
    const registry = await newRegistry();
    await expect(registry.register('order.created', ORDER_V1)).resolves.toEqual({
      type: 'order.created',
      version: 1,
    });
    await expect(registry.register('order.created', ORDER_V2, { version: 3 })).rejects.toMatchObject({
      code: ErrorCode.SchemaInvalid,
      message: expect.stringContaining('version: 3 given, but the next version of order.created is 2'),
    });
    await expect(registry.register('order.created', ORDER_V1, { version: 1 })).rejects.toMatchObject({
      code: ErrorCode.SchemaInvalid,
    });
    await expect(registry.register('order.created', ORDER_V2, { version: 2 })).resolves.toEqual({
      type: 'order.created',
      version: 2,
    });
    await expect(registry.register('order.refunded', ORDER_V1, { version: 1 })).resolves.toEqual({
      type: 'order.refunded',
      version: 1,
    });
    expect(registry.list()).toEqual([
      { type: 'order.created', versions: [1, 2], latest: 2 },
      { type: 'order.refunded', versions: [1], latest: 1 },
    ]);
  });

  it('gives concurrent registrations of a type consecutive versions', async () => {
    const registry = await newRegistry();
    const results = await Promise.all([
      registry.register('order.created', ORDER_V1),
      registry.register('order.created', ORDER_V2),
    ]);
    expect(results.map((r) => r.version)).toEqual([1, 2]);
    expect(registry.get('order.created', 1)?.schema).toEqual(ORDER_V1);
    expect(registry.get('order.created', 2)?.schema).toEqual(ORDER_V2);
  });

  it('refuses a type name that is not an event type', async () => {
    const registry = await newRegistry();
    await expect(registry.register('Order Created', ORDER_V1)).rejects.toMatchObject({
      code: ErrorCode.SchemaInvalid,
      message: expect.stringContaining('must be dotted lower-case words'),
    });
  });

  it.each([
    ['an unknown keyword', { type: 'object', colour: 'red' }, 'strict mode: unknown keyword: "colour"'],
    ['an unknown type', { type: 'strin' }, 'data/type must be equal to one of the allowed values'],
    ['an unknown format', { type: 'string', format: 'order-id' }, 'unknown format "order-id"'],
    ['a keyword without its type', { minimum: 0 }, 'missing type "number" for keyword "minimum"'],
    ['a $ref to nowhere', { $ref: '#/$defs/missing' }, "can't resolve reference #/$defs/missing"],
    [
      'another draft',
      { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' },
      '$schema: only https://json-schema.org/draft/2020-12/schema is supported',
    ],
  ])('refuses a schema with %s, with the reason, and stores nothing', async (_what, schema, reason) => {
    const dir = tempDir();
    const registry = await newRegistry({}, dir);
    const refused = registry.register('order.created', schema);
    await expect(refused).rejects.toMatchObject({
      code: ErrorCode.SchemaInvalid,
      message: expect.stringContaining(reason),
    });
    expect(registry.list()).toEqual([]);
    expect(await storeIn(dir).size()).toBe(0);
  });

  it('accepts a schema naming the 2020-12 dialect', async () => {
    const registry = await newRegistry();
    const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', ...ORDER_V1 };
    await expect(registry.register('order.created', schema)).resolves.toEqual({
      type: 'order.created',
      version: 1,
    });
  });

  it('registers versions that share an $id', async () => {
    const registry = await newRegistry();
    const $id = 'https://opsbot.example/schemas/order.created';
    await registry.register('order.created', { $id, ...ORDER_V1 });
    await expect(registry.register('order.created', { $id, ...ORDER_V2 })).resolves.toMatchObject({
      version: 2,
    });
    expect(registry.validate(event('order.created', { id: 'o-1', total: 1, currency: 'EUR' }, 1)).valid).toBe(
      false,
    );
    expect(registry.validate(event('order.created', { id: 'o-1', total: 1, currency: 'EUR' }, 2)).valid).toBe(
      true,
    );
  });

  it('refuses an incompatible version with every reason, and keeps the latest as it was', async () => {
    const registry = await newRegistry();
    await registry.register('order.created', ORDER_V1);
    const narrowed = {
      ...ORDER_V1,
      properties: { id: { type: 'string', minLength: 3 }, total: { type: 'integer' } },
    };
    const refusal = await registry.register('order.created', narrowed).catch((err: unknown) => err);
    expect(refusal).toMatchObject({
      code: ErrorCode.SchemaIncompatible,
      reasons: [
        'properties.id: minLength added: 3',
        'properties.total: type narrowed from number to integer',
      ],
    });
    expect((refusal as Error).message).toBe(
      'order.created v2 is not backward compatible with v1: properties.id: minLength added: 3; ' +
        'properties.total: type narrowed from number to integer',
    );
    expect(registry.list()).toEqual([{ type: 'order.created', versions: [1], latest: 1 }]);
    expect(registry.validate(event('order.created', { id: 'o-1', total: 9.5 })).valid).toBe(true);
  });

  it('keeps its own copy of a registered schema', async () => {
    const registry = await newRegistry();
    const schema = structuredClone(ORDER_V1);
    await registry.register('order.created', schema);
    schema.properties.total.type = 'string';
    expect(registry.validate(event('order.created', { id: 'o-1', total: 9.5 })).valid).toBe(true);
    const copy = registry.get('order.created');
    (copy?.schema.properties as typeof ORDER_V1.properties).total.type = 'string';
    expect(registry.get('order.created')?.schema).toEqual(ORDER_V1);
  });

  it('answers get for the latest, a given version, and nothing for the unknown', async () => {
    const registry = await newRegistry();
    await registry.register('order.created', ORDER_V1);
    await registry.register('order.created', ORDER_V2);
    expect(registry.get('order.created')).toMatchObject({
      type: 'order.created',
      version: 2,
      schema: ORDER_V2,
    });
    expect(registry.get('order.created', 1)).toMatchObject({ version: 1, schema: ORDER_V1 });
    expect(registry.get('order.created', 3)).toBeUndefined();
    expect(registry.get('order.paid')).toBeUndefined();
  });
});

describe('SchemaRegistry validation', () => {
  let registry: SchemaRegistry;
  beforeAll(async () => {
    registry = await newRegistry();
    await registry.register('order.created', ORDER_V1);
    await registry.register('order.created', ORDER_V2);
  });

  it('validates against the latest version when the event names none', () => {
    const data = { id: 'o-1', total: 10, lines: [{ sku: 'A', qty: 1.5 }] };
    expect(registry.validate(event('order.created', data))).toEqual({
      valid: false,
      errors: ['data.lines[0].qty: must be integer'],
    });
    expect(registry.validate(event('order.created', { id: 'o-1', total: 10, currency: 'EUR' }))).toEqual({
      valid: true,
    });
  });

  it('validates against the version the event names', () => {
    // currency is unknown to v1, which is closed.
    expect(registry.validate(event('order.created', { id: 'o-1', total: 10, currency: 'EUR' }, 1))).toEqual({
      valid: false,
      errors: ['data: must NOT have additional properties (currency)'],
    });
    expect(registry.validate(event('order.created', { id: 'o-1', total: 10 }, 1))).toEqual({ valid: true });
  });

  it('gives short errors named by their place in the data', () => {
    expect(registry.validate(event('order.created', { id: 'o-1', total: '10' }))).toEqual({
      valid: false,
      errors: ['data.total: must be number'],
    });
    expect(registry.validate(event('order.created', { id: 'o-1' }))).toEqual({
      valid: false,
      errors: ["data: must have required property 'total'"],
    });
  });

  it('refuses a version of a known type that has no schema', () => {
    expect(registry.validate(event('order.created', { id: 'o-1', total: 10 }, 7))).toEqual({
      valid: false,
      errors: ['order.created has no schema version 7'],
    });
  });

  it('lets events of a type without schemas through, unless schemas are required', async () => {
    expect(registry.validate(event('order.shipped', { anything: true }))).toEqual({ valid: true });
    expect(registry.validate(event('order.shipped', { anything: true }, 3))).toEqual({ valid: true });
    const strict = await newRegistry({ requireSchemas: true });
    await strict.register('order.created', ORDER_V1);
    expect(strict.validate(event('order.shipped', { anything: true }))).toEqual({
      valid: false,
      errors: ['order.shipped has no schema'],
    });
    expect(strict.validate(event('order.created', { id: 'o-1', total: 1 }))).toEqual({ valid: true });
  });

  it('compiles a schema once, not per event', () => {
    const compile = jest.spyOn(Ajv2020.prototype, 'compile');
    try {
      for (let i = 0; i < 5; i++) registry.validate(event('order.created', { id: `o-${i}`, total: i }));
      expect(compile).not.toHaveBeenCalled();
    } finally {
      compile.mockRestore();
    }
  });
});

describe('SchemaRegistry persistence', () => {
  it('sees, in a new registry on the same folder, what an earlier one registered', async () => {
    const dir = tempDir();
    const first = await newRegistry({}, dir);
    await first.register('order.created', ORDER_V1);
    await first.register('order.created', ORDER_V2);

    const second = await newRegistry({}, dir);
    expect(second.list()).toEqual([{ type: 'order.created', versions: [1, 2], latest: 2 }]);
    expect(second.get('order.created', 1)?.schema).toEqual(ORDER_V1);
    expect(second.validate(event('order.created', { id: 'o-1', total: 'x' }, 1))).toEqual({
      valid: false,
      errors: ['data.total: must be number'],
    });
    // The version rule and the compatibility check continue from what was stored.
    await expect(
      second.register('order.created', { ...ORDER_V2, required: ['id', 'total', 'lines'] }),
    ).rejects.toMatchObject({ code: ErrorCode.SchemaIncompatible });
    await expect(second.register('order.created', ORDER_V2)).resolves.toEqual({
      type: 'order.created',
      version: 3,
    });
  });

  it('never overwrites a version that reached the store after load()', async () => {
    // One store shared by two registries, as two processes share a Redis store.
    const store = storeIn(tempDir());
    const stale = new SchemaRegistry(store);
    await stale.load();
    const other = new SchemaRegistry(store);
    await other.load();
    await other.register('order.created', ORDER_V1);
    await expect(stale.register('order.created', ORDER_V2)).rejects.toMatchObject({
      code: ErrorCode.SchemaInvalid,
      message: expect.stringContaining('order.created v1 is already in the store'),
    });
    expect((await store.get('order.created/1'))?.schema).toEqual(ORDER_V1);
    await stale.load();
    await expect(stale.register('order.created', ORDER_V2)).resolves.toEqual({
      type: 'order.created',
      version: 2,
    });
  });

  it('refuses to load a malformed stored schema', async () => {
    const dir = tempDir();
    await storeIn(dir).put('order.created/1', { type: 'order.created' } as StoredSchema);
    await expect(new SchemaRegistry(storeIn(dir)).load()).rejects.toMatchObject({
      code: ErrorCode.SchemaInvalid,
      message: expect.stringContaining('stored schema order.created/1 is malformed'),
    });
  });
});

describe('SchemaRegistry.loadSchemaFiles', () => {
  function folder(files: Record<string, string>): string {
    const dir = tempDir();
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    return dir;
  }

  const v1File = JSON.stringify({ type: 'order.created', version: 1, schema: ORDER_V1 });
  // Named so that file name order would put version 2 first.
  const v2Yaml = [
    'type: order.created',
    'version: 2',
    'schema:',
    '  type: object',
    '  properties:',
    '    id: { type: string }',
    '    total: { type: number }',
    '    currency: { type: string, enum: [EUR, USD] }',
    '  required: [id, total]',
    '  additionalProperties: false',
  ].join('\n');

  it('registers JSON and YAML files in version order, ignores other files, and skips what it already has', async () => {
    const dir = folder({
      'a-order-created-v2.yaml': v2Yaml,
      'b-order-created-v1.json': v1File,
      'refund.yml': 'type: order.refunded\nversion: 1\nschema: { type: object }\n',
      'README.md': '# not a schema',
    });
    const registry = await newRegistry();
    await expect(registry.loadSchemaFiles(dir)).resolves.toEqual([
      { type: 'order.created', version: 1 },
      { type: 'order.created', version: 2 },
      { type: 'order.refunded', version: 1 },
    ]);
    expect(registry.get('order.created')?.schema.properties).toHaveProperty('currency');
    await expect(registry.loadSchemaFiles(dir)).resolves.toEqual([]);
    expect(registry.list()).toEqual([
      { type: 'order.created', versions: [1, 2], latest: 2 },
      { type: 'order.refunded', versions: [1], latest: 1 },
    ]);
  });

  it.each([
    [
      'unparseable JSON',
      { 'broken.json': '{ "type": ' },
      'broken.json: cannot be read',
      ErrorCode.SchemaInvalid,
    ],
    [
      'a file missing its version',
      { 'no-version.yaml': 'type: order.paid\nschema: { type: object }\n' },
      'no-version.yaml is refused: version: must be a positive integer',
      ErrorCode.SchemaInvalid,
    ],
    [
      'a schema that does not compile',
      {
        'paid.json': JSON.stringify({
          type: 'order.paid',
          version: 1,
          schema: { type: 'object', colour: 1 },
        }),
      },
      'paid.json: order.paid v1 does not compile: strict mode: unknown keyword: "colour"',
      ErrorCode.SchemaInvalid,
    ],
    [
      'an incompatible next version',
      {
        'narrowed.json': JSON.stringify({
          type: 'order.created',
          version: 2,
          schema: { ...ORDER_V1, properties: { ...ORDER_V1.properties, total: { type: 'integer' } } },
        }),
      },
      'narrowed.json: order.created v2 is not backward compatible with v1: properties.total: type narrowed',
      ErrorCode.SchemaIncompatible,
    ],
    [
      'a gap in the versions',
      { 'v3.json': JSON.stringify({ type: 'order.created', version: 3, schema: ORDER_V1 }) },
      'v3.json: order.created v3 is refused: version: 3 given, but the next version of order.created is 2',
      ErrorCode.SchemaInvalid,
    ],
  ])('refuses %s, naming the file, and registers none of the folder', async (_what, bad, message, code) => {
    const dir = folder({
      'order-created-v1.json': v1File,
      'refund.yml': 'type: order.refunded\nversion: 1\nschema: { type: object }\n',
      ...bad,
    });
    const registry = await newRegistry();
    await expect(registry.loadSchemaFiles(dir)).rejects.toMatchObject({
      code,
      message: expect.stringContaining(message),
    });
    expect(registry.list()).toEqual([]);
  });

  it('refuses a file that changes a version already registered', async () => {
    const registry = await newRegistry();
    await registry.register('order.created', ORDER_V2);
    const dir = folder({ 'order-created-v1.json': v1File });
    await expect(registry.loadSchemaFiles(dir)).rejects.toMatchObject({
      code: ErrorCode.SchemaInvalid,
      message: 'order-created-v1.json: order.created v1 is already registered with a different schema',
    });
  });
});
