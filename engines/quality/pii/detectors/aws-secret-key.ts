import { clampScore, type Finding } from '../finding';
import { hasContextBefore } from '../context';
import { shannonEntropy } from '../validators';
import { findRuns, SECRET_TOKEN_CHARS } from './runs';

/**
 * AWS secret access keys: exactly 40 characters of the base64 alphabet, standing alone. They have no prefix,
 * so the shape has to carry the evidence. A candidate next to an AWS word or an AWS access key id (the two are
 * pasted together) needs only to look random; a bare one must look like 30 random bytes in base64: all of
 * upper case, lower case and digits, high entropy, frequent changes of character class (identifiers and
 * paths change class at word boundaries only), and not the base64 of readable text.
 */
const KEY_LENGTH = 40;

/** Character classes of the base64 alphabet, for every UTF-16 code unit; 0 for everything else. */
const UPPER = 1;
const LOWER = 2;
const DIGIT = 3;
const SYMBOL = 4;
const CLASS = new Uint8Array(65536);
for (let c = 65; c <= 90; c++) CLASS[c] = UPPER;
for (let c = 97; c <= 122; c++) CLASS[c] = LOWER;
for (let c = 48; c <= 57; c++) CLASS[c] = DIGIT;
CLASS[43] = SYMBOL; // +
CLASS[47] = SYMBOL; // /

/** Characters that make a neighbouring run part of a longer token: padding, key=, snake_case, a.b, base64url. */
const JOINED_BEFORE = '=_.-';
const JOINED_AFTER = '=_-';

const CONTEXT = /aws|secret/i;
/** An AWS access key id, which is pasted beside its secret key. */
const ACCESS_KEY_ID = /(?:AKIA|ASIA)[A-Z0-9]{16}/;
/** How far from a candidate an access key id is looked for, either side. */
const PAIR_DISTANCE = 100;

/**
 * Random 30-byte keys change character class ~25 times in 40 characters (fewer than 16: about 1 in 600);
 * camelCase identifiers and paths change at word boundaries only, a dozen times or less.
 */
const MIN_CLASS_CHANGES = 16;
/**
 * Identifiers spell words: of a 40-character PascalCase name (BatchV1ApiListJobForAllNamespacesRequest) 20 or
 * more letters are in lower-case runs of three or more; about 1 in 600 random keys come to 20.
 */
const MAX_WORD_LETTERS = 19;
/** Random 40-character base64 strings have ~4.8 bits of entropy per character; below 4.3: about 1 in 2,500. */
const MIN_BARE_ENTROPY = 4.3;
const MIN_CONTEXT_ENTROPY = 4;

const SCORE_WITH_CONTEXT = 0.9;
const SCORE_BARE = 0.6;

/**
 * `tokenRuns` are runs of `SECRET_TOKEN_CHARS` (findRuns pairs), which hold every base64 run; the secret
 * detector passes the ones it found for vendor tokens, so the text is scanned once for both.
 */
export function detectAwsSecretKeys(
  text: string,
  tokenRuns: readonly number[] = findRuns(text, SECRET_TOKEN_CHARS, KEY_LENGTH),
): Finding[] {
  const findings: Finding[] = [];
  for (let r = 0; r < tokenRuns.length; r += 2) {
    const runEnd = tokenRuns[r + 1] as number;
    let start = tokenRuns[r] as number;
    if (runEnd - start < KEY_LENGTH) continue;
    // The maximal base64 runs inside the token run; `_ . -` separate them.
    while (start < runEnd) {
      let end = start;
      while (end < runEnd && CLASS[text.charCodeAt(end)] !== 0) end++;
      if (end - start === KEY_LENGTH && !joined(text, start, end)) {
        const score = candidateScore(text, start);
        if (score > 0) findings.push({ type: 'secret', start, end, score: clampScore(score) });
      }
      start = end + 1;
    }
  }
  return findings;
}

function joined(text: string, start: number, end: number): boolean {
  return (
    (start > 0 && JOINED_BEFORE.includes(text.charAt(start - 1))) ||
    (end < text.length && JOINED_AFTER.includes(text.charAt(end)))
  );
}

/** The candidate's score, or 0 when it does not look like a key at all. */
function candidateScore(text: string, start: number): number {
  let upper = 0;
  let lower = 0;
  let digits = 0;
  let changes = 0;
  let previous = 0;
  let lowerRun = 0;
  let wordLetters = 0;
  for (let k = start; k < start + KEY_LENGTH; k++) {
    const cls = CLASS[text.charCodeAt(k)] as number;
    if (cls === UPPER) upper++;
    else if (cls === LOWER) lower++;
    else if (cls === DIGIT) digits++;
    if (previous !== 0 && cls !== previous) changes++;
    previous = cls;
    if (cls === LOWER) lowerRun++;
    else {
      if (lowerRun >= 3) wordLetters += lowerRun;
      lowerRun = 0;
    }
  }
  if (lowerRun >= 3) wordLetters += lowerRun;
  if (upper === 0 || lower === 0 || digits === 0) return 0;
  const value = text.slice(start, start + KEY_LENGTH);
  const entropy = shannonEntropy(value);
  if (entropy < MIN_CONTEXT_ENTROPY) return 0;
  if (hasContextBefore(text, start, CONTEXT) || nearAccessKeyId(text, start)) return SCORE_WITH_CONTEXT;
  if (
    entropy < MIN_BARE_ENTROPY ||
    changes < MIN_CLASS_CHANGES ||
    wordLetters > MAX_WORD_LETTERS ||
    value.startsWith('eyJ') || // base64 of a JSON object: a cursor or a config blob
    encodesText(value) ||
    followsBase64Line(text, start)
  )
    return 0;
  return SCORE_BARE;
}

function nearAccessKeyId(text: string, start: number): boolean {
  const from = start > PAIR_DISTANCE ? start - PAIR_DISTANCE : 0;
  return ACCESS_KEY_ID.test(text.slice(from, start + KEY_LENGTH + PAIR_DISTANCE));
}

/** Whether the value is the base64 of printable ASCII (an encoded sentence or identifier, not key material). */
function encodesText(value: string): boolean {
  const bytes = Buffer.from(value, 'base64');
  for (const b of bytes) if ((b < 32 || b > 126) && b !== 9 && b !== 10 && b !== 13) return false;
  return true;
}

/**
 * Whether the value is the last line of a base64 body (a certificate or public key in PEM): its line starts
 * with it and the line before is a long base64 line.
 */
function followsBase64Line(text: string, start: number): boolean {
  if (start === 0 || text.charCodeAt(start - 1) !== 10) return false;
  const lineEnd = start - 1 - (text.charCodeAt(start - 2) === 13 ? 1 : 0);
  const lineStart = text.lastIndexOf('\n', lineEnd - 1) + 1;
  if (lineEnd - lineStart < 60) return false;
  for (let k = lineStart; k < lineEnd; k++) {
    const c = text.charCodeAt(k);
    if (CLASS[c] === 0 && c !== 61 /* = */) return false;
  }
  return true;
}
