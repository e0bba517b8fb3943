import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import type { LoadTrace } from './load-trace';

/** One sample of a user's trace: the rate from `t` (epoch seconds) until the next sample. */
interface TraceSample {
  t: number;
  rate: number;
}

/** Timestamps above this are taken for milliseconds: as seconds they would lie past the year 5000. */
const MILLISECONDS_THRESHOLD = 1e11;

/**
 * A user's trace: CSV lines `timestamp,rate` (a header line is allowed) or JSON, an array of
 * `{ "timestamp": …, "rate": … }` objects or of `[timestamp, rate]` pairs. A timestamp is epoch seconds (or
 * milliseconds) or an ISO 8601 date. Resampled onto `stepSeconds` steps, each sample holding until the next
 * one and the last one for the median spacing; nothing is interpolated or invented.
 */
export function readTraceFile(file: string, stepSeconds: number): LoadTrace {
  const text = readFileSync(file, 'utf8');
  const samples = (file.toLowerCase().endsWith('.json') ? parseJson(text, file) : parseCsv(text, file)).sort(
    (a, b) => a.t - b.t,
  );
  if (samples.length < 2) {
    throw new OpsbotError(ErrorCode.InvalidRequest, `${file}: a trace needs at least two samples`);
  }
  const spacings = samples.slice(1).map((s, i) => s.t - (samples[i] as TraceSample).t);
  const medianSpacing = [...spacings].sort((a, b) => a - b)[Math.floor(spacings.length / 2)] as number;
  const first = samples[0] as TraceSample;
  const end = (samples.at(-1) as TraceSample).t + medianSpacing;
  const rates = new Float64Array(Math.floor((end - first.t) / stepSeconds));
  let current = 0;
  for (let i = 0; i < rates.length; i += 1) {
    const t = first.t + i * stepSeconds;
    while (current + 1 < samples.length && (samples[current + 1] as TraceSample).t <= t) current += 1;
    rates[i] = (samples[current] as TraceSample).rate;
  }
  return {
    name: path.basename(file),
    source: `${file}: ${samples.length} samples, median spacing ${medianSpacing} s`,
    start: first.t,
    stepSeconds,
    rates,
  };
}

function parseCsv(text: string, file: string): TraceSample[] {
  const samples: TraceSample[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const [timestamp, rate] = line.split(',').map((cell) => cell.trim());
    // A first line whose rate is not a number is a header.
    if (index === 0 && !Number.isFinite(Number(rate))) return;
    samples.push(sample(timestamp, rate, `${file}:${index + 1}`));
  });
  return samples;
}

function parseJson(text: string, file: string): TraceSample[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new OpsbotError(ErrorCode.InvalidJson, `${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(parsed)) {
    throw new OpsbotError(ErrorCode.InvalidRequest, `${file}: expected an array of samples`);
  }
  return parsed.map((entry: unknown, index) => {
    const where = `${file}[${index}]`;
    if (Array.isArray(entry)) return sample(entry[0], entry[1], where);
    if (typeof entry === 'object' && entry !== null) {
      const record = entry as Record<string, unknown>;
      return sample(record.timestamp, record.rate, where);
    }
    throw new OpsbotError(ErrorCode.InvalidRequest, `${where}: expected [timestamp, rate] or an object`);
  });
}

function sample(timestamp: unknown, rate: unknown, where: string): TraceSample {
  const t = epochSeconds(timestamp);
  const value = Number(rate);
  if (t === undefined || !Number.isFinite(value) || value < 0) {
    throw new OpsbotError(
      ErrorCode.InvalidRequest,
      `${where}: expected a timestamp and a non-negative rate, got ${JSON.stringify([timestamp, rate])}`,
    );
  }
  return { t, rate: value };
}

function epochSeconds(timestamp: unknown): number | undefined {
  if (typeof timestamp === 'number' || (typeof timestamp === 'string' && /^\d+(\.\d+)?$/.test(timestamp))) {
    const n = Number(timestamp);
    return n > MILLISECONDS_THRESHOLD ? n / 1000 : n;
  }
  if (typeof timestamp !== 'string') return undefined;
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}
