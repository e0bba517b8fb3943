import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import { GENESIS_HASH, parseAuditLine } from './hash-chained-audit-log';

export interface AuditLogVerification {
  /** Every record intact and chained, and the expected head (when given) among them. */
  ok: boolean;
  /** Records found intact from the start: all of them when ok. */
  records: number;
  /**
   * The hash of the last intact record; absent for an empty log. Kept somewhere the log's writers cannot
   * reach, it is the expectHead of a later verification.
   */
  head?: string;
  /** Where the chain breaks: the line (from 1), the seq the record there should have, and why. */
  firstBad?: { line: number; seq: number; reason: string };
}

export interface VerifyAuditLogOptions {
  /**
   * A head from an earlier verification: the chain must still pass through it. Removing the last records of a
   * log leaves a chain that is valid on its own; only an anchor kept elsewhere shows they are gone.
   */
  expectHead?: string;
}

const NEWLINE = 10;

/**
 * Reads an audit log line by line (it may be large) and checks every record, stopping at the first that is
 * not right: a line that is not JSON or not a record, a hash that does not match the record's contents (an
 * edit), a seq out of step (a record removed, or lines reordered), a prev that is not the hash of the record
 * before (a record removed, inserted or replaced), a last line cut short. A log still being written is checked
 * as far as it reached when verification started.
 */
export async function verifyAuditLog(
  file: string,
  options: VerifyAuditLogOptions = {},
): Promise<AuditLogVerification> {
  const { size, endsWithNewline } = await extentOf(file);
  let line = 0;
  let head = GENESIS_HASH;
  let headExpected = options.expectHead === undefined;
  /** A bad line that may be the last one, which is then reported as cut short. */
  let deferred: { line: number; reason: string } | undefined;
  const broken = (at: number, reason: string): AuditLogVerification => ({
    ok: false,
    records: at - 1,
    ...(at > 1 ? { head } : {}),
    firstBad: { line: at, seq: at - 1, reason },
  });

  if (size > 0) {
    const input = createReadStream(file, { end: size - 1 });
    const lines = createInterface({ input, crlfDelay: Infinity });
    try {
      for await (const text of lines) {
        if (deferred) return broken(deferred.line, deferred.reason);
        line += 1;
        const parsed = parseAuditLine(text);
        if ('problem' in parsed) {
          if (endsWithNewline) return broken(line, parsed.problem);
          deferred = { line, reason: parsed.problem };
          continue;
        }
        const { seq, prev, hash } = parsed.record;
        const expectedSeq = line - 1;
        if (seq > expectedSeq)
          return broken(
            line,
            `expected seq ${expectedSeq}, found seq ${seq}: a record was removed or the lines were reordered`,
          );
        if (seq < expectedSeq)
          return broken(
            line,
            `expected seq ${expectedSeq}, found seq ${seq}: the lines were reordered or a record repeated`,
          );
        if (prev !== head)
          return broken(
            line,
            'prev is not the hash of the record before it: a record was removed, inserted or replaced',
          );
        head = hash;
        if (hash === options.expectHead) headExpected = true;
      }
    } finally {
      lines.close();
      input.destroy();
    }
  }
  if (!endsWithNewline)
    return broken(
      line,
      'the last line is cut short (no line end): a write was interrupted or the file truncated',
    );
  if (!headExpected)
    return broken(
      line + 1,
      `the expected head ${options.expectHead!.slice(0, 12)}… is not in the log: records were removed from its end, or it was rewritten`,
    );
  return { ok: true, records: line, ...(line > 0 ? { head } : {}) };
}

/** The file's size now, and whether its last byte ends a line (an empty file counts as ending well). */
async function extentOf(file: string): Promise<{ size: number; endsWithNewline: boolean }> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new OpsbotError(ErrorCode.NotFound, `no audit log at ${file}`);
    throw err;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return { size, endsWithNewline: true };
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return { size, endsWithNewline: last[0] === NEWLINE };
  } finally {
    await handle.close();
  }
}
