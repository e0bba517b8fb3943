import { HealthHistory, HealthSeries, MAX_DETAIL_CHARS } from '../../engines/maintenance/health-history';

const HTTP = 'http http://127.0.0.1:7101/health';
const TCP = 'tcp 127.0.0.1:5432';

const pass = (check = HTTP) => ({ ok: true, latencyMs: 3, detail: 'HTTP 200 in 3 ms', check });
const fail = (check = HTTP, detail = 'connection refused') => ({ ok: false, latencyMs: 1, detail, check });

describe('HealthSeries', () => {
  it('keeps at most its capacity, dropping the oldest records first', () => {
    const series = new HealthSeries('payments', 'production', 5);
    for (let t = 1; t <= 8; t++) series.recordRound(t * 1000, [t % 2 === 0 ? fail() : pass()]);

    expect(series.size).toBe(5);
    expect(series.last(10).map((r) => r.t)).toEqual([4000, 5000, 6000, 7000, 8000]);
    expect(series.last(2)).toEqual([
      { t: 7000, ok: true, latencyMs: 3, detail: 'HTTP 200 in 3 ms', check: HTTP },
      { t: 8000, ok: false, latencyMs: 1, detail: 'connection refused', check: HTTP },
    ]);
    expect(series.last(0)).toEqual([]);
    expect(series.since(6000).map((r) => r.t)).toEqual([6000, 7000, 8000]);
    expect(series.since(9000)).toEqual([]);
    // Beyond what is kept, since() gives what is kept.
    expect(series.since(0)).toHaveLength(5);
  });

  it('counts a round failed when any of its checks failed, for the failure ratio and the streak', () => {
    const series = new HealthSeries('orders', 'production', 100);
    series.recordRound(1000, [pass(), pass(TCP)]);
    series.recordRound(2000, [pass(), fail(TCP, 'timed out after 1000 ms')]);
    series.recordRound(3000, [fail(), fail(TCP)]);
    series.recordRound(4000, [pass(), pass(TCP)]);

    expect(series.size).toBe(8);
    expect(series.failureRatio()).toBe(0.5);
    expect(series.failureRatio(2000)).toBeCloseTo(2 / 3);
    expect(series.failureRatio(4000)).toBe(0);
    expect(series.failureRatio(5000)).toBeUndefined();
    expect(series.streak()).toEqual({ ok: true, rounds: 1, since: 4000 });
    expect(series.lastTransition()).toEqual({ t: 4000, ok: true });
  });

  it('counts a streak longer than what it keeps, and has no transition before the first change', () => {
    const series = new HealthSeries('search', 'production', 3);
    expect(series.streak()).toBeUndefined();
    for (let t = 1; t <= 10; t++) series.recordRound(t * 1000, [fail()]);
    expect(series.streak()).toEqual({ ok: false, rounds: 10, since: 1000 });
    expect(series.lastTransition()).toBeUndefined();
    expect(series.failureRatio()).toBe(1);

    series.recordRound(11_000, [pass()]);
    expect(series.streak()).toEqual({ ok: true, rounds: 1, since: 11_000 });
    expect(series.lastTransition()).toEqual({ t: 11_000, ok: true });
  });

  it('cuts a long detail so that one odd error cannot grow history', () => {
    const series = new HealthSeries('users', 'production', 2);
    series.recordRound(1000, [fail(HTTP, 'x'.repeat(10_000))]);
    const [record] = series.last(1);
    expect(record!.detail).toHaveLength(MAX_DETAIL_CHARS);
    expect(record!.detail.endsWith('…')).toBe(true);
  });

  it('refuses a capacity under one record', () => {
    expect(() => new HealthSeries('users', 'production', 0)).toThrow(RangeError);
  });
});

describe('HealthHistory', () => {
  it('keeps one series per service and environment, with room for its rounds of all its checks', () => {
    const history = new HealthHistory(2);
    history.of('payments', 'production').recordRound(1000, [pass()]);
    history.of('payments', 'staging', 2).recordRound(1000, [fail(), pass(TCP)]);
    for (const t of [2000, 3000]) history.of('payments', 'production').recordRound(t, [fail()]);
    for (const t of [2000, 3000]) history.of('payments', 'staging').recordRound(t, [pass(), pass(TCP)]);

    expect(
      history
        .find('payments', 'production')
        ?.last(5)
        .map((r) => r.t),
    ).toEqual([2000, 3000]);
    expect(
      history
        .find('payments', 'staging')
        ?.last(5)
        .map((r) => `${r.t} ${r.check}`),
    ).toEqual([`2000 ${HTTP}`, `2000 ${TCP}`, `3000 ${HTTP}`, `3000 ${TCP}`]);
    expect(history.find('payments', 'staging')?.lastTransition()).toEqual({ t: 2000, ok: true });
    expect(history.find('orders', 'production')).toBeUndefined();
    expect(history.all().map((s) => `${s.service}/${s.environment}/${s.capacity}`)).toEqual([
      'payments/production/2',
      'payments/staging/4',
    ]);
  });
});
