/**
 * Where a detector's regex can match at all. Numbers (phones, cards, SSNs, IPv4), vendor tokens and AWS keys
 * are runs of a few kinds of characters with a minimum length, while most text is words and spaces. Scanning a
 * regex over the whole text tries it at every character; finding the long enough runs first, by skipping, and
 * running the regex only inside them costs a fraction of that.
 */

/**
 * A set of ASCII characters, as a table over every UTF-16 code unit (characters from 128 up are never members):
 * a lookup with no range check is what makes the scans below cheap.
 */
export type CharSet = Uint8Array;

export function charSet(member: (code: number) => boolean): CharSet {
  const set = new Uint8Array(65536);
  for (let c = 0; c < 128; c++) set[c] = member(c) ? 1 : 0;
  return set;
}

/**
 * What vendor tokens (a JWT's parts joined by dots) and AWS secret keys (base64) are made of: letters, digits
 * and `_ . - / +`. The secret detectors share one scan for runs of these.
 */
export const SECRET_TOKEN_CHARS = charSet(
  (c) =>
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 95 ||
    c === 46 ||
    c === 45 ||
    c === 47 ||
    c === 43,
);

/**
 * The maximal runs of members of `set` at least `minLength` long, as [start, end, start, end, …]. A run
 * starting at `i` must cover `i + minLength - 1`, so the window is read backwards from there and the search
 * jumps past the first non-member: text without long runs is passed over many characters at a time.
 */
export function findRuns(text: string, set: CharSet, minLength: number): number[] {
  const runs: number[] = [];
  const n = text.length;
  // Invariant: `i` is 0 or follows a non-member, so a run may start at `i`.
  let i = 0;
  while (i + minLength <= n) {
    let k = i + minLength - 1;
    while (k >= i && set[text.charCodeAt(k)] === 1) k--;
    if (k >= i) {
      i = k + 1;
      continue;
    }
    let end = i + minLength;
    while (end < n && set[text.charCodeAt(end)] === 1) end++;
    runs.push(i, end);
    i = end + 1;
  }
  return runs;
}

/** Characters either side of a run that a regex's look-behind or look-ahead may read. */
const LOOKAROUND_MARGIN = 2;

/**
 * Every match of the global regex `re` inside the run [start, end), as the regex would find them scanning the
 * whole text, provided that its matches consist of run characters only and its look-arounds read at most two
 * characters either side. `onMatch` gets the match and its index in `text`.
 */
export function forEachMatchInRun(
  text: string,
  start: number,
  end: number,
  re: RegExp,
  onMatch: (match: RegExpExecArray, index: number) => void,
): void {
  const from = start > LOOKAROUND_MARGIN ? start - LOOKAROUND_MARGIN : 0;
  const window = text.slice(from, Math.min(text.length, end + LOOKAROUND_MARGIN));
  re.lastIndex = start - from;
  for (let m = re.exec(window); m !== null && m.index < end - from; m = re.exec(window)) {
    onMatch(m, from + m.index);
    if (m[0].length === 0) re.lastIndex++;
  }
}
