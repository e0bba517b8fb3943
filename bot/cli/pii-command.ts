import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { redactPii, validatePolicy, type RedactionMode } from '../../engines/quality/pii/redact';
import { loadConfig } from '../config/load';
import { UsageError } from './exit';
import { readJsonlField } from './jsonl-input';

const MODES: readonly RedactionMode[] = ['type', 'mask', 'hash', 'partial'];

function threshold(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

interface PiiOptions {
  file?: string;
  json?: boolean;
  mode?: RedactionMode;
  threshold?: number;
}

/**
 * `opsbot pii "<text>"` prints the text redacted; `opsbot pii --file in.jsonl --json` prints, per line,
 * {"text","findings":[{"type","start","end","score"}],"redacted"} with offsets in UTF-16 code units of "text".
 * Modes and threshold come from quality.firewall unless given; every type is looked for, whatever a path's
 * rule says, since this is the tool for checking what the firewall finds.
 */
export function registerPiiCommand(program: Command): void {
  program
    .command('pii')
    .description('find personal data and secrets in text and print it redacted')
    .argument('[text]', 'the text to scan')
    .option('--file <in.jsonl>', 'scan the "text" field of every line of a JSONL file, in order')
    .option('--json', 'print {"text","findings","redacted"} per input as JSON')
    .addOption(
      new Option('--mode <mode>', 'how findings are rewritten (default from quality.firewall)').choices(
        MODES,
      ),
    )
    .option(
      '--threshold <0..1>',
      'minimum confidence of a finding (default from quality.firewall)',
      threshold,
    )
    .action((text: string | undefined, options: PiiOptions) => {
      if ((text === undefined) === (options.file === undefined))
        throw new UsageError('give either the text to scan or --file <in.jsonl>, not both');
      const texts = options.file !== undefined ? readJsonlField(options.file, 'text') : [text as string];
      const { firewall } = loadConfig().config.quality;
      const policy = {
        default: options.mode ?? firewall.redaction.default,
        perType: options.mode ? {} : firewall.redaction.perType,
        ...(firewall.salt ? { salt: firewall.salt } : {}),
      };
      try {
        validatePolicy(policy);
      } catch (err) {
        throw new UsageError(`${(err as Error).message} (set OPSBOT_PII_SALT for hash mode)`);
      }
      const detect = { threshold: options.threshold ?? firewall.threshold };
      const lines = texts.map((t) => {
        const result = redactPii(t, policy, detect);
        return options.json
          ? JSON.stringify({
              text: result.text,
              findings: result.findings.map(({ type, start, end, score }) => ({ type, start, end, score })),
              redacted: result.redacted,
            })
          : result.redacted;
      });
      process.stdout.write(lines.length > 0 ? `${lines.join('\n')}\n` : '');
    });
}
