import { readFileSync } from 'node:fs';
import type { NluEngine, NluResult } from '../nlu/intents';
import { UsageError } from './exit';

/** `opsbot nlu "<text>" [--json]` and `opsbot nlu --file in.jsonl --json`. */
export function runNluCommand(
  nlu: NluEngine,
  text: string | undefined,
  options: { file?: string; json?: boolean },
): string {
  if (text !== undefined && options.file) throw new UsageError('give either text or --file, not both');
  if (options.file)
    return readBatch(options.file)
      .map((t) => format(nlu.parse(t), options.json))
      .join('\n');
  if (text === undefined || text.trim() === '')
    throw new UsageError('nlu needs the text to analyse, or --file <in.jsonl>');
  return format(nlu.parse(text), options.json);
}

/** Every line is checked before anything is printed, so bad input never leaves half an output behind. */
function readBatch(file: string): string[] {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const texts: string[] = [];
  content.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw new UsageError(`${file} line ${i + 1}: not valid JSON`);
    }
    const text = (record as { text?: unknown } | null)?.text;
    if (typeof text !== 'string') throw new UsageError(`${file} line ${i + 1}: needs a "text" string field`);
    texts.push(text);
  });
  return texts;
}

function format(result: NluResult, json: boolean | undefined): string {
  if (json) {
    return JSON.stringify({
      text: result.text,
      intent: result.intent,
      confidence: result.confidence,
      entities: result.entities.map(({ type, value, text, start, end }) => ({
        type,
        value,
        text,
        start,
        end,
      })),
    });
  }
  const entities = result.entities.map((e) => `${e.type}=${e.value}`).join(' ');
  return `${result.intent} (${result.confidence.toFixed(2)})${entities ? `  ${entities}` : ''}`;
}
