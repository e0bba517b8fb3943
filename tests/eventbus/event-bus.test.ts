import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { MemoryDedupStore } from '../../bot/core/dedup-store';
import { createLogger } from '../../bot/core/logger';
import { FileRecordStore } from '../../bot/core/record-store';
import { DeadLetterQueue, type DeadLetter } from '../../engines/eventbus/dead-letters';
import { toEvent, type EventInput, type OpsEvent } from '../../engines/eventbus/envelope';
import { EventBus, type EventValidator, type Routes } from '../../engines/eventbus/event-bus';
import { MemoryEventStore } from '../../engines/eventbus/memory-event-store';
import { backoffDelayMs } from '../../engines/eventbus/retry-policy';
import { compileRules } from '../../engines/eventbus/routing';
import type { Delivery, EventTransport } from '../../engines/eventbus/transport';
import { MemoryTransport } from '../../engines/eventbus/transports/memory-transport';
import { eventually } from './transport-contract';

const RETRY = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 };
/** Refuses order.created events without a numeric total, as a registered schema would. */
const orderValidator: EventValidator = {
  validate: (e) =>
    e.type === 'order.created' && typeof (e.data as { total?: unknown }).total !== 'number'
      ? { valid: false, errors: ['data.total: must be number'] }
      : { valid: true },
};

describe('event bus', () => {
  let dir: string;
  let bus: EventBus;
  let deadLetters: DeadLetterQueue;
  let transport: EventTransport;

  function open(options: { routes?: Routes; transport?: EventTransport } = {}) {
    transport = options.transport ?? new MemoryTransport({ dir: path.join(dir, 'log'), partitions: 4 });
    deadLetters = new DeadLetterQueue(new FileRecordStore<DeadLetter>(dir, 'dead-letters'));
    bus = new EventBus({
      transport,
      validator: orderValidator,
      deadLetters,
      store: new MemoryEventStore({ dir: path.join(dir, 'store') }),
      dedup: new MemoryDedupStore(),
      logger: createLogger('silent'),
      options: { retry: RETRY },
    });
    if (options.routes) bus.setRoutes(options.routes);
    return bus;
  }

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'opsbot-bus-'));
  });
  afterEach(async () => {
    await bus?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const order = (id: number, extra: Record<string, unknown> = {}) => ({
    type: 'order.created',
    source: '/services/orders',
    subject: `order/${id}`,
    correlationid: `order-${id}`,
    data: { orderId: id, total: 10 * id, ...extra },
  });

  it('publishes CloudEvents envelopes that subscribers receive and the store finds', async () => {
    open();
    const seen: OpsEvent[] = [];
    await bus.subscribe('billing', async (e) => void seen.push(e));
    const [result] = await bus.publish(order(1234));
    expect(result).toMatchObject({ status: 'accepted', type: 'order.created' });
    await eventually(() => seen.length === 1, 'delivery');
    expect(seen[0]).toMatchObject({
      specversion: '1.0',
      id: result?.id,
      type: 'order.created',
      source: '/services/orders',
      subject: 'order/1234',
      correlationid: 'order-1234',
      datacontenttype: 'application/json',
      data: { orderId: 1234, total: 12340 },
    });
    expect(Date.parse(seen[0]?.time ?? '')).not.toBeNaN();
    expect((await bus.queryEvents({ mentions: '1234' })).map((e) => e.id)).toEqual([result?.id]);
    expect(await bus.queryEvents({ mentions: '123' })).toEqual([]);
    expect(await bus.getEvent(result?.id ?? '')).toEqual(seen[0]);
  });

  it('refuses a batch with a bad envelope whole, naming each problem, and writes nothing', async () => {
    open();
    await expect(bus.publish([order(1), { type: 'Order Created!', source: '', data: {} }])).rejects.toThrow(
      /invalid event: \[1\] type: must be dotted lower-case words.*; \[1\] source: must be a non-empty string/,
    );
    expect(await bus.queryEvents({})).toEqual([]);
    expect(await bus.lag('anyone')).toBe(0);
  });

  it('sends an event that fails its schema to the dead letter queue with the reason, and delivers it to nobody', async () => {
    open();
    const seen: OpsEvent[] = [];
    await bus.subscribe('billing', async (e) => void seen.push(e));
    const [bad, good] = await bus.publish([order(1, { total: 'ten' }), order(2)]);
    expect(bad).toMatchObject({ status: 'dead_lettered', errors: ['data.total: must be number'] });
    expect(good?.status).toBe('accepted');
    await eventually(() => seen.length === 1, 'the valid event');
    expect(seen[0]?.id).toBe(good?.id);
    const [letter] = await bus.listDeadLetters();
    expect(letter).toMatchObject({ reason: 'invalid', error: 'data.total: must be number', attempts: 0 });
    expect(letter?.event.id).toBe(bad?.id);
  });

  it('retries a failing handler with backoff and handles the event once when it recovers', async () => {
    open();
    let calls = 0;
    const handled: string[] = [];
    await bus.subscribe('flaky', async (e) => {
      calls += 1;
      if (calls < 3) throw new Error('downstream unavailable');
      handled.push(e.id);
    });
    await bus.publish(order(7));
    await eventually(() => handled.length === 1, 'the third attempt');
    expect(calls).toBe(3);
    expect(await deadLetters.size()).toBe(0);
  });

  it('dead-letters an event whose handler keeps failing, then moves on to the next event of the same key', async () => {
    open();
    const handled: number[] = [];
    await bus.subscribe('shipping', async (e) => {
      const { orderId } = e.data as { orderId: number };
      if (orderId === 1) throw new Error('label printer on fire\nstack trace line');
      handled.push(orderId);
    });
    await bus.publish([order(1, { total: 5 }), { ...order(2), correlationid: 'order-1' }]);
    await eventually(() => handled.length === 1, 'the next event');
    expect(handled).toEqual([2]);
    const [letter] = await bus.listDeadLetters({ reason: 'handler_failed' });
    expect(letter).toMatchObject({
      group: 'shipping',
      attempts: 3,
      error: 'label printer on fire',
      event: { type: 'order.created', data: { orderId: 1 } },
    });
  });

  it('replays a handler failure to its own group only, and removes the dead letter', async () => {
    open();
    let broken = true;
    const shipping: number[] = [];
    const audit: number[] = [];
    await bus.subscribe('shipping', async (e) => {
      if (broken) throw new Error('down');
      shipping.push((e.data as { orderId: number }).orderId);
    });
    await bus.subscribe('audit', async (e) => void audit.push((e.data as { orderId: number }).orderId));
    await bus.publish(order(5));
    await eventually(() => audit.length === 1, 'audit');
    let letters: DeadLetter[] = [];
    for (let i = 0; i < 100 && letters.length === 0; i++) {
      letters = await bus.listDeadLetters();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(letters).toHaveLength(1);
    broken = false;
    expect(await bus.replay({ id: letters[0]?.id ?? '' })).toEqual({
      replayed: [letters[0]?.id],
      failed: [],
    });
    await eventually(() => shipping.length === 1, 'the replayed event in shipping');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(audit).toEqual([5]);
    expect(await deadLetters.size()).toBe(0);
    await expect(bus.replay({ id: 'no-such-letter' })).rejects.toThrow(/no dead letter no-such-letter/);
  });

  it('hands a subscriber only the types it asked for, as routing globs', async () => {
    open();
    const seen: string[] = [];
    await bus.subscribe('orders-only', async (e) => void seen.push(e.type), { types: ['order.*'] });
    await bus.publish([
      { type: 'payment.charged', source: '/s', data: {} },
      order(1),
      { type: 'order.item.added', source: '/s', data: {} },
      order(2),
    ]);
    await eventually(() => seen.length === 2, 'the two order events');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual(['order.created', 'order.created']);
  });

  it('handles a republished event id once per group', async () => {
    open();
    const seen: string[] = [];
    await bus.subscribe('billing', async (e) => void seen.push(e.id));
    const input = { ...order(9), id: 'evt-fixed-0001' };
    await bus.publish(input);
    await bus.publish(input);
    await bus.publish(order(10));
    await eventually(() => seen.length >= 2, 'two events');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen.filter((id) => id === 'evt-fixed-0001')).toHaveLength(1);
  });

  it('dead-letters an event its consumers keep dying on, counting only the starts of redeliveries', async () => {
    // A transport that hands over the same event again and again, as after consumers that died on it: the
    // handler never finishes (the process would be gone), so the transport redelivers with a higher count.
    const event = { ...envelope(order(3)), id: 'poison-1' };
    const crashing: EventTransport = {
      kind: 'memory',
      publish: async () => {},
      lag: async () => 0,
      close: async () => {},
      async subscribe(spec, handler) {
        const deliver = (deliveryCount: number) =>
          handler({ topic: spec.topic, partition: 0, key: 'k', event, deliveryCount } satisfies Delivery);
        void deliver(1);
        void deliver(2);
        void deliver(3);
        await deliver(4);
        return { close: async () => {} };
      },
    };
    open({ transport: crashing });
    let starts = 0;
    await bus.subscribe('workers', () => {
      starts += 1;
      return new Promise<void>(() => {});
    });
    expect(starts).toBe(3);
    const [letter] = await bus.listDeadLetters();
    expect(letter).toMatchObject({
      reason: 'handler_failed',
      group: 'workers',
      attempts: 3,
      error: 'its consumers stopped without finishing it 3 times (they may crash on it)',
    });
  });

  describe('routing', () => {
    let hook: Server;
    let hookUrl: string;
    let hookStatus = 200;
    const received: { contentType?: string; body: any }[] = [];

    beforeAll(async () => {
      hook = createServer(async (req, res) => {
        received.push({ contentType: req.headers['content-type'], body: JSON.parse(await text(req)) });
        res.statusCode = hookStatus;
        res.end();
      });
      await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
      hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook?token=secret-in-query`;
    });
    afterAll(() => new Promise<void>((resolve) => hook.close(() => resolve())));
    beforeEach(() => {
      received.length = 0;
      hookStatus = 200;
    });

    function rules() {
      return compileRules([
        {
          id: 'big-orders',
          match: { type: 'order.created', data: [{ field: 'total', gt: 100 }] },
          transforms: [{ rename: { from: 'total', to: 'amount' } }],
          targets: [{ topic: 'finance.orders' }, { webhook: { url: hookUrl, timeoutMs: 1000 } }],
        },
      ]);
    }

    it('copies matching events, transformed, to a topic and a webhook (CloudEvents JSON)', async () => {
      open({ routes: rules() });
      await bus.start();
      const finance: OpsEvent[] = [];
      await bus.subscribe('finance', async (e) => void finance.push(e), { topic: 'finance.orders' });
      await bus.publish([order(1), order(50)]);
      await eventually(() => finance.length === 1 && received.length === 1, 'the routed copies');
      expect(finance[0]?.data).toEqual({ orderId: 50, amount: 500 });
      expect(received[0]?.contentType).toBe('application/cloudevents+json; charset=utf-8');
      expect(received[0]?.body).toMatchObject({
        specversion: '1.0',
        type: 'order.created',
        data: { amount: 500 },
      });
    });

    it('dead-letters a target that keeps failing without repeating the others, and replays it to that target', async () => {
      open({ routes: rules() });
      await bus.start();
      const finance: OpsEvent[] = [];
      await bus.subscribe('finance', async (e) => void finance.push(e), { topic: 'finance.orders' });
      hookStatus = 503;
      await bus.publish(order(70));
      let letters: DeadLetter[] = [];
      for (let i = 0; i < 200 && letters.length === 0; i++) {
        letters = await bus.listDeadLetters({ reason: 'route_failed' });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(letters[0]).toMatchObject({
        ruleId: 'big-orders',
        attempts: 3,
        error: expect.stringMatching(/answered HTTP 503$/),
      });
      // The token in the webhook's query string is not kept in the dead letter.
      expect(letters[0]?.target).toMatch(/^webhook http:\/\/127\.0\.0\.1:\d+\/hook$/);
      expect(received).toHaveLength(3);
      expect(finance).toHaveLength(1);

      hookStatus = 200;
      const result = await bus.replay({ reason: 'route_failed' });
      expect(result.replayed).toHaveLength(1);
      expect(received).toHaveLength(4);
      expect(finance).toHaveLength(1);
      expect(await deadLetters.size()).toBe(0);
    });
  });
});

function envelope(input: EventInput): OpsEvent {
  const built = toEvent(input);
  if ('invalid' in built) throw new Error(built.invalid.join('; '));
  return built;
}

describe('retry backoff', () => {
  const policy = { maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 1000 };

  it('doubles per attempt up to the cap, jittered between half and all of it', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(policy, attempt, () => 1))).toEqual([
      100, 200, 400, 800, 1000,
    ]);
    expect([1, 2, 5].map((attempt) => backoffDelayMs(policy, attempt, () => 0))).toEqual([50, 100, 500]);
  });
});
