/**
 * redact-pii's findings as spans, for scoring beside opsbot's. redact-pii only returns redacted text, so the
 * spans are recovered by replaying its pipeline one built-in pattern at a time, as its SyncRedactor runs them.
 *
 * SyncRedactor applies its regex patterns in a fixed order (the export order of its simple-regexp-patterns),
 * each to the output of the one before, then its name redactor. So a later pattern sees the earlier ones'
 * replacement tokens, not the original text. For each stage this module runs that stage's pattern alone (a
 * SyncRedactor with every other built-in disabled) twice over the stage's input:
 *   1. with the replacement `\u0001$&\u0002`, which wraps each match in two marker characters: the markers'
 *      positions are the stage's matches, exactly as its regex found them;
 *   2. with its own replacement token, which is the real pipeline's next text.
 * Each character of the current text carries the original span it stands for (itself, or the whole value a
 * replacement token replaced), so a stage's match maps back to the original text as the union of what its
 * characters stand for. The replayed output is checked against a plain SyncRedactor (names off) on every
 * text, so a change in the package's composition fails loudly rather than skewing the figures.
 */
import { SyncRedactor } from 'redact-pii';
import * as builtInPatterns from 'redact-pii/lib/built-ins/simple-regexp-patterns';
import type { EvalType, TypedSpan } from './labelled-set';

type PatternName = keyof typeof builtInPatterns;

/** redact-pii pattern → scored type, as the README's mapping table says; the other patterns are dropped. */
export const REDACT_PII_TYPES: Readonly<Partial<Record<PatternName, EvalType>>> = {
  emailAddress: 'email',
  phoneNumber: 'phone',
  creditCardNumber: 'credit_card',
  usSocialSecurityNumber: 'us_ssn',
  ipAddress: 'ip_address',
  credentials: 'secret',
  password: 'secret',
};

/** The name redactor's token; it runs after every regex pattern, so its redactions are only counted. */
const NAME_TOKEN = 'PERSON_NAME';
const OPEN = '\u0001';
const CLOSE = '\u0002';

export interface RedactPiiFindings {
  findings: TypedSpan[];
  /** Findings of patterns that map to none of the seven types, by pattern (`names` for the name redactor). */
  dropped: Record<string, number>;
}

interface Stage {
  name: PatternName;
  marking: SyncRedactor;
  replacing: SyncRedactor;
}

export class RedactPiiSpans {
  private readonly stages: Stage[];
  private readonly regexOnly = new SyncRedactor({ builtInRedactors: { names: { enabled: false } } });
  private readonly full = new SyncRedactor();

  constructor() {
    // Object.keys of the patterns module is the order SyncRedactor composes them in.
    const names = Object.keys(builtInPatterns) as PatternName[];
    const only = (name: PatternName) => ({
      ...Object.fromEntries(names.map((other) => [other, { enabled: other === name }])),
      names: { enabled: false },
    });
    this.stages = names.map((name) => ({
      name,
      marking: new SyncRedactor({ builtInRedactors: only(name), globalReplaceWith: `${OPEN}$&${CLOSE}` }),
      replacing: new SyncRedactor({ builtInRedactors: only(name) }),
    }));
  }

  /** What redact-pii's default SyncRedactor redacts in `text`, as spans of `text`. */
  find(text: string): RedactPiiFindings {
    if (text.includes(OPEN) || text.includes(CLOSE))
      throw new Error('redact-pii spans: the text contains the marker characters U+0001/U+0002');
    const findings: TypedSpan[] = [];
    const dropped: Record<string, number> = {};
    let current = text;
    // For each character of `current`, the original span it stands for.
    let fromStart = Array.from({ length: text.length }, (_, i) => i);
    let fromEnd = Array.from({ length: text.length }, (_, i) => i + 1);
    for (const stage of this.stages) {
      const matches = markedMatches(stage.marking.redact(current));
      if (matches.length === 0) continue;
      const next = stage.replacing.redact(current);
      const kept = current.length - matches.reduce((n, m) => n + m.end - m.start, 0);
      const tokenLength = (next.length - kept) / matches.length;
      if (!Number.isInteger(tokenLength))
        throw new Error(`redact-pii spans: cannot align the ${stage.name} stage's output`);
      const nextStart: number[] = [];
      const nextEnd: number[] = [];
      let cursor = 0;
      for (const m of matches) {
        for (; cursor < m.start; cursor++) {
          nextStart.push(fromStart[cursor] as number);
          nextEnd.push(fromEnd[cursor] as number);
        }
        let start = Infinity;
        let end = -Infinity;
        for (let i = m.start; i < m.end; i++) {
          start = Math.min(start, fromStart[i] as number);
          end = Math.max(end, fromEnd[i] as number);
        }
        for (let k = 0; k < tokenLength; k++) {
          nextStart.push(start);
          nextEnd.push(end);
        }
        cursor = m.end;
        const type = REDACT_PII_TYPES[stage.name];
        if (type) findings.push({ type, start, end });
        else dropped[stage.name] = (dropped[stage.name] ?? 0) + 1;
      }
      for (; cursor < current.length; cursor++) {
        nextStart.push(fromStart[cursor] as number);
        nextEnd.push(fromEnd[cursor] as number);
      }
      current = next;
      fromStart = nextStart;
      fromEnd = nextEnd;
    }
    if (current !== this.regexOnly.redact(text))
      throw new Error('redact-pii spans: the replayed stages do not give SyncRedactor’s output');
    const names = count(this.full.redact(text), NAME_TOKEN) - count(current, NAME_TOKEN);
    if (names > 0) dropped.names = names;
    return { findings, dropped };
  }
}

/** The matches a marking pass wrapped, as [start, end) of its input (the text without the markers). */
function markedMatches(marked: string): { start: number; end: number }[] {
  const matches: { start: number; end: number }[] = [];
  let position = 0;
  let open = -1;
  for (let i = 0; i < marked.length; i++) {
    const c = marked[i];
    if (c === OPEN) open = position;
    else if (c === CLOSE) {
      if (position > open) matches.push({ start: open, end: position });
    } else position++;
  }
  return matches;
}

function count(text: string, token: string): number {
  return text.split(token).length - 1;
}
