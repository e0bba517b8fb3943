import { ErrorCode } from '../../bot/core/errors';
import { CronError, nextRun, parseCron } from '../../engines/orchestrator/runbooks/cron';

const at = (iso: string) => new Date(iso);
const next = (expression: string, after: string) => nextRun(expression, at(after)).toISOString();

describe('cron', () => {
  it('expands values, ranges, steps, lists and names', () => {
    const schedule = parseCron('*/15 0-6/3,22 1,15 JAN-mar,dec mon-FRI');
    expect([...schedule.minutes]).toEqual([0, 15, 30, 45]);
    expect([...schedule.hours]).toEqual([0, 3, 6, 22]);
    expect([...schedule.daysOfMonth]).toEqual([1, 15]);
    expect([...schedule.months]).toEqual([1, 2, 3, 12]);
    expect([...schedule.daysOfWeek]).toEqual([1, 2, 3, 4, 5]);
    expect([...parseCron('10/20 * * * *').minutes]).toEqual([10, 30, 50]);
  });

  it('reads day 7 as Sunday', () => {
    expect([...parseCron('0 0 * * 7').daysOfWeek]).toEqual([0]);
    expect(next('0 0 * * 7', '2026-11-21T20:28:54Z')).toBe('2026-11-22T00:00:00.000Z');
  });

  it('finds the next minute strictly after the given time, in UTC', () => {
    expect(next('0 3 * * *', '2026-11-21T20:28:54Z')).toBe('2026-11-22T03:00:00.000Z');
    expect(next('0 3 * * *', '2026-11-22T03:00:00Z')).toBe('2026-11-23T03:00:00.000Z');
    expect(next('*/15 * * * *', '2026-11-21T20:28:54Z')).toBe('2026-11-21T20:30:00.000Z');
    expect(next('* * * * *', '2026-11-21T20:28:00.000Z')).toBe('2026-11-21T20:29:00.000Z');
  });

  it('rolls over months and years', () => {
    expect(next('0 0 1 1 *', '2026-12-31T23:59:30Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(next('30 2 31 * *', '2026-11-01T00:00:00Z')).toBe('2026-12-31T02:30:00.000Z');
  });

  it('waits for a February 29th', () => {
    expect(next('0 12 29 2 *', '2026-03-01T00:00:00Z')).toBe('2028-02-29T12:00:00.000Z');
  });

  it('fires on either day field when both are restricted, as Vixie cron does', () => {
    // 2026-11-13 is a Friday; 2026-11-10 a Tuesday.
    expect(next('0 0 13 * MON', '2026-11-10T00:00:00Z')).toBe('2026-11-13T00:00:00.000Z');
    expect(next('0 0 13 * MON', '2026-11-13T00:00:00Z')).toBe('2026-11-16T00:00:00.000Z');
  });

  it('needs both day fields when one starts with *', () => {
    // Mondays in November 2026: 2, 9, 16, 23, 30; the odd-numbered ones are 9 and 23.
    expect(next('0 0 */2 * MON', '2026-11-01T00:00:00Z')).toBe('2026-11-09T00:00:00.000Z');
    expect(next('0 0 * * MON', '2026-11-03T00:00:00Z')).toBe('2026-11-09T00:00:00.000Z');
  });

  it('accepts a parsed schedule as well as its text', () => {
    const schedule = parseCron('45 23 * * SUN');
    expect(nextRun(schedule, at('2026-11-21T00:00:00Z')).toISOString()).toBe('2026-11-22T23:45:00.000Z');
  });

  it.each([
    ['0 3 * *', /has 4 fields; cron needs 5/],
    ['0 3 * * * *', /has 6 fields/],
    ['60 * * * *', /minute '60' has '60', not a number from 0 to 59/],
    ['0 24 * * *', /hour '24' has '24'/],
    ['0 0 0 * *', /day of month '0'/],
    ['0 0 * 13 *', /month '13'/],
    ['0 0 * * 8', /day of week '8'/],
    ['5-1 * * * *', /minute '5-1' has a range from 5 down to 1/],
    ['*/0 * * * *', /minute '\*\/0' has a step that is not a whole number from 1/],
    ['*/x * * * *', /has a step that is not a whole number/],
    ['0 0 * FOO *', /month 'FOO' has 'FOO'/],
    ['1,,2 * * * *', /minute '1,,2' is not a value, range or step/],
    ['1-2-3 * * * *', /has a range with more than one -/],
    ['0 0 31 2,4 *', /never fires: no month has that day/],
    ['@daily', /has 1 fields/],
  ])('refuses %s, naming the field at fault', (expression, message) => {
    let error: unknown;
    try {
      parseCron(expression);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CronError);
    expect((error as CronError).code).toBe(ErrorCode.InvalidRequest);
    expect((error as CronError).message).toMatch(message);
  });

  it('allows a day that only some months have, in a month that has it', () => {
    expect(next('0 0 31 1-3 *', '2026-02-01T00:00:00Z')).toBe('2026-03-31T00:00:00.000Z');
  });
});
