import { createHmac } from 'node:crypto';
import { detectPii, type DetectOptions } from './detect';
import type { Finding, PiiType } from './finding';

/**
 * How a finding is rewritten:
 * - `mask`: every non-whitespace character becomes the mask character (length and line breaks kept);
 * - `type`: `<EMAIL>`, `<CREDIT_CARD>`, …;
 * - `hash`: a stable pseudonym `<EMAIL:3f9c2a1b>`, HMAC-SHA256 of the normalised value under the policy's salt;
 * - `partial`: like mask, but the last 4 letters or digits stay visible, and separators (- . @ space) too;
 *   values with fewer than 8 letters and digits are masked whole, so partial never shows half a value.
 */
export type RedactionMode = 'mask' | 'type' | 'hash' | 'partial';

export interface RedactionPolicy {
  /** The mode for every type not named in `perType`. */
  readonly default: RedactionMode;
  readonly perType?: Readonly<Partial<Record<PiiType, RedactionMode>>>;
  /** The HMAC key; required (non-empty) when any mode is `hash`. */
  readonly salt?: string | Buffer;
  /** Hex characters of the HMAC kept in a pseudonym: 8 unless given (4..64). */
  readonly hashLength?: number;
  /** The character `mask` and `partial` write: `*` unless given. */
  readonly maskChar?: string;
}

export const DEFAULT_POLICY: RedactionPolicy = { default: 'type' };

/** Throws when the policy cannot be applied: hash mode without a salt, a bad hash length or mask character. */
export function validatePolicy(policy: RedactionPolicy): void {
  const modes = [policy.default, ...Object.values(policy.perType ?? {})];
  for (const mode of modes)
    if (mode !== 'mask' && mode !== 'type' && mode !== 'hash' && mode !== 'partial')
      throw new Error(`unknown redaction mode: ${String(mode)}`);
  if (modes.includes('hash') && (policy.salt === undefined || policy.salt.length === 0))
    throw new Error('redaction policy uses hash mode but has no salt');
  const hashLength = policy.hashLength ?? 8;
  if (!Number.isInteger(hashLength) || hashLength < 4 || hashLength > 64)
    throw new Error(`hashLength must be an integer in 4..64, got ${hashLength}`);
  if (policy.maskChar !== undefined && [...policy.maskChar].length !== 1)
    throw new Error('maskChar must be a single character');
}

/**
 * `text` with every finding rewritten as the policy says. Offsets are UTF-16 code units of `text`. Findings
 * may come in any order; overlapping ones are merged into one span (the higher-scoring finding's type), so
 * nothing inside any finding survives.
 */
export function redactText(text: string, findings: readonly Finding[], policy: RedactionPolicy): string {
  validatePolicy(policy);
  if (findings.length === 0) return text;
  const spans = mergeSpans(text.length, findings);
  let out = '';
  let cursor = 0;
  for (const span of spans) {
    out += text.slice(cursor, span.start);
    out += rewrite(text.slice(span.start, span.end), span.type, policy);
    cursor = span.end;
  }
  return out + text.slice(cursor);
}

/** One line of the CLI contract: the text, what was found in it and its redaction. */
export interface RedactionResult {
  readonly text: string;
  readonly findings: Finding[];
  readonly redacted: string;
}

/** Detects and redacts in one call; the result is the CLI's per-line record. */
export function redactPii(
  text: string,
  policy: RedactionPolicy = DEFAULT_POLICY,
  options?: DetectOptions,
): RedactionResult {
  const findings = detectPii(text, options);
  return { text, findings, redacted: redactText(text, findings, policy) };
}

interface Span {
  start: number;
  end: number;
  type: PiiType;
  score: number;
}

function mergeSpans(length: number, findings: readonly Finding[]): Span[] {
  const sorted: Span[] = [];
  for (const f of findings) {
    const start = Math.max(0, Math.min(length, Math.trunc(f.start)));
    const end = Math.max(0, Math.min(length, Math.trunc(f.end)));
    if (end > start) sorted.push({ start, end, type: f.type, score: f.score });
  }
  sorted.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Span[] = [];
  for (const s of sorted) {
    const last = merged[merged.length - 1];
    if (last && s.start < last.end) {
      if (s.end > last.end) last.end = s.end;
      if (s.score > last.score) {
        last.type = s.type;
        last.score = s.score;
      }
    } else merged.push({ ...s });
  }
  return merged;
}

function modeFor(type: PiiType, policy: RedactionPolicy): RedactionMode {
  return policy.perType?.[type] ?? policy.default;
}

function rewrite(value: string, type: PiiType, policy: RedactionPolicy): string {
  switch (modeFor(type, policy)) {
    case 'type':
      return `<${type.toUpperCase()}>`;
    case 'hash':
      return `<${type.toUpperCase()}:${pseudonym(value, type, policy)}>`;
    case 'mask':
      return mask(value, policy.maskChar ?? '*', 0);
    case 'partial':
      return mask(value, policy.maskChar ?? '*', 4);
  }
}

/** The HMAC-SHA256 of the normalised value under the salt, truncated: the same value always maps alike. */
export function pseudonym(
  value: string,
  type: PiiType,
  policy: Pick<RedactionPolicy, 'salt' | 'hashLength'>,
): string {
  if (policy.salt === undefined || policy.salt.length === 0) throw new Error('pseudonym needs a salt');
  return createHmac('sha256', policy.salt)
    .update(`${type}\u0000${normalise(value, type)}`)
    .digest('hex')
    .slice(0, policy.hashLength ?? 8);
}

/** Spellings of one value that should share a pseudonym: case of emails, separators in numbers. */
function normalise(value: string, type: PiiType): string {
  switch (type) {
    case 'email':
      return value.toLowerCase();
    case 'credit_card':
    case 'us_ssn':
    case 'iban':
      return value.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
    case 'phone':
      return value.replace(/[^\d+]/g, '');
    case 'ip_address':
      return value.toLowerCase();
    default:
      return value;
  }
}

function isAlnumCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Masks by code point (an emoji becomes one mask character). With `keepLast` > 0 (partial), the last
 * `keepLast` ASCII letters/digits stay, and so do separators, when the value has at least 8 of them.
 */
function mask(value: string, maskChar: string, keepLast: number): string {
  let alnum = 0;
  if (keepLast > 0) for (let i = 0; i < value.length; i++) if (isAlnumCode(value.charCodeAt(i))) alnum++;
  const partial = keepLast > 0 && alnum >= 8;
  let seen = 0;
  let out = '';
  for (const ch of value) {
    const c = ch.charCodeAt(0);
    if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t') {
      out += ch;
    } else if (partial && isAlnumCode(c)) {
      seen++;
      out += seen > alnum - keepLast ? ch : maskChar;
    } else if (partial && ch.length === 1 && !isAlnumCode(c) && c < 128) {
      out += ch; // separators: 4111-…, bob@…, 020 …
    } else out += maskChar;
  }
  return out;
}
