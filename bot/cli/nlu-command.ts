import type { NluEngine, NluResult } from '../nlu/intents';
import { UsageError } from './exit';
import { readJsonlField } from './jsonl-input';

/** `opsbot nlu "<text>" [--json]` and `opsbot nlu --file in.jsonl --json`. */
export async function runNluCommand(
  nlu: NluEngine,
  text: string | undefined,
  options: { file?: string; json?: boolean },
): Promise<string> {
  if (text !== undefined && options.file) throw new UsageError('give either text or --file, not both');
  if (options.file) {
    const lines: string[] = [];
    // One at a time, in input order: the output is read line by line against the input.
    for (const t of readJsonlField(options.file, 'text'))
      lines.push(format(await nlu.parse(t), options.json));
    return lines.join('\n');
  }
  if (text === undefined || text.trim() === '')
    throw new UsageError('nlu needs the text to analyse, or --file <in.jsonl>');
  return format(await nlu.parse(text), options.json);
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
