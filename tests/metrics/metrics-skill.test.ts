import { askedMetrics, windowOf } from '../../bot/skills/metrics';

const NOW = Date.parse('2024-05-15T09:00:00Z');
const MINUTE = 60_000;

describe('windowOf', () => {
  it('ends a duration now, and defaults to the last 15 minutes', () => {
    expect(windowOf(3600, undefined, NOW)).toEqual({
      start: NOW - 60 * MINUTE,
      end: NOW,
      label: 'last 1 hour',
    });
    expect(windowOf(undefined, undefined, NOW)).toEqual({
      start: NOW - 15 * MINUTE,
      end: NOW,
      label: 'last 15 minutes',
    });
  });

  it('runs a past time to now', () => {
    expect(windowOf(undefined, '2024-05-14T10:00:00.000Z', NOW)).toEqual({
      start: Date.parse('2024-05-14T10:00:00Z'),
      end: NOW,
      label: 'since 2024-05-14 10:00 UTC',
    });
  });

  it('reads a time of day placed later today as yesterday’s, still up to now', () => {
    // "since 14:00" said at 09:00: the NLU reads it forward, to 14:00 today.
    expect(windowOf(undefined, '2024-05-15T14:00:00.000Z', NOW)).toEqual({
      start: Date.parse('2024-05-14T14:00:00Z'),
      end: NOW,
      label: 'since 2024-05-14 14:00 UTC',
    });
  });

  it('moves a given end back with its start and names both', () => {
    // "from 01:00 to 01:30" said at 09:00, read forward to tomorrow.
    expect(windowOf(undefined, '2024-05-16T01:00:00.000Z/2024-05-16T01:30:00.000Z', NOW)).toEqual({
      start: Date.parse('2024-05-15T01:00:00Z'),
      end: Date.parse('2024-05-15T01:30:00Z'),
      label: '2024-05-15 01:00 to 2024-05-15 01:30 UTC',
    });
  });

  it('falls back to the duration for a time it cannot place in the past or cannot parse', () => {
    // A weekday read forward to next week: stepping back a day at a time would land on the wrong day.
    expect(windowOf(1800, '2024-05-20T12:00:00.000Z', NOW).label).toBe('last 30 minutes');
    expect(windowOf(1800, 'last weekend', NOW).label).toBe('last 30 minutes');
  });
});

describe('askedMetrics', () => {
  it('asks for all four, latency as p95, when the text names none', () => {
    expect(askedMetrics('how is checkout doing')).toEqual([
      { metric: 'latency', quantile: 0.95 },
      { metric: 'error_rate' },
      { metric: 'throughput' },
      { metric: 'cpu' },
    ]);
  });

  it('reads the percentile or the median', () => {
    expect(askedMetrics('p99 latency of checkout')).toEqual([{ metric: 'latency', quantile: 0.99 }]);
    expect(askedMetrics('median latency of checkout')).toEqual([{ metric: 'latency', quantile: 0.5 }]);
  });
});
