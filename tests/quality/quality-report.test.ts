import type { Anomaly } from '../../engines/quality/data/anomaly-detector';
import { QualityReport } from '../../engines/quality/data/quality-report';
import { reconcile } from '../../engines/quality/data/reconcile';
import type { Violation } from '../../engines/quality/data/validation-rules';

const HOUR = 3_600_000;
const START = Date.parse('2026-11-20T00:00:00Z');

function violation(check: Violation['check'], field: string, message: string): Violation {
  return { ruleIndex: 0, check, field, message };
}

const RANGE = violation('range', 'amountCents', 'amountCents 0 is below the minimum 1');
const EMAIL = violation('format', 'customer.email', 'customer.email is not a valid email');

function anomaly(t: number, value: number, baseline: number, score: number): Anomaly {
  return {
    t,
    value,
    baseline,
    score,
    direction: score > 0 ? 'spike' : 'drop',
    explanation: `${value} at ${new Date(t).toISOString()} is ${Math.abs(score)} robust σ away from ${baseline}`,
  };
}

/** 1,204 events: 14 of a type no rule covers, 9 invalid among the rest (6 out of range, 3 bad e-mails). */
function ordersReport(): QualityReport {
  const report = new QualityReport('orders', 'event');
  for (let i = 0; i < 1204; i++) {
    const time = START + i * 60_000;
    if (i < 14) report.addValidation([], { line: i + 1, time, checked: false });
    else if (i % 130 === 0 && i < 800) report.addValidation([RANGE], { line: i + 1, time });
    else if (i >= 1100 && i % 50 === 0) report.addValidation([EMAIL], { line: i + 1, time });
    else report.addValidation([], { line: i + 1, time });
  }
  return report;
}

describe('QualityReport validation', () => {
  it('counts records, checked records, validity and violations per check and field', () => {
    const json = ordersReport().toJSON();
    expect(json.validation).toMatchObject({
      records: 1204,
      checked: 1190,
      valid: 1181,
      validPercent: 99.2,
      violations: 9,
      byCheck: [
        { check: 'range', field: 'amountCents', count: 6 },
        { check: 'format', field: 'customer.email', count: 3 },
      ],
    });
    expect(json.validation?.details[0]).toEqual({ line: 131, ...RANGE });
    expect(json.anomalies).toBeUndefined();
    expect(json.reconciliation).toBeUndefined();
  });

  it('says it in one chat line, with counts and field names only', () => {
    expect(ordersReport().summaryText()).toBe(
      'orders: 1,204 events (1,190 checked), 99.2% valid; 9 violations (6 range amountCents, 3 format customer.email)',
    );
  });

  it('never rounds a set with an invalid record up to 100% valid', () => {
    const report = new QualityReport('big');
    for (let i = 0; i < 5000; i++) report.addValidation(i === 0 ? [RANGE] : []);
    expect(report.toJSON().validation?.validPercent).toBe(99.9);
    expect(report.clean()).toBe(false);
  });

  it('names the three largest groups and hints at the rest', () => {
    const report = new QualityReport('x');
    report.addValidation([RANGE, RANGE, RANGE, EMAIL, EMAIL, violation('enum', 'currency', 'm')]);
    report.addValidation([violation('required', 'orderId', 'orderId is missing')]);
    expect(report.summaryText()).toBe(
      'x: 2 records, 0% valid; 7 violations (3 range amountCents, 2 format customer.email, 1 enum currency, …)',
    );
  });

  it('is clean, at 100%, when every record passes', () => {
    const report = new QualityReport('orders', 'event');
    report.addValidation([]);
    expect(report.summaryText()).toBe('orders: 1 event, 100% valid; no violations');
    expect(report.clean()).toBe(true);
  });

  it('charts invalid records per time bucket when records have times', () => {
    const chart = ordersReport().chart();
    expect(chart).toMatchObject({
      type: 'chart',
      title: 'invalid events of orders per hour',
      summary: { min: '0', max: '1', latest: '1' },
    });
    // 1,204 minutes from midnight: 21 hourly buckets, the invalid records counted where they fell.
    expect(chart?.points).toHaveLength(21);
    expect(chart?.points[0]).toEqual({ t: START, v: 0 });
    expect(chart?.points.reduce((sum, p) => sum + p.v, 0)).toBe(9);
  });

  it('has nothing to chart without times or series', () => {
    const report = new QualityReport('x');
    report.addValidation([RANGE]);
    expect(report.chart()).toBeUndefined();
    expect(new QualityReport('empty').summaryText()).toBe('empty: nothing was checked');
  });
});

describe('QualityReport anomalies', () => {
  const points = Array.from({ length: 48 }, (_, i) => ({
    t: START + i * HOUR,
    v: i === 30 ? 412.4 : 100 + i,
  }));
  const found = [anomaly(START + 30 * HOUR, 412.4, 130, 6.2), anomaly(START + 40 * HOUR, 12, 140, -4.1)];

  it('says how many, of which kind, and explains the largest', () => {
    const report = new QualityReport('checkout');
    report.addAnomalies('rps', points, found);
    expect(report.summaryText()).toBe(
      `2 anomalies in rps of checkout (1 spike, 1 drop); the largest: ${found[0]!.explanation}`,
    );
    expect(report.clean()).toBe(false);
    expect(report.toJSON()).toEqual({
      dataset: 'checkout',
      anomalies: [{ series: 'rps', points: 48, anomalies: found }],
    });
  });

  it('charts the series with the most anomalies', () => {
    const report = new QualityReport('checkout');
    report.addAnomalies('latency', points, []);
    report.addAnomalies('rps', points, found);
    expect(report.chart()).toEqual({
      type: 'chart',
      title: 'rps of checkout: 2 anomalies',
      points,
      summary: { min: '100', max: '412', latest: '147' },
    });
  });

  it('says so when a series has none', () => {
    const report = new QualityReport('checkout');
    report.addAnomalies('rps', points, []);
    expect(report.summaryText()).toBe('no anomalies in rps of checkout (48 points)');
    expect(report.clean()).toBe(true);
  });
});

describe('QualityReport reconciliation', () => {
  const customers = [
    { orderId: 'ord-1', sku: 'SKU-1', quantity: 2, email: 'ana@example.com' },
    { orderId: 'ord-2', sku: 'SKU-2', quantity: 1, email: 'ben@example.com' },
    { orderId: 'ord-3', sku: 'SKU-3', quantity: 1, email: 'chloe@example.com' },
  ];
  const inventory = [
    { orderId: 'ord-1', sku: 'SKU-1', quantity: 3 },
    { orderId: 'ord-1', sku: 'SKU-1', quantity: 3 },
    { orderId: 'ord-2', sku: 'SKU-9', quantity: 2 },
    { orderId: 'ord-4', sku: 'SKU-4', quantity: 1 },
  ];

  it('sums the differences up in one line, keys and values left out', () => {
    const result = reconcile(customers, inventory, {
      key: 'orderId',
      leftName: 'customers',
      rightName: 'inventory',
    });
    const report = new QualityReport('customers vs inventory');
    report.setReconciliation(result);
    const text = report.summaryText();
    expect(text).toBe(
      'customers vs inventory by orderId: 2 matched; 1 missing in inventory, 1 missing in customers, ' +
        '1 duplicated key in inventory, 3 mismatched fields (2 quantity, 1 sku)',
    );
    for (const value of ['ord-', 'SKU-', 'example.com']) expect(text).not.toContain(value);
    expect(report.toJSON().reconciliation).toEqual({ ...result, agrees: false });
    expect(report.clean()).toBe(false);
    expect(report.chart()).toBeUndefined();
  });

  it('says they agree when they do', () => {
    const report = new QualityReport('a vs b');
    report.setReconciliation(reconcile(customers, customers, { key: 'orderId' }));
    expect(report.summaryText()).toBe('left vs right by orderId: 3 matched; they agree');
    expect(report.clean()).toBe(true);
  });
});
