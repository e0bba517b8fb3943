import * as chrono from 'chrono-node';
import type { DurationSpan } from './durations';

export interface TimeRangeSpan {
  start: number;
  end: number;
  /** ISO start, and "/" + ISO end when the text gives one ("from 01:00 to 01:30"); a named window as written. */
  value: string;
}

/** Words that make a time a range ("until tomorrow 9am") belong to the span; neutral ones ("on", "at") do not. */
const DIRECTION_BEFORE =
  /\b(?:since|until|till|til|before|after|between\s+\S+\s+and|early|late|(?:this|the|next|last)(?=\s+weekend))\s+(?:the\s+)?$/i;
const NEUTRAL_LEADING = /^(?:on|at|for|over|in)\s+/i;
/** chrono reads these alone as times; on their own they are greetings ("morning all") or HTTP codes ("504s"). */
const NOT_A_TIME = /^(?:morning|afternoon|evening|night|noon|(?:right\s+)?now|\d{1,4}s?)$/i;
/** "next week" is a calendar week, not seven days from now: a time range even though it reads as a length. */
const CALENDAR_WEEK = /^(?:next|last|this)\s+week$/i;
/** chrono reads "between 22:00 and 06:00" as two times; the window is the whole phrase. */
const BETWEEN = /\bbetween\s+(\d{1,2}(?::\d{2})?\s*(?:am|pm)?)\s+and\s+(\d{1,2}(?::\d{2})?\s*(?:am|pm)?)\b/gi;
/** Calendar words chrono does not know but on-call engineers plan around. */
const NAMED_WINDOWS =
  /\b(?:(?:this|the|next|last)\s+weekend|black\s+friday|cyber\s+monday|christmas|the\s+holidays|overnight)\b/gi;

/**
 * Times anchored to the clock or the calendar — "until tomorrow 9am", "since midnight", "on friday at 11pm",
 * "last night", "black friday" — with chrono-node. A length ("for 2h", "in the last 15 minutes") is a
 * duration, not a time range, so chrono's readings that overlap one of `durations` (the duration parser's
 * spans of the same text) are dropped.
 */
export function findTimeRanges(
  text: string,
  durations: readonly DurationSpan[],
  now: Date = new Date(),
): TimeRangeSpan[] {
  const spans: TimeRangeSpan[] = [];
  const overlaps = (start: number, end: number) => spans.some((s) => s.start < end && start < s.end);
  for (const match of text.matchAll(NAMED_WINDOWS)) {
    spans.push({
      start: withDirection(text, match.index),
      end: match.index + match[0].length,
      value: match[0].toLowerCase().replace(/\s+/g, ' '),
    });
  }
  for (const match of text.matchAll(BETWEEN)) {
    const end = match.index + match[0].length;
    if (!overlaps(match.index, end)) {
      spans.push({ start: withDirection(text, match.index), end, value: match[0].toLowerCase() });
    }
  }
  for (const result of chrono.casual.parse(text, now, { forwardDate: true })) {
    let start = result.index;
    let end = result.index + result.text.length;
    const calendarWeek = CALENDAR_WEEK.test(result.text);
    if (!calendarWeek && durations.some((d) => d.start < end && start < d.end)) continue;
    const leading = NEUTRAL_LEADING.exec(result.text);
    if (leading) start += leading[0].length;
    const core = text.slice(start, end).trim();
    const directed = withDirection(text, start);
    if (directed === start && NOT_A_TIME.test(core)) continue;
    start = directed;
    while (end > start && /\s/.test(text[end - 1] ?? '')) end -= 1;
    if (overlaps(start, end)) continue;
    const to = result.end?.date();
    spans.push({
      start,
      end,
      value: `${result.start.date().toISOString()}${to ? `/${to.toISOString()}` : ''}`,
    });
  }
  return mergeAdjacent(
    text,
    spans.sort((a, b) => a.start - b.start),
  );
}

/** Where a span starting at `start` begins once the direction words before it join it: "until late tonight". */
function withDirection(text: string, start: number): number {
  let direction = DIRECTION_BEFORE.exec(text.slice(0, start));
  while (direction) {
    start = direction.index;
    direction = DIRECTION_BEFORE.exec(text.slice(0, start));
  }
  return start;
}

/** "yesterday between 18:00 and 20:00" is one window, though chrono reads two times. */
function mergeAdjacent(text: string, spans: TimeRangeSpan[]): TimeRangeSpan[] {
  const merged: TimeRangeSpan[] = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last && text.slice(last.end, span.start).trim() === '') {
      last.end = span.end;
      last.value = `${last.value} ${span.value}`;
    } else merged.push({ ...span });
  }
  return merged;
}
