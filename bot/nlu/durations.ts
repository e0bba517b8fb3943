import { NUMBER_WORD_SOURCE, parseCount } from './numbers';

export interface DurationSpan {
  /** UTF-16 offsets into the scanned text, end exclusive. */
  start: number;
  end: number;
  /** Whole seconds. */
  seconds: number;
}

const SECONDS_PER_UNIT: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

const LONG_UNIT = 'weeks?|wks?|days?|hours?|hrs?|minutes?|mins?|seconds?|secs?';
const AND_A_HALF = '\\s+and\\s+a\\s+half';
const WORD_QUANTITY = `an?|(?:a\\s+)?couple(?:\\s+of)?|${NUMBER_WORD_SOURCE}`;

/**
 * One quantity-and-unit part. Single-letter units ("15m") only follow digits: after a word they would read
 * "a m" as a duration. "last/past/next hour" means one unit, so a metrics range or a silence can say it.
 */
const PART_SOURCE =
  `(?:(?<digits>\\d+(?:\\.\\d+)?)(?<digitsHalf>${AND_A_HALF})?[\\s-]?(?<digitUnit>${LONG_UNIT}|[smhdw])` +
  `|(?<words>${WORD_QUANTITY})(?<wordsHalf>${AND_A_HALF})?[\\s-](?<wordUnit>${LONG_UNIT})` +
  `|half\\s+(?:an?\\s+)?(?<halfUnit>${LONG_UNIT})` +
  `|(?:last|past|next)\\s+(?<singleUnit>week|day|hour|minute))` +
  `(?![a-z])(?<suffixHalf>${AND_A_HALF})?`;

/** A whole expression: parts joined by nothing ("1h30m"), spaces, commas or "and". */
const EXPRESSION = new RegExp(
  `(?<![\\w.])${PART_SOURCE}(?:(?:\\s*,\\s*|\\s+and\\s+|\\s*)${PART_SOURCE.replace(/\?<\w+>/g, '')})*`,
  'gi',
);
const PART = new RegExp(PART_SOURCE, 'gi');

/** "502s" in "throwing 502s" is a plural status code, not eight minutes. */
const HTTP_STATUS_PLURAL = /^[1-5]\d\ds$/i;

/** Every duration expression in the text, in order, with its length in whole seconds. */
export function findDurations(text: string): DurationSpan[] {
  const spans: DurationSpan[] = [];
  EXPRESSION.lastIndex = 0;
  for (let match = EXPRESSION.exec(text); match; match = EXPRESSION.exec(text)) {
    if (HTTP_STATUS_PLURAL.test(match[0])) continue;
    const seconds = sumParts(match[0]);
    if (seconds > 0) spans.push({ start: match.index, end: match.index + match[0].length, seconds });
  }
  return spans;
}

/** The length in whole seconds of the first duration in the text ("2h", "for 30 minutes", "1h30m"). */
export function parseDuration(text: string): number | undefined {
  return findDurations(text)[0]?.seconds;
}

function sumParts(expression: string): number {
  let total = 0;
  PART.lastIndex = 0;
  for (let part = PART.exec(expression); part; part = PART.exec(expression)) {
    const groups = part.groups ?? {};
    const unit = groups.digitUnit ?? groups.wordUnit ?? groups.halfUnit ?? groups.singleUnit ?? '';
    const unitSeconds = SECONDS_PER_UNIT[unit[0]?.toLowerCase() ?? ''] ?? 0;
    let quantity: number;
    if (groups.digits !== undefined) quantity = Number(groups.digits);
    else if (groups.words !== undefined) quantity = wordQuantity(groups.words);
    else quantity = groups.halfUnit !== undefined ? 0.5 : 1;
    if (groups.digitsHalf ?? groups.wordsHalf ?? groups.suffixHalf) quantity += 0.5;
    total += quantity * unitSeconds;
  }
  return Math.round(total);
}

function wordQuantity(words: string): number {
  const word = words.toLowerCase();
  if (word === 'a' || word === 'an') return 1;
  if (word.includes('couple')) return 2;
  return parseCount(word) ?? 0;
}
