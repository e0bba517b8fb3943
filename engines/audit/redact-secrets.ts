/**
 * The audit log's own guarantee that no credential reaches its file: applied to every entry before it is
 * hashed, so the chain covers what was kept and never the secret. It is deliberately small and errs towards
 * hiding too much (a `tokenCount` is redacted too); issue 9's PII and secrets firewall is the full treatment.
 */

export const REDACTED = '[REDACTED]';

/**
 * Keys whose values are secret, matched case-insensitively on the key with `-`, `_`, `.` and spaces taken
 * out: "api_key", "X-Api-Key" and "apiKey" all read "apikey".
 */
const SECRET_KEY =
  /passw(?:or)?d|passphrase|^pwd$|secret|token|apikey|accesskey|privatekey|signingkey|authorization|cookie|credential|sessionid/;

/** A cheap test that lets the common string (a service name, an actor id) skip every pattern below. */
const MIGHT_HOLD_SECRET =
  /:\/\/|bearer|authoriz|AKIA|ASIA|gh[opsur]_|github_pat_|xox[abprs]-|xapp-|[sr]k_(?:live|test)_|whsec_|eyJ|PRIVATE KEY|pass|pwd|secret|token|key|credential/i;

/** Each pattern and what its match becomes; earlier ones run first, so a whole header goes before its parts. */
const SECRET_PATTERNS: [RegExp, string | ((match: string, ...groups: string[]) => string)][] = [
  // A PEM private key block, or what is left of one when the text was cut short.
  [/-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----(?:[\s\S]*?-----END \1PRIVATE KEY-----|[\s\S]*$)/g, REDACTED],
  // The password in a URL (postgres://app:hunter2@db/orders); the user name stays, it says which account.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*):[^\s/?#@]+@/gi, `$1:${REDACTED}@`],
  // An Authorization header written out, whatever its scheme.
  [
    /\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:(?:Bearer|Basic|Digest|Token|Negotiate)\s+)?[^\s"',;]+/gi,
    `$1${REDACTED}`,
  ],
  [/\bBearer\s+[A-Za-z0-9\-._~+/]{8,}=*/gi, `Bearer ${REDACTED}`],
  // AWS access key ids.
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED],
  // GitHub personal, OAuth, app and refresh tokens; fine-grained personal access tokens.
  [/\bgh[opsur]_[A-Za-z0-9]{20,}\b/g, REDACTED],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, REDACTED],
  // Slack bot, user and app tokens.
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/g, REDACTED],
  [/\bxapp-[A-Za-z0-9-]{10,}/g, REDACTED],
  // Stripe secret and restricted keys, and webhook signing secrets.
  [/\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,}/g, REDACTED],
  [/\bwhsec_[A-Za-z0-9]{10,}/g, REDACTED],
  // JSON Web Tokens: a header, a payload and a signature in base64url, the header always starting {" (eyJ).
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g, REDACTED],
  // password=…, "token": "…", api-key: … in query strings, command lines, headers and JSON inside text. The
  // key is matched from its secret word on (db_password matches at "password"): a leading [\w.-]* would make
  // long words quadratic.
  [
    /((?:passw(?:or)?d|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)[\w.-]*["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;"']+)/gi,
    (_match, key: string, value: string) =>
      `${key}${value.startsWith('"') ? `"${REDACTED}"` : value.startsWith("'") ? `'${REDACTED}'` : REDACTED}`,
  ],
];

/** The text with every credential it holds replaced by [REDACTED]. */
export function redactSecretsInText(text: string): string {
  if (!MIGHT_HOLD_SECRET.test(text)) return text;
  let redacted = text;
  for (const [pattern, replacement] of SECRET_PATTERNS)
    redacted =
      typeof replacement === 'string'
        ? redacted.replace(pattern, replacement)
        : redacted.replace(pattern, replacement);
  return redacted;
}

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[-_.\s]/g, ''));
}

/**
 * What each object key becomes: SECRET for a secret key, else the key itself. The same few keys come back in
 * every entry, and the audit log redacts each entry it writes; a key that holds a credential is not cached.
 */
const SECRET = Symbol('secret');
const keyVerdicts = new Map<string, string | typeof SECRET>();
const MAX_CACHED_KEYS = 10_000;

function keyVerdict(key: string): string | typeof SECRET {
  const cached = keyVerdicts.get(key);
  if (cached !== undefined) return cached;
  if (isSecretKey(key)) return remember(key, SECRET);
  const masked = redactSecretsInText(key);
  return masked === key ? remember(key, key) : masked;
}

function remember(key: string, verdict: string | typeof SECRET): string | typeof SECRET {
  if (keyVerdicts.size >= MAX_CACHED_KEYS) keyVerdicts.clear();
  keyVerdicts.set(key, verdict);
  return verdict;
}

/**
 * A copy of `value` as plain JSON data with secrets redacted: values under secret-looking keys, at any depth,
 * become [REDACTED] and every string (object keys too) has its credentials masked. Dates and anything else
 * with toJSON become what JSON would make of them; an Error keeps its name and message, which JSON would drop;
 * a cycle becomes "[Circular]". The input is never changed.
 */
export function redactSecrets<T>(value: T): T {
  return redactValue(value, []) as T;
}

function redactValue(value: unknown, ancestors: object[]): unknown {
  if (typeof value === 'string') return redactSecretsInText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Error) return redactValue({ name: value.name, message: value.message }, ancestors);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return redactValue((value as { toJSON(): unknown }).toJSON(), ancestors);
  if (ancestors.includes(value)) return '[Circular]';
  ancestors.push(value);
  try {
    if (Array.isArray(value)) return value.map((item) => redactValue(item, ancestors));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const verdict = keyVerdict(key);
      if (verdict !== SECRET) copy[verdict] = redactValue(item, ancestors);
      else copy[key] = item === undefined || item === null ? item : REDACTED;
    }
    return copy;
  } finally {
    ancestors.pop();
  }
}
