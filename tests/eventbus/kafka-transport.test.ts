import { randomUUID } from 'node:crypto';
import type { OpsEvent } from '../../engines/eventbus/envelope';
import type { Delivery, Subscription, TransportRecord } from '../../engines/eventbus/transport';
import { KafkaTransport, kafkaTopicName } from '../../engines/eventbus/transports/kafka-transport';

const BROKERS = process.env.KAFKA_BROKERS?.split(',').filter(Boolean) ?? [];
if (BROKERS.length === 0) {
  // .ci/run starts librdkafka's mock cluster and sets KAFKA_BROKERS; elsewhere, say why nothing ran.
  // eslint-disable-next-line no-console
  console.warn(
    'kafka transport tests skipped: KAFKA_BROKERS is not set (a comma-separated bootstrap list, e.g. from ' +
      '`kcat -C -b 127.0.0.1:1 -t __keepalive -X test.mock.num.brokers=3 -q -u`)',
  );
}
const describeKafka = BROKERS.length > 0 ? describe : describe.skip;

// Joining a consumer group takes seconds, more on a busy machine.
const TEST_TIMEOUT_MS = 60_000;
const WAIT_MS = 45_000;

interface Sequenced {
  key: string;
  seq: number;
}

describe('kafka topic names', () => {
  it('keeps legal names and makes others legal without merging them', () => {
    expect(kafkaTopicName('opsbot.', 'orders.created')).toBe('opsbot.orders.created');
    const slash = kafkaTopicName('opsbot.', 'team/alerts');
    const space = kafkaTopicName('opsbot.', 'team alerts');
    expect(slash).toMatch(/^opsbot\.team_alerts\.[0-9a-f]{12}$/);
    expect(space).toMatch(/^opsbot\.team_alerts\.[0-9a-f]{12}$/);
    expect(slash).not.toBe(space);
    expect(kafkaTopicName('opsbot.', 'team_alerts')).toBe('opsbot.team_alerts');
    expect(kafkaTopicName('opsbot.', 'x'.repeat(300))).toHaveLength(249);
  });
});

describeKafka('KafkaTransport against KAFKA_BROKERS', () => {
  const run = randomUUID().slice(0, 8);
  let names = 0;
  const unique = (what: string): string => `${what}-${run}-${++names}`;
  let transport: KafkaTransport;
  const open: Subscription[] = [];

  beforeAll(() => {
    transport = new KafkaTransport({
      brokers: BROKERS,
      clientId: 'opsbot-test',
      topicPrefix: 'opsbot-test.',
      // librdkafka's mock cluster lets a member join a group only once the members that left have timed out.
      sessionTimeoutMs: 10_000,
    });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((subscription) => subscription.close()));
  });
  afterAll(async () => {
    await transport.close();
  });

  let events = 0;
  const event = (key: string, seq: number): OpsEvent<Sequenced> => ({
    specversion: '1.0',
    id: `e-${run}-${++events}`,
    type: 'test.sequenced',
    source: '/tests/kafka-transport',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: { key, seq },
  });
  /** `perKey` records for each key, numbered from 1 per key, the keys interleaved. */
  const records = (topic: string, keys: string[], perKey: number): TransportRecord[] =>
    Array.from({ length: perKey }, (_, i) =>
      keys.map((key) => ({ topic, key, event: event(key, i + 1) })),
    ).flat();
  const seqOf = (delivery: { event: OpsEvent }): number => (delivery.event.data as Sequenced).seq;
  const label = (delivery: { key: string; event: OpsEvent }): string => `${delivery.key}#${seqOf(delivery)}`;

  const subscribe = async (
    topic: string,
    group: string,
    handler: (delivery: Delivery) => Promise<void>,
  ): Promise<Subscription> => {
    const subscription = await transport.subscribe({ topic, group, consumer: unique('consumer') }, handler);
    open.push(subscription);
    return subscription;
  };
  const close = async (subscription: Subscription): Promise<void> => {
    open.splice(open.indexOf(subscription), 1);
    await subscription.close();
  };

  async function waitFor(what: string, done: () => boolean | Promise<boolean>): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it(
    'delivers every record once, in publish order per key, each key from one partition',
    async () => {
      const topic = unique('orders');
      const keys = ['k-a', 'k-b', 'k-c', 'k-d', 'k-e'];
      const published = records(topic, keys, 4);
      await transport.publish(published.slice(0, 10));
      await transport.publish(published.slice(10));
      const seen: Delivery[] = [];
      await subscribe(topic, unique('group'), async (delivery) => {
        seen.push(delivery);
      });
      await waitFor('every record', () => seen.length >= published.length);

      expect(seen.map(label).sort()).toEqual(published.map(label).sort());
      for (const key of keys) {
        const ofKey = seen.filter((delivery) => delivery.key === key);
        expect(ofKey.map(seqOf)).toEqual([1, 2, 3, 4]);
        expect(new Set(ofKey.map((delivery) => delivery.partition)).size).toBe(1);
      }
      expect(seen.every((delivery) => delivery.topic === topic && delivery.deliveryCount === 1)).toBe(true);
      const sample = published[7]!.event;
      expect(seen.find((delivery) => delivery.event.id === sample.id)?.event).toEqual(sample);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'resolves many concurrent publish calls, gathered into shared sends, keeping the call order of a key',
    async () => {
      const topic = unique('bursts');
      const published = records(topic, ['k-burst'], 200);
      // One call per record, all at once: calls made during a send go out together in the next one.
      await Promise.all(published.map((record) => transport.publish([record])));
      const seen: Delivery[] = [];
      await subscribe(topic, unique('group'), async (delivery) => {
        seen.push(delivery);
      });
      await waitFor('every record', () => seen.length >= published.length);
      expect(seen.map(seqOf)).toEqual(published.map((record) => (record.event.data as Sequenced).seq));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'gives each consumer group every record',
    async () => {
      const topic = unique('alerts');
      const published = records(topic, ['k-a', 'k-b', 'k-c'], 3);
      await transport.publish(published);
      const first: string[] = [];
      const second: string[] = [];
      await Promise.all([
        subscribe(topic, unique('group'), async (delivery) => void first.push(label(delivery))),
        subscribe(topic, unique('group'), async (delivery) => void second.push(label(delivery))),
      ]);
      await waitFor(
        'both groups',
        () => first.length >= published.length && second.length >= published.length,
      );

      const all = published.map(label).sort();
      expect(first.sort()).toEqual(all);
      expect(second.sort()).toEqual(all);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'delivers a rejected record again, counted, before the later records of its partition',
    async () => {
      const topic = unique('saga');
      await transport.publish(records(topic, ['one-key'], 4));
      const seen: [seq: number, deliveryCount: number][] = [];
      let failuresLeft = 2;
      await subscribe(topic, unique('group'), async (delivery) => {
        seen.push([seqOf(delivery), delivery.deliveryCount]);
        if (seqOf(delivery) === 2 && failuresLeft-- > 0) throw new Error('handler failed');
      });
      await waitFor('the last record', () => seen.some(([seq]) => seq === 4));

      expect(seen).toEqual([
        [1, 1],
        [2, 1],
        [2, 2],
        [2, 3],
        [3, 1],
        [4, 1],
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'lets a later consumer of the group continue after the last handled record, not from the beginning',
    async () => {
      const topic = unique('steps');
      const group = unique('group');
      await transport.publish(records(topic, ['one-key'], 6));
      const firstSeen: number[] = [];
      const first = await subscribe(topic, group, async (delivery) => {
        firstSeen.push(seqOf(delivery));
        if (seqOf(delivery) >= 4) throw new Error('not this one');
      });
      await waitFor('the first rejection', () => firstSeen.includes(4));
      await close(first);
      expect(firstSeen.slice(0, 4)).toEqual([1, 2, 3, 4]);

      const secondSeen: number[] = [];
      await subscribe(topic, group, async (delivery) => void secondSeen.push(seqOf(delivery)));
      await waitFor('the rest', () => secondSeen.length >= 3);

      expect(secondSeen).toEqual([4, 5, 6]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'reports as lag the records a group has not acknowledged',
    async () => {
      const topic = unique('lagging');
      const group = unique('group');
      // other-key goes first: handled, it leaves no lag whether or not it shares one-key's partition.
      await transport.publish([...records(topic, ['other-key'], 2), ...records(topic, ['one-key'], 5)]);
      expect(await transport.lag(topic, group)).toBe(7);

      let stuckDeliveries = 0;
      const subscription = await subscribe(topic, group, async (delivery) => {
        if (delivery.key !== 'one-key' || seqOf(delivery) < 3) return;
        stuckDeliveries++;
        throw new Error('stuck');
      });
      // The second attempt at one-key#3 comes after the commit of the records before it.
      await waitFor('a redelivery of one-key#3', () => stuckDeliveries >= 2);
      await waitFor('lag 3 (one-key#3-5)', async () => (await transport.lag(topic, group)) === 3);
      await close(subscription);

      expect(await transport.lag(topic, group)).toBe(3);
      expect(await transport.lag(topic, unique('group'))).toBe(7);
    },
    TEST_TIMEOUT_MS,
  );
});
