import * as chrono from 'chrono-node';
import { findDurations } from './durations';

export interface TimeRangeSpan {
  start: number;
  end: number;
  /** ISO start, and "/" + ISO end when the text gives one ("from 01:00 to 01:30"). */
  value: string;
}

/** Words that make a time a range ("until tomorrow 9am") belong to the span; neutral ones ("on", "at") do not. */
const DIRECTION_BEFORE = /\b(?:since|until|till|til|before|after|from|between\s+\S+\s+and)\s+$/i;
const NEUTRAL_LEADING = /^(?:on|at|for|over|in)\s+/i;
/** Calendar words chrono does not read as dates but on-call engineers use as windows. */
const NAMED_WINDOWS =
  /\b(?:(?:this|the|next|last)\s+weekend|black\s+friday|cyber\s+monday|the\s+holidays)\b/gi;
const PRESENT = /^(?:right\s+)?now$/i;
const WEEKEND_ARTICLE = /\b(?:this|the|next|last)\s+$/i;

/**
 * Times anchored to the clock or the calendar — "until tomorrow 9am", "since midnight", "on friday at 11pm",
 * "last night" — with chrono-node. A length ("for 2h", "in the last 15 minutes") is a duration, not a time
 * range, so anything that reads as a duration is left to the duration parser.
 */
export function findTimeRanges(text: string, now: Date = new Date()): TimeRangeSpan[] {
  const spans: TimeRangeSpan[] = [];
  const durations = findDurations(text);
  for (const result of chrono.casual.parse(text, now, { forwardDate: true })) {
    let start = result.index;
    let end = result.index + result.text.length;
    if (durations.some((d) => d.start < end && start < d.end)) continue;
    // "now" is when the request is made, not a time it names.
    if (PRESENT.test(result.text)) continue;
    const leading = NEUTRAL_LEADING.exec(result.text);
    if (leading) start += leading[0].length;
    const before = text.slice(0, start);
    const direction =
      DIRECTION_BEFORE.exec(before) ?? (/^weekend/i.test(result.text) ? WEEKEND_ARTICLE.exec(before) : null);
    if (direction) start = direction.index;
    while (end > start && /\s/.test(text[end - 1] ?? '')) end -= 1;
    const to = result.end?.date();
    spans.push({
      start,
      end,
      value: `${result.start.date().toISOString()}${to ? `/${to.toISOString()}` : ''}`,
    });
  }
  for (const match of text.matchAll(NAMED_WINDOWS)) {
    const start = match.index;
    const end = start + match[0].length;
    if (spans.some((s) => s.start < end && start < s.end)) continue;
    spans.push({ start, end, value: match[0].toLowerCase().replace(/\s+/g, ' ') });
  }
  return spans.sort((a, b) => a.start - b.start);
}
