import { findDurations, parseDuration } from '../../bot/nlu/durations';

describe('parseDuration', () => {
  it.each([
    ['2 hours', 7200],
    ['2h', 7200],
    ['2H', 7200],
    ['15m', 900],
    ['15 min', 900],
    ['15 mins', 900],
    ['for 30 minutes', 1800],
    ['1h30m', 5400],
    ['1h 30m', 5400],
    ['1 hour and 30 minutes', 5400],
    ['2 hours, 15 minutes', 8100],
    ['90s', 90],
    ['45 secs', 45],
    ['1 second', 1],
    ['a day', 86_400],
    ['3d', 259_200],
    ['half an hour', 1800],
    ['half a day', 43_200],
    ['an hour', 3600],
    ['an hour and a half', 5400],
    ['2 and a half hours', 9000],
    ['1.5h', 5400],
    ['2 weeks', 1_209_600],
    ['1w', 604_800],
    ['a week', 604_800],
    ['a couple of hours', 7200],
    ['two hours', 7200],
    ['forty-five minutes', 2700],
    ['a 15-minute window', 900],
    ['24hrs', 86_400],
    ['for the next hour', 3600],
    ['over the last day', 86_400],
    ['silence it for 10 minutes please', 600],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each([
    ['5'],
    ['30'],
    ['checkout is throwing 502s'],
    ['latency above 500ms'],
    ['5 months'],
    ['p95'],
    ['saga-0042'],
    ['the second replica'],
    ['hours'],
    [''],
  ])('finds no duration in %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('returns the first duration when there are several', () => {
    expect(parseDuration('wait 5m then silence for 2h')).toBe(300);
  });
});

describe('findDurations', () => {
  it('reports each duration with its offsets, excluding the preposition', () => {
    const text = 'mute it for 30 minutes, then again for 1h30m';
    expect(findDurations(text)).toEqual([
      { start: 12, end: 22, seconds: 1800 },
      { start: 39, end: 44, seconds: 5400 },
    ]);
    expect(text.slice(12, 22)).toBe('30 minutes');
    expect(text.slice(39, 44)).toBe('1h30m');
  });

  it('does not read a unit glued to a word as a duration', () => {
    expect(findDurations('x5m p99s v2h')).toEqual([]);
  });
});
