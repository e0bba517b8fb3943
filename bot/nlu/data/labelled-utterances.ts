import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../core/package-root';
import { ENTITY_TYPES, type EntityType, INTENTS, type Intent } from '../intents';

/**
 * The labelled utterances the intent classifier trains on (train.jsonl) and is scored on (test.jsonl). The
 * build copies only .ts to dist/, so the .jsonl files are found from the package root, never from __dirname.
 */
export const NLU_DATA_DIR = path.join(packageRoot(), 'bot', 'nlu', 'data');

export interface LabelledEntity {
  /** The NLU contract's types; time_range is a span only (no normalised value), see README.md. */
  type: EntityType;
  /** Normalised value: a number for replicas and duration, undefined for time_range, else a string. */
  value: string | number | undefined;
  /** The span as it appears in the plain text. */
  text: string;
  /** UTF-16 offsets into the plain text, end exclusive, like Entity offsets from the NLU. */
  start: number;
  end: number;
}

export interface LabelledUtterance {
  text: string;
  intent: Intent;
  entities: LabelledEntity[];
}

export interface ParsedMarkup {
  text: string;
  entities: LabelledEntity[];
}

const ENTITY_TYPE_SET: ReadonlySet<string> = new Set(ENTITY_TYPES);
const INTENT_SET: ReadonlySet<string> = new Set(INTENTS);
/** Types whose value is a count or whole seconds: the model and the slots compare them as numbers. */
const NUMERIC_TYPES: ReadonlySet<string> = new Set(['replicas', 'duration']);
/** "type" or "type=value"; the value runs to the closing parenthesis and may hold anything else. */
const LABEL = /^([a-z_]+)(?:=(.*))?$/s;

function isEntityType(type: string): type is EntityType {
  return ENTITY_TYPE_SET.has(type);
}

function isIntent(intent: string): intent is Intent {
  return INTENT_SET.has(intent);
}

/**
 * Strips Rasa-style markup — `[span](type)` or `[span](type=value)` — into plain text and entities. Square
 * brackets are reserved for markup: a chat message that needs them cannot be written in this format, which
 * keeps every bracket in the data meaningful. Throws an Error stating the reason and the column.
 */
export function parseMarkup(markup: string): ParsedMarkup {
  let text = '';
  const entities: LabelledEntity[] = [];
  let i = 0;
  while (i < markup.length) {
    const char = markup[i];
    if (char === ']') throw new Error(`unbalanced markup: ']' at column ${i + 1} closes nothing`);
    if (char !== '[') {
      text += char;
      i += 1;
      continue;
    }
    const close = markup.indexOf(']', i + 1);
    const nested = markup.indexOf('[', i + 1);
    if (close < 0) throw new Error(`unbalanced markup: '[' at column ${i + 1} is never closed`);
    if (nested >= 0 && nested < close) {
      throw new Error(
        `unbalanced markup: '[' at column ${nested + 1} opens inside the span at column ${i + 1}`,
      );
    }
    if (markup[close + 1] !== '(') {
      throw new Error(`unbalanced markup: '[…]' at column ${i + 1} is not followed by '(type)'`);
    }
    const paren = markup.indexOf(')', close + 2);
    if (paren < 0) throw new Error(`unbalanced markup: '(' at column ${close + 2} is never closed`);
    const span = markup.slice(i + 1, close);
    const label = markup.slice(close + 2, paren);
    const start = text.length;
    text += span;
    entities.push(entityOf(span, label, start, i + 1));
    i = paren + 1;
  }
  return { text, entities };
}

function entityOf(span: string, label: string, start: number, column: number): LabelledEntity {
  if (span === '') throw new Error(`empty entity span at column ${column}`);
  // A span with outer spaces would teach the model token boundaries no user types.
  if (span.trim() !== span) throw new Error(`entity span "${span}" at column ${column} has outer spaces`);
  const match = LABEL.exec(label);
  if (!match) throw new Error(`malformed entity label "(${label})" at column ${column}`);
  const type = match[1] ?? '';
  const written = match[2];
  if (!isEntityType(type)) throw new Error(`unknown entity type "${type}" at column ${column}`);
  const end = start + span.length;
  if (type === 'time_range') {
    // Anchored times have no agreed normal form yet; a value here would be a convention of one line.
    if (written !== undefined) throw new Error(`time_range takes no value ("${label}" at column ${column})`);
    return { type, value: undefined, text: span, start, end };
  }
  const raw = written ?? span;
  if (raw === '') throw new Error(`empty value for ${type} at column ${column}`);
  if (!NUMERIC_TYPES.has(type)) return { type, value: raw, text: span, start, end };
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
    const unit = type === 'duration' ? 'whole seconds' : 'a whole number';
    throw new Error(`${type} value "${raw}" at column ${column} is not ${unit}`);
  }
  return { type, value, text: span, start, end };
}

/**
 * Reads one JSONL split. A relative path is taken from NLU_DATA_DIR ("train.jsonl"). Any bad line fails the
 * whole load with `file:line: reason`: training on silently skipped lines would change the model unnoticed.
 */
export function loadLabelledUtterances(file: string): LabelledUtterance[] {
  const content = readFileSync(path.resolve(NLU_DATA_DIR, file), 'utf8');
  const utterances: LabelledUtterance[] = [];
  const lines = content.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const where = `${file}:${index + 1}`;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (err) {
      throw new Error(`${where}: bad JSON: ${(err as Error).message}`, { cause: err });
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new Error(`${where}: bad JSON: expected an object with "text" and "intent"`);
    }
    const { text: markup, intent } = record as Record<string, unknown>;
    if (typeof markup !== 'string' || markup.trim() === '') {
      throw new Error(`${where}: "text" must be a non-empty string`);
    }
    if (typeof intent !== 'string' || !isIntent(intent)) {
      throw new Error(`${where}: unknown intent ${JSON.stringify(intent)}`);
    }
    let parsed: ParsedMarkup;
    try {
      parsed = parseMarkup(markup);
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
    }
    utterances.push({ text: parsed.text, intent, entities: parsed.entities });
  }
  return utterances;
}
