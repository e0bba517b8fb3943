/** Bad input on the command line: printed as one line, exit code 2, nothing written to stdout before it. */
export class UsageError extends Error {}

export function fail(message: string, exitCode = 2): never {
  process.stderr.write(`opsbot: ${message.split('\n')[0]}\n`);
  process.exit(exitCode);
}
