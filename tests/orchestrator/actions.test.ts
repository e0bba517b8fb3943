import Ajv2020 from 'ajv/dist/2020';
import { HttpHealthProbe } from '../../adapters/http/http-health-probe';
import type { NotifyTarget } from '../../bot/config/schema';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import type { Reply } from '../../bot/core/message';
import type { MetricQuery, MetricSeries, MetricsSource } from '../../bot/metrics/metrics-source';
import { Notifier, type NotificationSender } from '../../bot/notify/notifier';
import { Platforms } from '../../bot/platform/platforms';
import { toEvent, type EventInput } from '../../engines/eventbus/envelope';
import { PermanentActionError } from '../../engines/orchestrator/action';
import { parseApprovalInputs } from '../../engines/orchestrator/actions/approval-inputs';
import { createEventAction, eventIdFor } from '../../engines/orchestrator/actions/event-action';
import { inProcessAction } from '../../engines/orchestrator/actions/in-process-action';
import { createNotifyAction } from '../../engines/orchestrator/actions/notify-action';
import { createQueryAction } from '../../engines/orchestrator/actions/query-action';
import { createStandardActions } from '../../engines/orchestrator/actions/standard-actions';
import { createWaitAction } from '../../engines/orchestrator/actions/wait-action';
import { DEFAULT_POLICY } from '../../engines/orchestrator/workflow';
import {
  actionContext,
  catalogService,
  startServer,
  testCatalog,
  testRun,
  type TestServer,
} from './actions-support';

const catalog = testCatalog({
  payments: catalogService('http://127.0.0.1:9/health', { aliases: ['pay'] }),
});

/** Answers every query with `values` as its points, the last being the current value. */
function metricsReturning(values: number[]): MetricsSource & { queries: MetricQuery[] } {
  const queries: MetricQuery[] = [];
  return {
    description: 'fake',
    queries,
    async query(query): Promise<MetricSeries> {
      queries.push(query);
      return {
        metric: query.metric,
        unit: 'ratio',
        points: values.map((v, i) => ({ t: query.start + i, v })),
      };
    },
  };
}

describe('standard actions', () => {
  const registry = createStandardActions({
    catalog,
    platforms: new Platforms({}),
    probe: new HttpHealthProbe(1_000, 0),
    metrics: metricsReturning([]),
    notifier: new Notifier(),
    publish: async () => [],
    shell: { enabled: false, allow: [] },
    verifyTimeoutMs: 1_000,
  });

  it('registers every action, shell included while disabled', () => {
    expect(registry.names().sort()).toEqual([
      'event',
      'http',
      'notify',
      'query',
      'restart',
      'scale',
      'shell',
      'wait',
    ]);
    const withoutBus = createStandardActions({
      catalog,
      platforms: new Platforms({}),
      probe: new HttpHealthProbe(1_000, 0),
      metrics: metricsReturning([]),
      notifier: new Notifier(),
      shell: { enabled: false, allow: [] },
      verifyTimeoutMs: 1_000,
    });
    expect(withoutBus.get('event')).toBeUndefined();
  });

  it('has input schemas that ajv compiles in strict mode and that refuse what execute cannot do', () => {
    const ajv = new Ajv2020({ strict: true, strictTypes: true, allowUnionTypes: true });
    const validators = Object.fromEntries(
      registry.names().map((name) => [name, ajv.compile(registry.get(name)!.inputSchema)]),
    );
    const valid = (name: string, inputs: unknown) => validators[name]!(inputs);

    expect(
      valid('http', { method: 'POST', service: 'payments', path: '/payments/charge', body: { a: 1 } }),
    ).toBe(true);
    expect(valid('http', { url: 'https://example.com/x', headers: { 'X-Trace': '1' } })).toBe(true);
    expect(valid('http', { url: 'https://example.com/x', expectStatus: 200 })).toBe(true);
    expect(valid('http', { url: 'https://example.com/x', expectStatus: [200, 404] })).toBe(true);
    expect(valid('http', { url: 'https://example.com/x', expectStatus: [] })).toBe(false);
    expect(valid('http', { url: 'https://example.com/x', service: 'payments', path: '/x' })).toBe(false);
    expect(valid('http', { url: 'https://example.com/x', path: '/x' })).toBe(false);
    expect(valid('http', { service: 'payments', path: '//evil/x' })).toBe(false);
    expect(valid('scale', { service: 'payments', replicas: 2 })).toBe(true);
    expect(valid('scale', { service: 'payments', replicas: -1 })).toBe(false);
    expect(valid('scale', { service: 'payments', replicas: 1.5 })).toBe(false);
    expect(valid('wait', { seconds: 5 })).toBe(true);
    expect(valid('wait', { until: { health: 'payments' }, timeoutSeconds: 30 })).toBe(true);
    expect(valid('wait', { until: { query: 'error_rate', service: 'payments', op: '<', value: 0.05 } })).toBe(
      true,
    );
    expect(valid('wait', { seconds: 5, until: { health: 'payments' } })).toBe(false);
    expect(valid('wait', { until: { query: 'error_rate', service: 'payments' } })).toBe(false);
    expect(valid('query', { query: 'latency', service: 'payments', quantile: 0.99 })).toBe(true);
    expect(valid('query', { query: 'sum(rate(x[5m]))', service: 'payments' })).toBe(false);
    expect(valid('event', { type: 'order.created', data: null })).toBe(true);
    expect(valid('event', { type: 'Order Created', data: {} })).toBe(false);
    expect(valid('notify', { text: 'hello', target: 'oncall' })).toBe(true);
    expect(valid('shell', { command: '/bin/echo', args: ['a', 'b'] })).toBe(true);
    expect(valid('shell', { command: '/bin/echo', args: 'a b' })).toBe(false);
  });
});

describe('query action', () => {
  it('reads the current value of a service metric, in the default environment', async () => {
    const metrics = metricsReturning([0.2, 0.012]);
    const query = createQueryAction({ catalog, metrics });
    await expect(query.execute({ query: 'error_rate', service: 'pay' }, actionContext())).resolves.toEqual({
      value: 0.012,
      unit: 'ratio',
    });
    expect(metrics.queries[0]).toMatchObject({
      service: 'payments',
      environment: 'production',
      metric: 'error_rate',
    });
  });

  it('holds when the expectation is met; fails retryably when not, so retries poll', async () => {
    const expect5 = { op: '<' as const, value: 0.05 };
    const ok = createQueryAction({ catalog, metrics: metricsReturning([0.01]) });
    await expect(
      ok.execute({ query: 'error_rate', service: 'payments', expect: expect5 }, actionContext()),
    ).resolves.toEqual({
      value: 0.01,
      unit: 'ratio',
      holds: true,
    });

    const high = createQueryAction({ catalog, metrics: metricsReturning([0.12]) });
    const failed = high.execute(
      { query: 'error_rate', service: 'payments', expect: expect5 },
      actionContext(),
    );
    await expect(failed).rejects.toThrow('payments error rate 12% in production, expected < 5%');
    await expect(failed).rejects.not.toBeInstanceOf(PermanentActionError);

    const empty = createQueryAction({ catalog, metrics: metricsReturning([]) });
    await expect(
      empty.execute({ query: 'error_rate', service: 'payments' }, actionContext()),
    ).resolves.toEqual({
      value: null,
      unit: 'ratio',
    });
    await expect(
      empty.execute({ query: 'error_rate', service: 'payments', expect: expect5 }, actionContext()),
    ).rejects.toThrow('no error rate data for payments in production, expected < 5%');
  });

  it('refuses for good a service the catalog does not know', async () => {
    const query = createQueryAction({ catalog, metrics: metricsReturning([1]) });
    await expect(query.execute({ query: 'cpu', service: 'ledger' }, actionContext())).rejects.toBeInstanceOf(
      PermanentActionError,
    );
  });
});

describe('wait action', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  /** payments, whose health URL answers 503 to its first `sickFor` checks and 200 after. */
  async function sickService(sickFor: number) {
    const server = await startServer((_req, res) => {
      res.statusCode = server.requests.length <= sickFor ? 503 : 200;
      res.end();
    });
    servers.push(server);
    const wait = createWaitAction({
      catalog: testCatalog({ payments: catalogService(`${server.url}/health`) }),
      probe: new HttpHealthProbe(1_000, 0),
      metrics: metricsReturning([]),
    });
    return { server, wait };
  }

  it('polls the health URL until the service is healthy', async () => {
    const { server, wait } = await sickService(2);
    const output = await wait.execute(
      { until: { health: 'payments' }, intervalSeconds: 0.05 },
      actionContext(),
    );
    expect(output.detail).toMatch(/^HTTP 200 in \d+ ms$/);
    expect(server.requests).toHaveLength(3);
  });

  it('gives up retryably after its timeout, with what the last check saw', async () => {
    const { wait } = await sickService(Infinity);
    const failed = wait.execute(
      { until: { health: 'payments' }, intervalSeconds: 0.05, timeoutSeconds: 0.2 },
      actionContext(),
    );
    await expect(failed).rejects.toThrow(/^payments still unhealthy after 0\.2 s: HTTP 503 in \d+ ms$/);
    await expect(failed).rejects.not.toBeInstanceOf(PermanentActionError);
  });

  it('stops waiting when the step signal aborts', async () => {
    const { wait } = await sickService(0);
    const controller = new AbortController();
    const sleeping = wait.execute({ seconds: 3_600 }, actionContext({ signal: controller.signal }));
    controller.abort(new Error('run cancelled'));
    await expect(sleeping).rejects.toThrow('run cancelled');
  });

  it('polls a metric until it meets the bound, through a failing metrics source', async () => {
    const answers: (number | Error)[] = [0.3, new Error('prometheus: 503'), 0.01];
    const metrics: MetricsSource = {
      description: 'fake',
      async query(query) {
        const next = answers.shift() ?? 0;
        if (next instanceof Error) throw next;
        return { metric: query.metric, unit: 'ratio', points: [{ t: query.end, v: next }] };
      },
    };
    const wait = createWaitAction({ catalog, probe: new HttpHealthProbe(1_000, 0), metrics });
    const until = { query: 'error_rate' as const, service: 'payments', op: '<' as const, value: 0.05 };
    const output = await wait.execute({ until, intervalSeconds: 0.05 }, actionContext());
    expect(output.detail).toBe('payments error rate 1% in production');
    expect(answers).toEqual([]);

    const stuck = createWaitAction({
      catalog,
      probe: new HttpHealthProbe(1_000, 0),
      metrics: metricsReturning([0.3]),
    });
    await expect(stuck.execute({ until, timeoutSeconds: 0.01 }, actionContext())).rejects.toThrow(
      'payments error rate still out of bounds after 0.01 s: payments error rate 30% in production, expected < 5%',
    );
  });

  it('refuses for good to wait on a service with no health URL', async () => {
    const wait = createWaitAction({
      catalog: testCatalog({
        payments: catalogService('http://127.0.0.1:9/health', { environments: { production: {} } }),
      }),
      probe: new HttpHealthProbe(1_000, 0),
      metrics: metricsReturning([]),
    });
    await expect(wait.execute({ until: { health: 'payments' } }, actionContext())).rejects.toThrow(
      new PermanentActionError('payments has no health URL in production to wait on'),
    );
  });
});

describe('notify action', () => {
  /** A channel that records what it was asked to post, or fails with `failure`. */
  function recordingSender(channel: NotifyTarget['channel'], failure?: Error) {
    const sent: { target: NotifyTarget; reply: Reply }[] = [];
    const sender: NotificationSender = {
      channel,
      async send(target, reply) {
        if (failure) throw failure;
        sent.push({ target, reply });
        return {
          channel,
          conversation: 'conversation' in target ? target.conversation : target.room,
          messageId: '17.1',
        };
      },
    };
    return { sender, sent };
  }

  it('posts to a named target, and to the run thread under the plan message by default', async () => {
    const notifier = new Notifier({ oncall: { channel: 'slack', conversation: 'C0123' } });
    const slack = recordingSender('slack');
    notifier.register(slack.sender);
    const notify = createNotifyAction({ notifier });

    await expect(
      notify.execute({ text: 'payments restarted', target: 'oncall' }, actionContext()),
    ).resolves.toEqual({
      delivered: true,
      channel: 'slack',
      conversation: 'C0123',
      messageId: '17.1',
    });
    const run = testRun({
      thread: { channel: 'slack', conversation: 'C0999', messageId: '1700000000.000100' },
    });
    await notify.execute({ text: 'step 2 done' }, actionContext({ run }));

    expect(slack.sent.map((s) => [s.target, s.reply.text])).toEqual([
      [{ channel: 'slack', conversation: 'C0123' }, 'payments restarted'],
      [{ channel: 'slack', conversation: 'C0999', threadTs: '1700000000.000100' }, 'step 2 done'],
    ]);
  });

  it('succeeds undelivered when there is nowhere to post, and fails for good on an unknown target', async () => {
    const notify = createNotifyAction({
      notifier: new Notifier({ oncall: { channel: 'teams', conversation: 'a:1' } }),
    });
    await expect(notify.execute({ text: 'hi' }, actionContext())).resolves.toEqual({
      delivered: false,
      reason: 'the run has no chat thread and the step names no target',
    });
    await expect(notify.execute({ text: 'hi', target: 'oncall' }, actionContext())).resolves.toEqual({
      delivered: false,
      reason: 'cannot notify on teams: that channel is not running in this opsbot',
    });
    const unknown = notify.execute({ text: 'hi', target: 'war-room' }, actionContext());
    await expect(unknown).rejects.toBeInstanceOf(PermanentActionError);
    await expect(unknown).rejects.toThrow('no notification target named "war-room" (configured: oncall)');
  });

  it('fails retryably when the platform refuses the post', async () => {
    const notifier = new Notifier({ room: { channel: 'web', room: 'war-room' } });
    notifier.register(recordingSender('web', new Error('socket closed')).sender);
    const failed = createNotifyAction({ notifier }).execute({ text: 'hi', target: 'room' }, actionContext());
    await expect(failed).rejects.toMatchObject({ code: ErrorCode.ChannelDeliveryFailed });
    await expect(failed).rejects.not.toBeInstanceOf(PermanentActionError);
  });
});

describe('event action', () => {
  function capture(result: unknown = []) {
    const published: EventInput[] = [];
    return { published, publish: async (input: EventInput) => (published.push(input), result) };
  }

  it('publishes with an id from the step key, the same on a retry, and the run correlation id', async () => {
    const bus = capture();
    const event = createEventAction({ publish: bus.publish });
    const inputs = { type: 'order.cancelled', subject: 'order/7', data: { id: 7 } };
    const run = testRun({ correlationId: 'corr-77' });
    const first = await event.execute(
      inputs,
      actionContext({ run, idempotencyKey: 'run-1:announce', attempt: 1 }),
    );
    const second = await event.execute(
      inputs,
      actionContext({ run, idempotencyKey: 'run-1:announce', attempt: 2 }),
    );

    expect(first).toEqual({ id: 'run-1:announce' });
    expect(second).toEqual(first);
    expect(bus.published[0]).toEqual({
      id: 'run-1:announce',
      type: 'order.cancelled',
      source: 'opsbot/orchestrator',
      subject: 'order/7',
      correlationid: 'corr-77',
      data: { id: 7 },
    });
  });

  it('hashes a key the event id alphabet refuses, so distinct keys keep distinct ids', () => {
    const a = eventIdFor('run 1/step#a');
    const b = eventIdFor('run 1/step#b');
    expect(a).not.toEqual(b);
    expect(eventIdFor('x'.repeat(200))).toMatch(/^sha256-[0-9a-f]{64}$/);
    for (const id of [a, b])
      expect(toEvent({ id, type: 'a.b', source: 's', data: null })).not.toHaveProperty('invalid');
  });

  it('fails for good on an event the bus would refuse or dead-letters, retryably when the bus throws', async () => {
    const bus = capture();
    const invalid = createEventAction({ publish: bus.publish }).execute(
      { type: 'order.created', subject: '', data: {} },
      actionContext(),
    );
    await expect(invalid).rejects.toBeInstanceOf(PermanentActionError);
    expect(bus.published).toEqual([]);

    const lettered = capture([
      { id: 'x', type: 'order.created', status: 'dead_lettered', errors: ['data/id: must be string'] },
    ]);
    await expect(
      createEventAction({ publish: lettered.publish }).execute(
        { type: 'order.created', data: {} },
        actionContext(),
      ),
    ).rejects.toThrow(new PermanentActionError('order.created failed its schema: data/id: must be string'));

    const down = createEventAction({
      publish: async () => {
        throw new OpsbotError(ErrorCode.Internal, 'redis: connection lost');
      },
    }).execute({ type: 'order.created', data: {} }, actionContext());
    await expect(down).rejects.toThrow('redis: connection lost');
    await expect(down).rejects.not.toBeInstanceOf(PermanentActionError);
  });
});

describe('approval step inputs', () => {
  it('lays the step inputs over the workflow policy, and lists every problem', () => {
    expect(parseApprovalInputs({ approvers: 2, roles: ['sre'] })).toEqual({
      ...DEFAULT_POLICY.approval,
      required: true,
      approvers: 2,
      roles: ['sre'],
    });
    expect(parseApprovalInputs({}, { ...DEFAULT_POLICY.approval, selfApproval: false })).toMatchObject({
      required: true,
      selfApproval: false,
    });
    expect(parseApprovalInputs({ approvers: 0, ttlSeconds: 'soon', approver: 1 })).toEqual({
      invalid: [
        'inputs: must NOT have additional properties (approver)',
        'approvers: must be >= 1',
        'ttlSeconds: must be integer',
      ],
    });
  });
});

describe('in-process action', () => {
  it('runs the function with its inputs and context, resuming by key', async () => {
    const charge = inProcessAction('charge', async (inputs: { amount: number }, ctx) => ({
      charged: inputs.amount,
      key: ctx.idempotencyKey,
    }));
    expect(charge).toMatchObject({ name: 'charge', mutating: false, resume: 'by-key' });
    await expect(charge.execute({ amount: 5 }, actionContext({ idempotencyKey: 'k' }))).resolves.toEqual({
      charged: 5,
      key: 'k',
    });
    expect(inProcessAction('reserve', async () => null, { mutating: true }).mutating).toBe(true);
  });
});
