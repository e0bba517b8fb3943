import { ServiceCatalog } from '../../bot/config/catalog';
import { RuleNlu } from '../../bot/nlu/rule-nlu';
import { findDurations } from '../../bot/nlu/durations';
import { findTimeRanges } from '../../bot/nlu/time-ranges';
import { testConfig } from '../support/runtime';

const NOW = new Date('2026-11-21T12:00:00Z');
const timeRanges = (text: string) => findTimeRanges(text, findDurations(text), NOW);
const spans = (text: string) => timeRanges(text).map((s) => text.slice(s.start, s.end));

describe('time ranges', () => {
  it.each([
    ['silence it until tomorrow 9am', ['until tomorrow 9am']],
    ['errors since midnight', ['since midnight']],
    ['maintenance from 01:00 to 01:30 pls', ['from 01:00 to 01:30']],
    ['snooze it between 22:00 and 06:00', ['between 22:00 and 06:00']],
    ['checkout p99 yesterday between 18:00 and 20:00', ['yesterday between 18:00 and 20:00']],
    ['schedule it on friday at 11pm', ['friday at 11pm']],
    ['will checkout hold up on black friday', ['black friday']],
    ['anything degrade before the weekend?', ['before the weekend']],
    ['what will fail next week', ['next week']],
  ])('finds %j', (text, expected) => {
    expect(spans(text)).toEqual(expected);
  });

  it.each([
    'silence for 2h',
    'errors in the last 15 minutes',
    'restart it now',
    'good morning',
    'gw is throwing 504s',
  ])('leaves %j alone: lengths are durations, greetings and status codes are not times', (text) => {
    expect(spans(text)).toEqual([]);
  });

  it('gives an ISO start, and an end when the text has one', () => {
    const [range] = timeRanges('maintenance from 01:00 to 01:30');
    const [from = '', to = ''] = range?.value.split('/') ?? [];
    // The clock times are the server's local ones, so compare them locally: offsets like +05:30 move the UTC minutes.
    const local = (iso: string) => {
      const date = new Date(iso);
      return { iso: date.toISOString(), time: [date.getHours(), date.getMinutes()] };
    };
    expect(local(from)).toEqual({ iso: from, time: [1, 0] });
    expect(local(to)).toEqual({ iso: to, time: [1, 30] });
  });
});

describe('order and customer ids', () => {
  const nlu = new RuleNlu(new ServiceCatalog(testConfig()));
  const ids = (text: string) =>
    nlu
      .parse(text)
      .entities.filter((e) => e.type === 'order_id' || e.type === 'customer_id' || e.type === 'service')
      .map((e) => [e.type, e.value, e.text]);

  it.each([
    ['where is ord-88213?', [['order_id', 'order-88213', 'ord-88213']]],
    ['refund ORD-12077 now', [['order_id', 'order-12077', 'ORD-12077']]],
    ['what happened to order #55102', [['order_id', 'order-55102', '#55102']]],
    ['order 40311 is stuck', [['order_id', 'order-40311', '40311']]],
    ['events for cus_9KQ2 today', [['customer_id', 'cus_9KQ2', 'cus_9KQ2']]],
    [
      'customer 4411 says checkout failed',
      [
        ['customer_id', 'cus_4411', '4411'],
        ['service', 'checkout', 'checkout'],
      ],
    ],
    ['restart the orders service', [['service', 'orders', 'orders']]],
  ])('reads %j', (text, expected) => {
    expect(ids(text)).toEqual(expected);
  });
});
