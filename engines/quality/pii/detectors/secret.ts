import { clampScore, type Finding } from '../finding';
import { shannonEntropy } from '../validators';
import { detectAwsSecretKeys } from './aws-secret-key';
import { findRuns, forEachMatchInRun, SECRET_TOKEN_CHARS } from './runs';

/**
 * Secrets. Spans cover the secret value only: the token, the password in a URL, the value after a secret-like
 * key (never the key name); a PEM private key is covered from its BEGIN line to its END line.
 */

/**
 * Vendor tokens with a fixed prefix, in one pass: AWS access key ids, GitHub, GitLab, Slack, Stripe, Google API
 * keys, npm tokens and JWTs. Not inside a longer identifier.
 */
const PREFIXED_TOKEN =
  /(?<![A-Za-z0-9_-])(?:(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}|gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255}|glpat-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,}|[spr]k_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}|sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}|eyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{8,})(?![A-Za-z0-9_-])/g;

/** The shortest vendor token: `xoxb-` and 10 more. */
const MIN_PREFIXED_TOKEN_LENGTH = 15;

/** A PEM private key block (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP …), or what is left of it when cut short. */
const PEM_PRIVATE_KEY =
  /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END \1PRIVATE KEY(?: BLOCK)?-----|[^]{0,8192})/g;

/**
 * The password in `scheme://user:password@host`; the user name stays, it says which account. Matched from the
 * `://` on (found with indexOf); the scheme before it is checked separately.
 */
const URL_USERINFO = /:\/\/[^\s:/?#@]*:([^\s/?#@]+)@/y;
const URL_VALUE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * A key holding a secret word, matched from the word on (db_password matches at "password") with up to 24 more
 * key characters (group 1), then either
 * - `=` or `:` and a value: `key=value`, `key: value`, `"key": "value"`; group 2 is the value;
 * - or "is"/"was" and a word, as in "my password is hunter2"; group 3 is the word, accepted only after a
 *   word that names a secret itself (PROSE_KEY) and only if it looks random.
 * Both forms are one regex so that the text is scanned for the secret words once.
 */
const KEY_VALUE =
  /((?:(?<![A-Za-z])(?:pass|pwd|pw|auth)|passw(?:or)?d|passphrase|secret|token|api[ _-]?key|access[_-]?key|client[_-]?secret|private[_-]?key|credentials?|authorization)(?![a-z])[\w.-]{0,24})(?:["']?[ \t]*(?:=|:(?!\/\/))[ \t]*(?:(?:Bearer|Basic|Token|Digest)[ \t]+)?("[^"\n]*"|'[^'\n]*'|[^\s"',;&<>)\]}]+)|[ \t]+(?:is|was)[ \t]+([^\s"'`]+))/gi;

/** `--password hunter2`, `-p hunter2` on a command line; group 1 is the value. */
const CLI_FLAG =
  /(?<!\S)--(?:password|passwd|pass|token|secret|api-key|access-key|client-secret)[ \t]+([^\s-][^\s]*)/gi;

/** An `Authorization: Bearer …` value written without its header. */
const BEARER = /\bBearer[ \t]+([A-Za-z0-9\-._~+/]{16,}=*)/g;

/**
 * The words after which "is <word>" reads as a secret's value. Not "credential" or "auth": "the credential is
 * expired", "auth is disabled" and type predicates (`credential is TokenCredential`) say what something is.
 */
const PROSE_KEY = /^(?:password|passwd|passphrase|pwd|pw|token|secret|api[ _-]?key)$/i;

/** Keys whose value is not the secret itself: its name, path, lifetime, size, type … */
const NON_SECRET_KEY =
  /(?:count|len|length|size|ttl|expir\w*|expires|timeout|type|name|names|file|path|url|uri|endpoint|limit|policy|field|header|prefix|suffix|id|ids|version|format|mode|rotation|enabled|required|hint|label|ref)["']?$/i;

/** Values that stand for a secret without being one: placeholders, templates, redaction marks, null-ish. */
const PLACEHOLDER =
  /^(?:\*+|x{3,}|X{3,}|\.{3}|…|<[^>]*>|\[[^\]]*\]|\$\{[^}]*\}?|\$\(.*\)?|\$[A-Za-z_][A-Za-z0-9_]*|\{\{.*(?:\}\})?|%[A-Za-z_]+%|%s|null|none|nil|undefined|true|false|yes|no|on|off|required|optional|redacted|hidden|changeme|secret|password|token|env|string|empty|""|'')$/i;

const SECRET_WORD_KEY = /passw|passphrase|pwd|pw|secret|token|key|credential|auth/i;

function unquote(value: string): { value: string; offset: number } {
  const q = value.charCodeAt(0);
  if ((q === 34 || q === 39) && value.length >= 2 && value.charCodeAt(value.length - 1) === q)
    return { value: value.slice(1, -1), offset: 1 };
  return { value, offset: 0 };
}

/** Trailing sentence punctuation that belongs to the prose, not to the value. */
function trimTrailing(value: string): string {
  let end = value.length;
  while (end > 0 && '.,;!?:'.includes(value[end - 1] ?? '')) end--;
  return end === value.length ? value : value.slice(0, end);
}

/** How much of a long value is read for its entropy: enough to tell key material from repetition. */
const ENTROPY_SAMPLE = 256;

/** Long and high-entropy: a generated key, token or password. */
function highEntropy(value: string): boolean {
  if (value.length < 20) return false;
  return shannonEntropy(value.length > ENTROPY_SAMPLE ? value.slice(0, ENTROPY_SAMPLE) : value) >= 3.5;
}

/** A value that looks machine-made: long and high-entropy, or mixing letters with digits or symbols. */
function looksRandom(value: string, entropic = highEntropy(value)): boolean {
  if (entropic) return true;
  if (value.length < 6) return false;
  let digit = false;
  let lower = false;
  let upper = false;
  let symbol = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) digit = true;
    else if (c >= 97 && c <= 122) lower = true;
    else if (c >= 65 && c <= 90) upper = true;
    else symbol = true;
  }
  const letter = lower || upper;
  return (letter && (digit || symbol)) || (lower && upper && value.length >= 8);
}

/** One to five digits: a count, a limit or a short PIN rather than a credential. */
function isShortNumber(value: string): boolean {
  if (value.length > 5) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return value.length > 0;
}

/** The score of a value found after a secret-like key. */
function keyValueScore(key: string, value: string): number {
  const entropic = highEntropy(value);
  if (entropic) {
    if (/aws|secret_?access/i.test(key) && /^[A-Za-z0-9/+]{40}$/.test(value)) return 0.99;
    return 0.97;
  }
  if (isShortNumber(value)) return 0.4;
  if (value.length < 3) return 0.45;
  return looksRandom(value, entropic) ? 0.9 : 0.8;
}

function push(findings: Finding[], start: number, end: number, score: number): void {
  if (end > start) findings.push({ type: 'secret', start, end, score: clampScore(score) });
}

export function detectSecrets(text: string): Finding[] {
  const findings: Finding[] = [];

  const tokenRuns = findRuns(text, SECRET_TOKEN_CHARS, MIN_PREFIXED_TOKEN_LENGTH);
  const onToken = (m: RegExpExecArray, start: number) =>
    push(findings, start, start + m[0].length, prefixedTokenScore(m[0]));
  for (let r = 0; r < tokenRuns.length; r += 2)
    forEachMatchInRun(text, tokenRuns[r] as number, tokenRuns[r + 1] as number, PREFIXED_TOKEN, onToken);

  if (text.includes('PRIVATE KEY')) {
    PEM_PRIVATE_KEY.lastIndex = 0;
    for (let m = PEM_PRIVATE_KEY.exec(text); m !== null; m = PEM_PRIVATE_KEY.exec(text))
      push(findings, m.index, m.index + m[0].length, 0.99);
  }

  for (let at = text.indexOf('://'); at > 0; at = text.indexOf('://', at + 3)) {
    if (!hasUrlScheme(text, at)) continue;
    URL_USERINFO.lastIndex = at;
    const m = URL_USERINFO.exec(text);
    if (m === null) continue;
    const password = m[1] ?? '';
    const end = at + m[0].length - 1; // the @
    push(findings, end - password.length, end, PLACEHOLDER.test(password) ? 0.2 : 0.95);
  }

  KEY_VALUE.lastIndex = 0;
  for (let m = KEY_VALUE.exec(text); m !== null; m = KEY_VALUE.exec(text)) {
    const key = m[1] ?? '';
    const word = m[3];
    if (word !== undefined) {
      const value = trimTrailing(word);
      // The secret word must start a word: in `msalToken is ValidMsalToken` it names a type, not a secret.
      if (isLetterCode(text.charCodeAt(m.index - 1)) || !PROSE_KEY.test(key)) continue;
      if (PLACEHOLDER.test(value) || !looksRandom(value)) continue;
      const start = m.index + m[0].length - word.length;
      push(findings, start, start + value.length, 0.8);
      continue;
    }
    const raw = m[2] ?? '';
    const valueStart = m.index + m[0].length - raw.length;
    if (NON_SECRET_KEY.test(key)) continue;
    // Unquoted values keep trailing punctuation: "password=hunter2!" may well end in "!"; hiding a full stop
    // too costs less than leaking a character.
    const { value, offset } = unquote(raw);
    // A URL as the value (token_url=https://…) is where a secret is fetched, not the secret.
    if (value.length === 0 || PLACEHOLDER.test(value) || (value.includes('://') && URL_VALUE.test(value)))
      continue;
    push(findings, valueStart + offset, valueStart + offset + value.length, keyValueScore(key, value));
  }

  if (text.includes('--')) {
    CLI_FLAG.lastIndex = 0;
    for (let m = CLI_FLAG.exec(text); m !== null; m = CLI_FLAG.exec(text)) {
      const value = m[1] ?? '';
      if (PLACEHOLDER.test(value)) continue;
      const start = m.index + m[0].length - value.length;
      push(findings, start, start + value.length, 0.85);
    }
  }

  if (text.includes('Bearer')) {
    BEARER.lastIndex = 0;
    for (let m = BEARER.exec(text); m !== null; m = BEARER.exec(text)) {
      const value = m[1] ?? '';
      const start = m.index + m[0].length - value.length;
      push(findings, start, start + value.length, 0.9);
    }
  }

  for (const finding of detectAwsSecretKeys(text, tokenRuns)) findings.push(finding);

  return findings;
}

function isLetterCode(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isWordCode(c: number): boolean {
  return isLetterCode(c) || (c >= 48 && c <= 57) || c === 95;
}

/** Letters, digits, `+ . -`: what a URL scheme is made of. */
function isSchemeCode(c: number): boolean {
  return isLetterCode(c) || (c >= 48 && c <= 57) || c === 43 || c === 46 || c === 45;
}

/** Whether a URL scheme (a letter, then letters, digits, + . -) ends at the `://` at `at`, as a word. */
function hasUrlScheme(text: string, at: number): boolean {
  let start = at;
  while (isSchemeCode(text.charCodeAt(start - 1))) start--;
  // The scheme starts at its first letter that begins a word (`x+postgres`, not `_postgres`).
  for (let i = start; i < at; i++)
    if (isLetterCode(text.charCodeAt(i)) && !isWordCode(text.charCodeAt(i - 1))) return true;
  return false;
}

/** Scores for the vendor tokens: publishable Stripe keys are public by design, so they score just above 0.5. */
function prefixedTokenScore(token: string): number {
  if (token.startsWith('pk_')) return 0.55;
  if (token.startsWith('eyJ')) return jwtHeaderHasAlg(token) ? 0.97 : 0.8;
  if (token.startsWith('sk_test_') || token.startsWith('rk_test_')) return 0.9;
  return 0.97;
}

function jwtHeaderHasAlg(token: string): boolean {
  const header = token.slice(0, token.indexOf('.'));
  try {
    return Buffer.from(header, 'base64url').toString('utf8').includes('"alg"');
  } catch {
    return false;
  }
}

/** Exported for the tests: whether a key name reads as one whose value is secret. */
export function isSecretKeyName(key: string): boolean {
  return SECRET_WORD_KEY.test(key) && !NON_SECRET_KEY.test(key);
}
