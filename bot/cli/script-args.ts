/** Argument parsing for the npm scripts (benches, evaluations, training), which are not commander CLIs. */

export type ArgKind = 'string' | 'strings' | 'number' | 'flag';
export type ArgValues<S extends Record<string, ArgKind>> = {
  [K in keyof S]: S[K] extends 'strings'
    ? string[]
    : S[K] extends 'number'
      ? number | undefined
      : S[K] extends 'flag'
        ? boolean
        : string | undefined;
};

/** Bad arguments: one line naming the script on stderr, exit code 2. */
export function usageError(script: string, message: string): never {
  console.error(`${script}: ${message}`);
  process.exit(2);
}

/**
 * `--name value` options ("strings" may repeat, "number" must be a positive number) and `--flag`s. An unknown
 * option, a missing value or a stray word is a usage error.
 */
export function parseArgs<S extends Record<string, ArgKind>>(
  script: string,
  spec: S,
  argv: readonly string[] = process.argv.slice(2),
): ArgValues<S> {
  const out: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(spec))
    out[name] = kind === 'strings' ? [] : kind === 'flag' ? false : undefined;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    const name = word.startsWith('--') ? word.slice(2) : undefined;
    const kind = name === undefined ? undefined : spec[name];
    if (name === undefined || kind === undefined)
      usageError(
        script,
        `unknown argument "${word}" (options: ${Object.keys(spec)
          .map((n) => `--${n}`)
          .join(', ')})`,
      );
    if (kind === 'flag') {
      out[name] = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined || value.startsWith('--')) usageError(script, `--${name} needs a value`);
    if (kind === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n) || n <= 0) usageError(script, `--${name} must be a positive number`);
      out[name] = n;
    } else if (kind === 'strings') (out[name] as string[]).push(value);
    else out[name] = value;
  }
  return out as ArgValues<S>;
}
