import { ErrorCode, OpsbotError } from '../../../bot/core/errors';
import type { LabelMatcher } from '../workflow';

/** A matcher that does not parse, or whose regular expression does not compile. */
export class LabelMatcherError extends OpsbotError {
  constructor(message: string) {
    super(ErrorCode.RuleInvalid, message);
    this.name = 'LabelMatcherError';
  }
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MATCHER = /^\s*([^\s=!~]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

/** Compiled once per matcher object: the alert router matches every incoming alert against every rule. */
const compiled = new WeakMap<LabelMatcher, RegExp>();

/**
 * Reads one alert rule, Alertmanager-style, in any of three spellings:
 *
 * - a map of equality matchers: `{ alertname: ServiceDown, severity: critical }`;
 * - a list of matcher strings: `['alertname=~"Payments.*"', 'severity!="info"']`;
 * - one selector string: `'{alertname="ServiceDown", severity!="info"}'` (braces optional).
 *
 * Values may be double-quoted (`\"` and `\\` escape inside) or bare. Regular expressions are anchored at both
 * ends, as in Alertmanager, and must compile. Throws a LabelMatcherError naming the matcher at fault.
 */
export function parseMatchers(value: unknown): LabelMatcher[] {
  if (typeof value === 'string') return splitSelector(value).map(parseMatcher);
  if (Array.isArray(value)) {
    return value.map((item) => {
      if (typeof item !== 'string') {
        throw new LabelMatcherError(
          `${JSON.stringify(item)} is not a matcher string like 'severity!="info"'`,
        );
      }
      const parts = splitSelector(item);
      if (parts.length !== 1) throw new LabelMatcherError(`'${item}': one matcher per list item`);
      return parseMatcher(parts[0] as string);
    });
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).map(([name, expected]) => {
      if (!['string', 'number', 'boolean'].includes(typeof expected)) {
        throw new LabelMatcherError(`${name}: an equality matcher's value must be a string`);
      }
      return checked({ name, op: '=', value: String(expected) });
    });
  }
  throw new LabelMatcherError(
    'an alert rule is a map of labels ({ alertname: X }), a list of matcher strings, or a selector string',
  );
}

/** One matcher string: `name="value"`, `name!=value`, `name=~"regex"`, `name!~"regex"`. */
export function parseMatcher(text: string): LabelMatcher {
  const match = MATCHER.exec(text);
  if (!match)
    throw new LabelMatcherError(`'${text}' is not a matcher like alertname="X" or severity!~"info|none"`);
  const [, name, op, raw] = match as unknown as [string, string, LabelMatcher['op'], string];
  return checked({ name, op, value: unquote(raw, text) });
}

/** Every matcher holds. A label the alert lacks counts as the empty string, as in Alertmanager. */
export function matchesAll(
  matchers: readonly LabelMatcher[],
  labels: Readonly<Record<string, string>>,
): boolean {
  return matchers.every((matcher) => matches(matcher, labels[matcher.name] ?? ''));
}

/** `alertname="ServiceDown"`: how matchers appear in lint output and plans. */
export function formatMatcher(matcher: LabelMatcher): string {
  return `${matcher.name}${matcher.op}${JSON.stringify(matcher.value)}`;
}

function matches(matcher: LabelMatcher, actual: string): boolean {
  switch (matcher.op) {
    case '=':
      return actual === matcher.value;
    case '!=':
      return actual !== matcher.value;
    case '=~':
      return regexOf(matcher).test(actual);
    case '!~':
      return !regexOf(matcher).test(actual);
  }
}

function regexOf(matcher: LabelMatcher): RegExp {
  let regex = compiled.get(matcher);
  if (!regex) {
    regex = anchored(matcher);
    compiled.set(matcher, regex);
  }
  return regex;
}

function anchored(matcher: LabelMatcher): RegExp {
  try {
    return new RegExp(`^(?:${matcher.value})$`);
  } catch (err) {
    throw new LabelMatcherError(`${formatMatcher(matcher)}: ${(err as Error).message}`);
  }
}

function checked(matcher: LabelMatcher): LabelMatcher {
  if (!LABEL_NAME.test(matcher.name)) {
    throw new LabelMatcherError(
      `'${matcher.name}' is not a label name (letters, digits and _; not starting with a digit)`,
    );
  }
  if (matcher.op === '=~' || matcher.op === '!~') compiled.set(matcher, anchored(matcher));
  return matcher;
}

function unquote(raw: string, text: string): string {
  if (!raw.startsWith('"')) {
    if (raw.includes('"'))
      throw new LabelMatcherError(`'${text}': a value with quotes must be quoted as a whole`);
    return raw;
  }
  let value = '';
  for (let i = 1; i < raw.length; i++) {
    const char = raw[i] as string;
    if (char === '\\' && i + 1 < raw.length) {
      const next = raw[i + 1] as string;
      // Other escapes are kept as written: in a regex, `\.` must reach the regex engine intact.
      value += next === '"' || next === '\\' ? next : next === 'n' ? '\n' : `\\${next}`;
      i++;
    } else if (char === '"') {
      if (i !== raw.length - 1) throw new LabelMatcherError(`'${text}': text after the closing quote`);
      return value;
    } else {
      value += char;
    }
  }
  throw new LabelMatcherError(`'${text}': the quoted value is not closed`);
}

/** `{a="1", b=~"x,y"}` → ['a="1"', 'b=~"x,y"']: commas inside quotes stay. */
function splitSelector(selector: string): string[] {
  let text = selector.trim();
  if (text.startsWith('{')) {
    if (!text.endsWith('}')) throw new LabelMatcherError(`'${selector}': the selector's { is not closed`);
    text = text.slice(1, -1);
  }
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quoted && char === '\\') {
      current += char + (text[i + 1] ?? '');
      i++;
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  const matchers = parts.map((part) => part.trim());
  // A trailing comma is allowed, as in PromQL selectors; an empty matcher elsewhere is a typo.
  if (matchers.at(-1) === '' && matchers.length > 1) matchers.pop();
  if (matchers.some((part) => part === '')) throw new LabelMatcherError(`'${selector}': an empty matcher`);
  return matchers;
}
