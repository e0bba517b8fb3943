import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsageError } from '../../bot/cli/exit';
import { readJsonlField } from '../../bot/cli/jsonl-input';

describe('readJsonlField', () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'opsbot-jsonl-')), 'lines.jsonl');
  writeFileSync(file, '{"query":"dead letters"}\n\n{"query":" "}\n');

  it('keeps an empty value unless told to refuse it', () => {
    expect(readJsonlField(file, 'query')).toEqual(['dead letters', ' ']);
  });

  it('refuses an empty value with the line it is on', () => {
    const read = () => readJsonlField(file, 'query', { nonEmpty: true });
    expect(read).toThrow(UsageError);
    expect(read).toThrow(`${file} line 3: "query" is empty`);
  });
});
