import { ActionRegistry, type Action } from '../../engines/orchestrator/action';

const METRIC = { type: 'string', enum: ['latency', 'error_rate', 'throughput', 'cpu'] };
const COMPARISON = { type: 'string', enum: ['<', '<=', '>', '>=', '==', '!='] };
const QUANTILE = { type: 'number', minimum: 0, maximum: 1 };

/**
 * The registry's actions as lint sees them: names, input schemas and whether they mutate, in the shapes the
 * orchestrator's actions take (`approval` is the executor's own, not a registry action). Nothing here runs.
 */
export function fixtureActions(): ActionRegistry {
  return new ActionRegistry()
    .register(
      stub('http', true, {
        type: 'object',
        properties: {
          method: { type: 'string', enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
          service: { type: 'string', minLength: 1 },
          environment: { type: 'string', minLength: 1 },
          path: { type: 'string', pattern: '^/(?!/)' },
          url: { type: 'string', pattern: '^https?://' },
          body: true,
          headers: { type: 'object', additionalProperties: { type: 'string' } },
          expectStatus: {
            type: 'array',
            items: { type: 'integer', minimum: 100, maximum: 599 },
            minItems: 1,
          },
        },
        required: ['method'],
        oneOf: [{ required: ['url'] }, { required: ['service', 'path'] }],
        additionalProperties: false,
      }),
    )
    .register(
      stub('event', true, {
        type: 'object',
        properties: {
          type: { type: 'string', pattern: '^[a-z][a-z0-9]*(\\.[a-z][a-z0-9_]*)+$' },
          data: true,
          subject: { type: 'string', minLength: 1 },
        },
        required: ['type', 'data'],
        additionalProperties: false,
      }),
    )
    .register(
      stub('query', false, {
        type: 'object',
        properties: {
          query: METRIC,
          service: { type: 'string', minLength: 1 },
          environment: { type: 'string', minLength: 1 },
          quantile: QUANTILE,
          expect: {
            type: 'object',
            properties: { op: COMPARISON, value: { type: 'number' } },
            required: ['op', 'value'],
            additionalProperties: false,
          },
        },
        required: ['query', 'service'],
        additionalProperties: false,
      }),
    )
    .register(stub('restart', true, serviceChange({})))
    .register(stub('scale', true, serviceChange({ replicas: { type: 'integer', minimum: 0 } })))
    .register(
      stub('wait', false, {
        type: 'object',
        properties: {
          seconds: { type: 'number', exclusiveMinimum: 0 },
          until: {
            oneOf: [
              {
                type: 'object',
                properties: { health: { type: 'string', minLength: 1 }, environment: { type: 'string' } },
                required: ['health'],
                additionalProperties: false,
              },
              {
                type: 'object',
                properties: {
                  query: METRIC,
                  service: { type: 'string', minLength: 1 },
                  environment: { type: 'string' },
                  quantile: QUANTILE,
                  op: COMPARISON,
                  value: { type: 'number' },
                },
                required: ['query', 'service', 'op', 'value'],
                additionalProperties: false,
              },
            ],
          },
          intervalSeconds: { type: 'number', minimum: 0.05 },
          timeoutSeconds: { type: 'number', exclusiveMinimum: 0 },
        },
        oneOf: [{ required: ['seconds'] }, { required: ['until'] }],
        additionalProperties: false,
      }),
    )
    .register(
      stub('notify', false, {
        type: 'object',
        properties: {
          text: { type: 'string', minLength: 1 },
          target: { type: 'string', pattern: '^[a-z][a-z0-9_-]*$' },
        },
        required: ['text'],
        additionalProperties: false,
      }),
    )
    .register(
      stub('shell', true, {
        type: 'object',
        properties: {
          command: { type: 'string', minLength: 1 },
          args: { type: 'array', items: { type: 'string' } },
        },
        required: ['command'],
        additionalProperties: false,
      }),
    );
}

/** restart and scale: a catalog service, an environment, and what else the change needs. */
function serviceChange(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      service: { type: 'string', minLength: 1 },
      environment: { type: 'string', minLength: 1 },
      ...extra,
    },
    required: ['service', ...Object.keys(extra)],
    additionalProperties: false,
  };
}

function stub(name: string, mutating: boolean, inputSchema: Record<string, unknown>): Action {
  return {
    name,
    summary: `${name} (lint fixture)`,
    inputSchema,
    mutating,
    resume: 'safe',
    describe: () => ({ summary: name, services: [] }),
    execute: () => Promise.reject(new Error(`${name} is a lint fixture and does not run`)),
  };
}
