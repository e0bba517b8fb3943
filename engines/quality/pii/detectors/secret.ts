import { clampScore, type Finding } from '../finding';
import { hasContextBefore } from '../context';
import { shannonEntropy } from '../validators';

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

/** A PEM private key block (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP …), or what is left of it when cut short. */
const PEM_PRIVATE_KEY =
  /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END \1PRIVATE KEY(?: BLOCK)?-----|[^]{0,8192})/g;

/** The password in `scheme://user:password@host`; the user name stays, it says which account. */
const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:([^\s/?#@]+)@/gi;

/**
 * `key=value`, `key: value`, `"key": "value"` where the key holds a secret word, matched from the secret word
 * on (db_password matches at "password") with up to 24 more key characters; group 1 is the value.
 */
const KEY_VALUE =
  /(?:(?<![A-Za-z])(?:pass|pwd|pw|auth)|passw(?:or)?d|passphrase|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret|private[_-]?key|credentials?|authorization)(?![a-z])[\w.-]{0,24}["']?[ \t]*(?:=|:(?!\/\/))[ \t]*(?:(?:Bearer|Basic|Token|Digest)[ \t]+)?("[^"\n]*"|'[^'\n]*'|[^\s"',;&<>)\]}]+)/gi;

/** `--password hunter2`, `-p hunter2` on a command line; group 1 is the value. */
const CLI_FLAG =
  /(?<!\S)--(?:password|passwd|pass|token|secret|api-key|access-key|client-secret)[ \t]+([^\s-][^\s]*)/gi;

/** "my password is hunter2", "token was abc123…"; group 1 is the value, accepted only if it looks random. */
const PROSE =
  /\b(?:password|passwd|passphrase|pwd|pw|token|secret|api key)[ \t]+(?:is|was|=|:)[ \t]+([^\s"'`]+)/gi;

/** An `Authorization: Bearer …` value written without its header. */
const BEARER = /\bBearer[ \t]+([A-Za-z0-9\-._~+/]{16,}=*)/g;

/** A bare 40-character AWS-style secret key; needs "aws"/"secret" near to be reported. */
const AWS_SECRET_CANDIDATE = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
const AWS_SECRET_CONTEXT = /aws|secret/i;

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
  while (end > 0 && '.!?:'.includes(value[end - 1] ?? '')) end--;
  return end === value.length ? value : value.slice(0, end);
}

/** A value that looks machine-made: long and high-entropy, or mixing letters with digits or symbols. */
function looksRandom(value: string): boolean {
  if (value.length >= 20 && shannonEntropy(value) >= 3.5) return true;
  if (value.length < 6) return false;
  const hasDigit = /\d/.test(value);
  const hasLetter = /[A-Za-z]/.test(value);
  const hasSymbol = /[^A-Za-z0-9]/.test(value);
  const mixedCase = /[a-z]/.test(value) && /[A-Z]/.test(value);
  return (hasLetter && (hasDigit || hasSymbol)) || (mixedCase && value.length >= 8);
}

/** The score of a value found after a secret-like key. */
function keyValueScore(key: string, value: string): number {
  if (value.length >= 20 && shannonEntropy(value) >= 3.5) {
    if (/aws|secret_?access/i.test(key) && /^[A-Za-z0-9/+]{40}$/.test(value)) return 0.99;
    return 0.97;
  }
  if (/^\d{1,5}$/.test(value)) return 0.4; // token_limit-ish numbers and short PINs
  if (value.length < 3) return 0.45;
  return looksRandom(value) ? 0.9 : 0.8;
}

function push(findings: Finding[], start: number, end: number, score: number): void {
  if (end > start) findings.push({ type: 'secret', start, end, score: clampScore(score) });
}

export function detectSecrets(text: string): Finding[] {
  const findings: Finding[] = [];

  PREFIXED_TOKEN.lastIndex = 0;
  for (let m = PREFIXED_TOKEN.exec(text); m !== null; m = PREFIXED_TOKEN.exec(text)) {
    const token = m[0];
    push(findings, m.index, m.index + token.length, prefixedTokenScore(token));
  }

  if (text.includes('PRIVATE KEY')) {
    PEM_PRIVATE_KEY.lastIndex = 0;
    for (let m = PEM_PRIVATE_KEY.exec(text); m !== null; m = PEM_PRIVATE_KEY.exec(text))
      push(findings, m.index, m.index + m[0].length, 0.99);
  }

  if (text.includes('://')) {
    URL_CREDENTIALS.lastIndex = 0;
    for (let m = URL_CREDENTIALS.exec(text); m !== null; m = URL_CREDENTIALS.exec(text)) {
      const password = m[1] ?? '';
      const end = m.index + m[0].length - 1; // the @
      push(findings, end - password.length, end, PLACEHOLDER.test(password) ? 0.2 : 0.95);
    }
  }

  KEY_VALUE.lastIndex = 0;
  for (let m = KEY_VALUE.exec(text); m !== null; m = KEY_VALUE.exec(text)) {
    const raw = m[1] ?? '';
    const valueStart = m.index + m[0].length - raw.length;
    const key = m[0]
      .slice(0, m[0].length - raw.length)
      .replace(/["'\s:=]+$|(?:Bearer|Basic|Token|Digest)\s+$/gi, '');
    if (NON_SECRET_KEY.test(key.replace(/["'\s:=]+$/, ''))) continue;
    const { value, offset } = unquote(raw);
    // Unquoted values keep trailing punctuation: "password=hunter2!" may well end in "!"; hiding a full stop
    // too costs less than leaking a character.
    const trimmed = value;
    if (trimmed.length === 0 || PLACEHOLDER.test(trimmed) || /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed))
      continue;
    push(findings, valueStart + offset, valueStart + offset + trimmed.length, keyValueScore(key, trimmed));
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

  PROSE.lastIndex = 0;
  for (let m = PROSE.exec(text); m !== null; m = PROSE.exec(text)) {
    const value = trimTrailing(m[1] ?? '');
    if (PLACEHOLDER.test(value) || !looksRandom(value)) continue;
    const start = m.index + m[0].length - (m[1] ?? '').length;
    push(findings, start, start + value.length, 0.8);
  }

  if (text.includes('Bearer')) {
    BEARER.lastIndex = 0;
    for (let m = BEARER.exec(text); m !== null; m = BEARER.exec(text)) {
      const value = m[1] ?? '';
      const start = m.index + m[0].length - value.length;
      push(findings, start, start + value.length, 0.9);
    }
  }

  AWS_SECRET_CANDIDATE.lastIndex = 0;
  for (let m = AWS_SECRET_CANDIDATE.exec(text); m !== null; m = AWS_SECRET_CANDIDATE.exec(text)) {
    const value = m[0];
    if (!/[a-z]/.test(value) || !/[A-Z]/.test(value) || !/\d/.test(value) || shannonEntropy(value) < 4)
      continue;
    const near = hasContextBefore(text, m.index, AWS_SECRET_CONTEXT);
    push(findings, m.index, m.index + value.length, near ? 0.9 : 0.45);
  }

  return findings;
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
