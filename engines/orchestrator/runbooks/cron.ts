import { ErrorCode, OpsbotError } from '../../../bot/core/errors';

/** A five-field cron expression that does not parse, or that names a day no month has. */
export class CronError extends OpsbotError {
  constructor(message: string) {
    super(ErrorCode.InvalidRequest, message);
    this.name = 'CronError';
  }
}

/** A parsed five-field cron expression, evaluated in UTC. */
export interface CronSchedule {
  expression: string;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 0 is Sunday; 7 is read as 0. */
  daysOfWeek: ReadonlySet<number>;
  /**
   * As in Vixie cron: when both day fields are restricted, a day matches either of them; when one starts with
   * `*`, a day must match both (so `0 0 13 * FRI` is every 13th and every Friday, `0 0 * * FRI` only Fridays).
   */
  daysEither: boolean;
}

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

/** Days in each month of a leap year: a schedule is refused only if no year has its day. */
const MAX_DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MINUTE_MS = 60_000;
/** February 29th on a given weekday can be decades away; nothing valid is further. */
const SEARCH_YEARS = 100;

/**
 * Parses `minute hour day-of-month month day-of-week`: `*`, numbers, ranges `a-b`, steps `*\/n`, `a-b/n` and
 * `a/n` (a to the end, every n), lists `a,b`, and names for months (JAN-DEC) and days (SUN-SAT). No macros
 * (`@daily`) and no seconds. Throws a CronError naming the field at fault.
 */
export function parseCron(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new CronError(
      `'${expression}' has ${parts.length} fields; cron needs 5 (minute hour day month weekday)`,
    );
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = parts.map((part, i) =>
    parseField(part, FIELDS[i] as Field, expression),
  ) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (daysOfWeek.delete(7)) daysOfWeek.add(0);
  const dayOfMonthStar = (parts[2] as string).startsWith('*');
  const dayOfWeekStar = (parts[4] as string).startsWith('*');
  const schedule: CronSchedule = {
    expression,
    minutes,
    hours,
    daysOfMonth,
    months,
    daysOfWeek,
    daysEither: !dayOfMonthStar && !dayOfWeekStar,
  };
  const someDayExists = [...months].some((month) =>
    [...daysOfMonth].some((day) => day <= (MAX_DAYS_IN_MONTH[month - 1] as number)),
  );
  if (!schedule.daysEither && !someDayExists)
    throw new CronError(`'${expression}' never fires: no month has that day`);
  return schedule;
}

/** The first minute strictly after `after` that the schedule fires at (UTC). */
export function nextRun(schedule: string | CronSchedule, after: Date): Date {
  const cron = typeof schedule === 'string' ? parseCron(schedule) : schedule;
  let t = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const limit = after.getTime() + SEARCH_YEARS * 366 * 86_400_000;
  // Each miss jumps to the start of the next candidate month, day or hour, so the loop stays short.
  while (t <= limit) {
    const d = new Date(t);
    const year = d.getUTCFullYear();
    const month = d.getUTCMonth();
    const day = d.getUTCDate();
    const hour = d.getUTCHours();
    if (!cron.months.has(month + 1)) t = Date.UTC(year, month + 1, 1);
    else if (!dayMatches(cron, d)) t = Date.UTC(year, month, day + 1);
    else if (!cron.hours.has(hour)) t = Date.UTC(year, month, day, hour + 1);
    else if (!cron.minutes.has(d.getUTCMinutes())) t += MINUTE_MS;
    else return d;
  }
  throw new CronError(`'${cron.expression}' does not fire in the next ${SEARCH_YEARS} years`);
}

function dayMatches(cron: CronSchedule, d: Date): boolean {
  const byMonth = cron.daysOfMonth.has(d.getUTCDate());
  const byWeek = cron.daysOfWeek.has(d.getUTCDay());
  return cron.daysEither ? byMonth || byWeek : byMonth && byWeek;
}

function parseField(text: string, field: Field, expression: string): Set<number> {
  const values = new Set<number>();
  const fail = (reason: string): never => {
    throw new CronError(`'${expression}': ${field.name} '${text}' ${reason}`);
  };
  for (const item of text.split(',')) {
    const [range, stepText, ...extra] = item.split('/');
    if (extra.length > 0 || range === undefined || range === '') fail('is not a value, range or step');
    const step = stepText === undefined ? 1 : /^\d+$/.test(stepText) ? Number(stepText) : 0;
    if (step < 1) fail('has a step that is not a whole number from 1');
    let from: number;
    let to: number;
    if (range === '*') {
      from = field.min;
      to = field.max;
    } else {
      const [low, high, ...more] = (range as string).split('-');
      if (more.length > 0) fail('has a range with more than one -');
      from =
        value(low as string, field) ?? fail(`has '${low}', not a number from ${field.min} to ${field.max}`);
      to =
        high !== undefined
          ? (value(high, field) ?? fail(`has '${high}', not a number from ${field.min} to ${field.max}`))
          : stepText !== undefined
            ? field.max
            : from;
      if (from > to) fail(`has a range from ${from} down to ${to}`);
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function value(text: string, field: Field): number | undefined {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
  const n = named >= 0 ? named + field.min : /^\d+$/.test(text) ? Number(text) : NaN;
  return n >= field.min && n <= field.max ? n : undefined;
}
