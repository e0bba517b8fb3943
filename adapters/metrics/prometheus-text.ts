/**
 * Bodies larger than this are refused. A service's /metrics page is kilobytes; megabytes mean a label
 * cardinality explosion or the wrong URL, and parsing that every few seconds would cost more than it tells.
 */
export const MAX_EXPOSITION_BYTES = 4 * 1024 * 1024;

/** One sample of the text exposition format; `labels` has no prototype, so any label name is safe. */
export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const METRIC_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^([+-]?)inf(?:inity)?$/i;
const NOT_A_NUMBER = /^nan$/i;
const TIMESTAMP = /^-?\d+$/;
const LABEL_ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', n: '\n' };

/**
 * Parses the Prometheus text exposition format 0.0.4. Comment lines (`# HELP`, `# TYPE` and any other) carry
 * nothing a sample needs and are passed over; a line that is not a valid sample is skipped rather than failing
 * the whole page, because one odd exporter line should not blind opsbot to a service. Timestamps are
 * accepted and dropped: the scraper stamps samples with its own clock. Throws only for a body over
 * {@link MAX_EXPOSITION_BYTES}.
 */
export function parsePrometheusText(text: string): PrometheusSample[] {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_EXPOSITION_BYTES) {
    throw new RangeError(`metrics page of ${bytes} bytes is over the ${MAX_EXPOSITION_BYTES}-byte limit`);
  }
  const samples: PrometheusSample[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const sample = parseSampleLine(trimmed);
    if (sample) samples.push(sample);
  }
  return samples;
}

/**
 * A float as Prometheus writes it, in a sample or in a label value such as a histogram's `le`: decimal or
 * exponent notation, `+Inf`/`-Inf`, `NaN`. Undefined for anything else.
 */
export function parsePrometheusFloat(token: string): number | undefined {
  if (DECIMAL.test(token)) return Number(token);
  const infinity = INFINITY.exec(token);
  if (infinity) return infinity[1] === '-' ? -Infinity : Infinity;
  return NOT_A_NUMBER.test(token) ? NaN : undefined;
}

function parseSampleLine(line: string): PrometheusSample | undefined {
  const name = matchAt(METRIC_NAME, line, 0);
  if (!name) return undefined;
  let i = skipSpaces(line, name.length);
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  if (line[i] === '{') {
    const end = parseLabels(line, i + 1, labels);
    if (end === undefined) return undefined;
    i = end;
  } else if (i === name.length) {
    return undefined;
  }
  const [valueToken, timestamp, ...rest] = line.slice(i).trim().split(/\s+/);
  if (valueToken === undefined || rest.length > 0) return undefined;
  if (timestamp !== undefined && !TIMESTAMP.test(timestamp)) return undefined;
  const value = parsePrometheusFloat(valueToken);
  return value === undefined ? undefined : { name, labels, value };
}

/** Reads `name="value", …}` from `start` into `labels`; returns the index after `}`, undefined if malformed. */
function parseLabels(line: string, start: number, labels: Record<string, string>): number | undefined {
  let i = skipSpaces(line, start);
  while (line[i] !== '}') {
    const labelName = matchAt(LABEL_NAME, line, i);
    if (!labelName || labelName in labels) return undefined;
    i = skipSpaces(line, i + labelName.length);
    if (line[i] !== '=') return undefined;
    i = skipSpaces(line, i + 1);
    if (line[i] !== '"') return undefined;
    const quoted = readQuoted(line, i + 1);
    if (!quoted) return undefined;
    labels[labelName] = quoted.value;
    i = skipSpaces(line, quoted.end);
    if (line[i] === ',') i = skipSpaces(line, i + 1);
    else if (line[i] !== '}') return undefined;
  }
  return i + 1;
}

/** A label value up to its closing quote, unescaping `\\`, `\"` and `\n`; other escapes are kept as written. */
function readQuoted(line: string, start: number): { value: string; end: number } | undefined {
  let value = '';
  for (let i = start; i < line.length; i++) {
    const c = line[i];
    if (c === '"') return { value, end: i + 1 };
    if (c === '\\' && i + 1 < line.length) {
      const next = line[i + 1] as string;
      value += LABEL_ESCAPES[next] ?? c + next;
      i++;
    } else {
      value += c;
    }
  }
  return undefined;
}

function matchAt(pattern: RegExp, line: string, index: number): string | undefined {
  pattern.lastIndex = index;
  return pattern.exec(line)?.[0];
}

function skipSpaces(line: string, index: number): number {
  let i = index;
  while (line[i] === ' ' || line[i] === '\t') i++;
  return i;
}
