import { seededRandom } from '../../bot/core/seeded-random';
import type { OpsEvent } from '../../engines/eventbus/envelope';
import { compileRuleSets } from '../../engines/quality/data/validation-rules';
import { QualityMonitor } from '../../engines/quality/quality-monitor';

const START = Date.parse('2026-11-20T00:00:00Z');
const MINUTE = 60_000;

function event(type: string, t: number, data: unknown, id: string): OpsEvent {
  return {
    specversion: '1.0',
    id,
    type,
    source: '/services/orders',
    time: new Date(t).toISOString(),
    datacontenttype: 'application/json',
    data,
  };
}

describe('QualityMonitor', () => {
  const rules = compileRuleSets({
    rules: [
      {
        eventType: 'order.created',
        checks: [
          { required: ['orderId'] },
          { range: { field: 'amountCents', min: 1 } },
          { format: { field: 'email', format: 'email' } },
        ],
      },
    ],
  });

  it('counts checked and invalid events by check and field, keeping event ids and no values', () => {
    const monitor = new QualityMonitor({
      rules,
      anomalies: { threshold: 3.5, season: 0, bucketSeconds: 60 },
    });
    monitor.observe(
      event('order.created', START, { orderId: 'o1', amountCents: 10, email: 'a@example.com' }, 'e1'),
    );
    monitor.observe(
      event('order.created', START + 1, { amountCents: 0, email: 'secret-looking-value' }, 'e2'),
    );
    monitor.observe(event('order.shipped', START + 2, { orderId: 'o1' }, 'e3'));
    const [created, shipped] = monitor.report();
    expect(created).toMatchObject({
      type: 'order.created',
      events: 2,
      checked: 2,
      invalid: 1,
      validPercent: 50,
    });
    expect(created?.byCheck).toEqual(
      expect.arrayContaining([
        { check: 'required', field: 'orderId', count: 1 },
        { check: 'range', field: 'amountCents', count: 1 },
        { check: 'format', field: 'email', count: 1 },
      ]),
    );
    expect(created?.recentViolations.map((v) => v.eventId)).toEqual(['e2', 'e2', 'e2']);
    expect(JSON.stringify(monitor.report())).not.toContain('secret-looking-value');
    // No rule applies to order.shipped: counted, not judged.
    expect(shipped).toMatchObject({ type: 'order.shipped', events: 1, checked: 0, validPercent: 100 });
    expect(monitor.report('orders').map((t) => t.type)).toEqual(['order.created', 'order.shipped']);
    expect(monitor.report('refund')).toEqual([]);
  });

  it('finds a drop in the event rate and a jump in a field mean at the buckets where they were made', () => {
    const random = seededRandom(7);
    const monitor = new QualityMonitor({ anomalies: { threshold: 4, season: 0, bucketSeconds: 60 } });
    let id = 0;
    // 120 minutes of about 20 orders a minute, each around 2,500 cents; minute 80 has 2 orders, minute 100's
    // orders cost ten times as much.
    for (let minute = 0; minute < 121; minute++) {
      const count = minute === 80 ? 2 : 18 + Math.floor(random() * 5);
      for (let i = 0; i < count; i++) {
        const amount = (minute === 100 ? 25_000 : 2_500) + Math.round((random() - 0.5) * 400);
        monitor.observe(
          event('order.created', START + minute * MINUTE + i * 1000, { amountCents: amount }, `e${id++}`),
        );
      }
    }
    const [created] = monitor.report();
    const found = created!.anomalies.map((a) => ({
      series: a.series,
      minute: (a.t - START) / MINUTE,
      direction: a.direction,
    }));
    expect(found).toEqual([
      { series: 'order.created count', minute: 80, direction: 'drop' },
      { series: 'order.created amountCents (mean)', minute: 100, direction: 'spike' },
    ]);
    expect(created!.anomalies[1]!.explanation).toMatch(/above/);
  });

  it('treats minutes without events as zero, so an outage shows as a drop', () => {
    const monitor = new QualityMonitor({ anomalies: { threshold: 4, season: 0, bucketSeconds: 60 } });
    const random = seededRandom(3);
    let id = 0;
    for (let minute = 0; minute < 60; minute++) {
      if (minute >= 50 && minute < 53) continue; // three silent minutes
      const count = 10 + Math.floor(random() * 3);
      for (let i = 0; i < count; i++)
        monitor.observe(event('payment.charged', START + minute * MINUTE + i * 1000, {}, `p${id++}`));
    }
    const minutes = monitor.report()[0]!.anomalies.map((a) => (a.t - START) / MINUTE);
    expect(minutes).toEqual([50, 51, 52]);
    const chart = monitor.chart('payment.charged');
    expect(chart?.points).toHaveLength(60);
  });
});
