import type { NluEngine, NluResult } from '../nlu/intents';
import { UsageError } from './exit';
import { readJsonlField } from './jsonl-input';

/** `opsbot nlu "<text>" [--json]` and `opsbot nlu --file in.jsonl --json`. */
export function runNluCommand(
  nlu: NluEngine,
  text: string | undefined,
  options: { file?: string; json?: boolean },
): string {
  if (text !== undefined && options.file) throw new UsageError('give either text or --file, not both');
  if (options.file)
    return readJsonlField(options.file, 'text')
      .map((t) => format(nlu.parse(t), options.json))
      .join('\n');
  if (text === undefined || text.trim() === '')
    throw new UsageError('nlu needs the text to analyse, or --file <in.jsonl>');
  return format(nlu.parse(text), options.json);
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
