import { randomUUID } from 'node:crypto';
import type { OpsEvent } from '../../engines/eventbus/envelope';
import type { Delivery, EventTransport, Subscription } from '../../engines/eventbus/transport';

/**
 * The EventTransport contract (engines/eventbus/transport.ts), one suite for every transport: the memory
 * log and Redis Streams always, Kafka when KAFKA_BROKERS names a cluster (or a protocol mock).
 */
export interface TransportUnderTest {
  transport: EventTransport;
  /** A second transport on the same storage: another process's view (a consumer elsewhere in the group). */
  peer(): Promise<EventTransport>;
  cleanup(): Promise<void>;
}

const WAIT_MS = 20_000;

export function event(type: string, n: number, key: string): OpsEvent {
  return {
    specversion: '1.0',
    id: randomUUID(),
    type,
    source: '/tests/contract',
    time: new Date().toISOString(),
    correlationid: key,
    datacontenttype: 'application/json',
    data: { n, key },
  };
}

/** Resolves once `check` holds, polling; rejects with `what` after the wait. */
export async function eventually(check: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * `waitMs`: how long a delivery may take to show up. Kafka's group protocol needs seconds to hand partitions
 * over when a consumer leaves (the mock keeps a departed member until its session times out).
 */
export function runTransportContract(
  name: string,
  open: () => Promise<TransportUnderTest>,
  { waitMs = WAIT_MS }: { waitMs?: number } = {},
): void {
  describe(`${name} transport contract`, () => {
    const eventuallyHere = (check: () => boolean, what: string) => eventually(check, what, waitMs);
    // A test may wait for deliveries twice (before and after a consumer leaves), plus its set-up.
    jest.setTimeout(3 * waitMs);
    let under: TransportUnderTest;
    const subscriptions: Subscription[] = [];
    let topic: string;
    let seq = 0;

    beforeEach(async () => {
      under = await open();
      topic = `contract-${Date.now().toString(36)}-${++seq}`;
    });
    afterEach(async () => {
      for (const s of subscriptions.splice(0)) await s.close();
      await under.cleanup();
    });

    const group = (label: string) => `${topic}-${label}`;
    const consumer = (label: string) => `${label}-${process.pid}`;

    async function publish(keys: string[], perKey: number): Promise<OpsEvent[]> {
      const events: OpsEvent[] = [];
      for (let n = 0; n < perKey; n++) for (const key of keys) events.push(event('contract.tested', n, key));
      await under.transport.publish(events.map((e) => ({ topic, key: e.correlationid as string, event: e })));
      return events;
    }

    async function subscribe(
      transport: EventTransport,
      groupName: string,
      consumerName: string,
      handler: (d: Delivery) => Promise<void>,
    ): Promise<Subscription> {
      const subscription = await transport.subscribe(
        { topic, group: groupName, consumer: consumerName, batchSize: 50 },
        handler,
      );
      subscriptions.push(subscription);
      return subscription;
    }

    /** Per key, the `n` of each handled delivery in handling order. */
    function byKey(deliveries: Delivery[]): Map<string, number[]> {
      const seen = new Map<string, number[]>();
      for (const d of deliveries) {
        const { n, key } = d.event.data as { n: number; key: string };
        seen.set(key, [...(seen.get(key) ?? []), n]);
      }
      return seen;
    }

    it('delivers every published event to a new group, in order per key, with the envelope intact', async () => {
      const published = await publish(['a', 'b', 'c', 'd', 'e'], 20);
      const handled: Delivery[] = [];
      await subscribe(under.transport, group('g'), consumer('c1'), async (d) => {
        handled.push(d);
      });
      await eventuallyHere(() => handled.length >= published.length, 'all deliveries');
      expect(handled).toHaveLength(published.length);
      for (const [, ns] of byKey(handled)) expect(ns).toEqual([...Array(20).keys()]);
      const first = handled.find((d) => d.event.id === published[0]?.id);
      expect(first?.event).toEqual(published[0]);
      expect(first).toMatchObject({ topic, key: 'a', deliveryCount: 1 });
    });

    it('gives each consumer group every event', async () => {
      const published = await publish(['k1', 'k2', 'k3'], 10);
      const one: Delivery[] = [];
      const two: Delivery[] = [];
      await subscribe(under.transport, group('one'), consumer('c1'), async (d) => {
        one.push(d);
      });
      await subscribe(under.transport, group('two'), consumer('c2'), async (d) => {
        two.push(d);
      });
      await eventuallyHere(
        () => one.length >= published.length && two.length >= published.length,
        'both groups',
      );
      expect(new Set(one.map((d) => d.event.id))).toEqual(new Set(published.map((e) => e.id)));
      expect(new Set(two.map((d) => d.event.id))).toEqual(new Set(published.map((e) => e.id)));
    });

    it('delivers a record whose handler failed again, before the later records of its key', async () => {
      await publish(['only'], 5);
      const handled: Delivery[] = [];
      let failed = false;
      await subscribe(under.transport, group('g'), consumer('c1'), async (d) => {
        const { n } = d.event.data as { n: number };
        if (n === 2 && !failed) {
          failed = true;
          throw new Error('handler failed once');
        }
        handled.push(d);
      });
      await eventuallyHere(() => handled.length >= 5, 'the retried record and the rest');
      expect(byKey(handled).get('only')).toEqual([0, 1, 2, 3, 4]);
      expect(handled[2]?.deliveryCount).toBeGreaterThanOrEqual(2);
      expect(handled[3]?.deliveryCount).toBe(1);
    });

    it('shares a group between consumers: each event handled once, one key never handled by two at a time', async () => {
      const keys = [...Array(16).keys()].map((i) => `key-${i}`);
      const published = await publish(keys, 15);
      const peer = await under.peer();
      const handled: Delivery[] = [];
      const inFlight = new Set<string>();
      let overlapped = false;
      const handler = async (d: Delivery) => {
        if (inFlight.has(d.key)) overlapped = true;
        inFlight.add(d.key);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight.delete(d.key);
        handled.push(d);
      };
      await subscribe(under.transport, group('shared'), consumer('c1'), handler);
      await subscribe(peer, group('shared'), consumer('c2'), handler);
      // Counted by id: a redelivery during a rebalance adds to `handled` without bringing a missing event.
      const seen = () => new Set(handled.map((d) => d.event.id)).size;
      await eventuallyHere(() => seen() >= published.length, 'every event across two consumers');
      // At-least-once allows a redelivery during a rebalance, never a loss or a reordering of one key.
      expect(new Set(handled.map((d) => d.event.id))).toEqual(new Set(published.map((e) => e.id)));
      expect(overlapped).toBe(false);
      for (const [, ns] of byKey(handled)) {
        const firstSeen = ns.filter((n, i) => ns.indexOf(n) === i);
        expect(firstSeen).toEqual([...Array(15).keys()]);
      }
    });

    it('hands the rest of the stream to the remaining consumer when one leaves, losing nothing', async () => {
      const published = await publish(['p', 'q', 'r', 's', 't', 'u', 'v', 'w'], 25);
      const peer = await under.peer();
      const handled = new Set<string>();
      let leaving: Subscription | undefined;
      leaving = await subscribe(under.transport, group('leave'), consumer('c1'), async (d) => {
        handled.add(d.event.id);
        if (handled.size === 20 && leaving) {
          const closing = leaving;
          leaving = undefined;
          void closing.close();
        }
      });
      await subscribe(peer, group('leave'), consumer('c2'), async (d) => {
        handled.add(d.event.id);
      });
      await eventuallyHere(() => handled.size >= published.length, 'every event after a consumer left');
      expect(handled.size).toBe(published.length);
    });

    it('resumes a group after its last acknowledged record, and reports lag until then', async () => {
      await publish(['x', 'y'], 10);
      expect(await under.transport.lag(topic, group('resume'))).toBe(20);
      const first: Delivery[] = [];
      const subscription = await subscribe(under.transport, group('resume'), consumer('c1'), async (d) => {
        first.push(d);
      });
      await eventuallyHere(() => first.length >= 20, 'the first twenty');
      await subscription.close();
      subscriptions.splice(subscriptions.indexOf(subscription), 1);
      let lag = -1;
      const lagUntil = Date.now() + waitMs;
      while (lag !== 0 && Date.now() < lagUntil) lag = await under.transport.lag(topic, group('resume'));
      expect(lag).toBe(0);

      const later = await publish(['x', 'y'], 3);
      const second: Delivery[] = [];
      await subscribe(under.transport, group('resume'), consumer('c1b'), async (d) => {
        second.push(d);
      });
      await eventuallyHere(() => second.length >= later.length, 'the records published after the close');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(second.map((d) => d.event.id).sort()).toEqual(later.map((e) => e.id).sort());
    });

    it('refuses to publish after close', async () => {
      await under.transport.close();
      await expect(
        under.transport.publish([{ topic, key: 'k', event: event('contract.tested', 0, 'k') }]),
      ).rejects.toThrow();
    });
  });
}
