import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AuditEntry } from '../../bot/core/audit-trail';
import {
  auditRecordHash,
  HashChainedAuditLog,
  type AuditRecord,
} from '../../engines/audit/hash-chained-audit-log';
import { verifyAuditLog } from '../../engines/audit/verify-audit-log';

function entry(n: number): AuditEntry {
  return {
    action: 'saga.step',
    phase: 'succeeded',
    actor: 'web:alice',
    roles: ['operator'],
    runId: 'run-1',
    stepId: `step-${n}`,
    details: { n },
    correlationId: `c-${n}`,
  };
}

describe('verifyAuditLog', () => {
  let file: string;
  /** The log's lines as written, without the final line break. */
  let lines: string[];
  let records: AuditRecord[];
  const rewrite = (changed: string[]) => writeFileSync(file, `${changed.join('\n')}\n`);

  beforeEach(async () => {
    file = path.join(mkdtempSync(path.join(tmpdir(), 'opsbot-verify-')), 'audit.log');
    const log = new HashChainedAuditLog({ file });
    for (let n = 0; n < 6; n++) log.record(entry(n));
    await log.close();
    lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    records = lines.map((line) => JSON.parse(line) as AuditRecord);
  });

  it('reports an intact log with its record count and head', async () => {
    expect(await verifyAuditLog(file)).toEqual({ ok: true, records: 6, head: records[5]!.hash });
  });

  it('reports an empty log as intact, with no head', async () => {
    writeFileSync(file, '');
    expect(await verifyAuditLog(file)).toEqual({ ok: true, records: 0 });
  });

  it('refuses a file that is not there with a not_found error', async () => {
    await expect(verifyAuditLog(`${file}.missing`)).rejects.toMatchObject({
      code: 'not_found',
      message: `no audit log at ${file}.missing`,
    });
  });

  it('finds an edited field, at its line', async () => {
    rewrite(
      lines.map((line, i) => (i === 3 ? line.replace('"actor":"web:alice"', '"actor":"web:mallory"') : line)),
    );
    expect(await verifyAuditLog(file)).toEqual({
      ok: false,
      records: 3,
      head: records[2]!.hash,
      firstBad: { line: 4, seq: 3, reason: 'hash does not match its contents' },
    });
  });

  it('finds an edit however the line is reformatted around it', async () => {
    const { seq, at, prev, hash, entry: original } = records[1]!;
    const edited = { entry: { ...original, phase: 'failed' }, hash, prev, at, seq };
    rewrite(lines.map((line, i) => (i === 1 ? JSON.stringify(edited, null, 1).replace(/\n/g, ' ') : line)));
    expect((await verifyAuditLog(file)).firstBad).toEqual({
      line: 2,
      seq: 1,
      reason: 'hash does not match its contents',
    });
  });

  it('finds a removed record in the middle', async () => {
    rewrite(lines.filter((_, i) => i !== 2));
    expect(await verifyAuditLog(file)).toMatchObject({
      ok: false,
      records: 2,
      firstBad: {
        line: 3,
        seq: 2,
        reason: expect.stringMatching(/^expected seq 2, found seq 3: a record was removed/),
      },
    });
  });

  it('finds two lines swapped', async () => {
    rewrite([lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)]);
    expect(await verifyAuditLog(file)).toMatchObject({
      ok: false,
      records: 1,
      firstBad: { line: 2, seq: 1 },
    });
  });

  it('finds a record rewritten with a freshly computed hash, at the record after it', async () => {
    const forged = { ...records[2]!, entry: { ...records[2]!.entry, actor: 'web:mallory' } };
    forged.hash = auditRecordHash(forged);
    rewrite(lines.map((line, i) => (i === 2 ? JSON.stringify(forged) : line)));
    expect(await verifyAuditLog(file)).toMatchObject({
      ok: false,
      records: 3,
      firstBad: {
        line: 4,
        seq: 3,
        reason: expect.stringMatching(/^prev is not the hash of the record before it/),
      },
    });
  });

  it('finds a record removed and the rest renumbered and rehashed, where the chain breaks', async () => {
    const kept = records.filter((_, i) => i !== 1);
    const renumbered = kept.map((r, i) => {
      const moved = { ...r, seq: i };
      return { ...moved, hash: auditRecordHash(moved) };
    });
    rewrite(renumbered.map((r) => JSON.stringify(r)));
    expect((await verifyAuditLog(file)).firstBad).toMatchObject({
      line: 2,
      seq: 1,
      reason: expect.stringMatching(/^prev is not/),
    });
  });

  it('finds lines that are not records', async () => {
    for (const [bad, reason] of [
      ['', 'not a JSON record'],
      ['{"seq":2', 'not a JSON record'],
      ['[1,2]', 'not an audit record: not a JSON object'],
      [JSON.stringify({ ...records[2]!, note: 'added' }), 'not an audit record: unexpected field "note"'],
      [JSON.stringify({ ...records[2]!, seq: '2' }), 'not an audit record: seq is not a whole number'],
    ]) {
      rewrite(lines.map((line, i) => (i === 2 ? bad! : line)));
      expect((await verifyAuditLog(file)).firstBad).toEqual({ line: 3, seq: 2, reason });
    }
  });

  it('finds a last line cut short', async () => {
    writeFileSync(file, `${lines.join('\n')}\n`.slice(0, -30));
    expect(await verifyAuditLog(file)).toMatchObject({
      ok: false,
      records: 5,
      firstBad: { line: 6, seq: 5, reason: expect.stringMatching(/^the last line is cut short/) },
    });
    // Only its line break missing: the record is whole, but no writer left it so.
    writeFileSync(file, lines.join('\n'));
    expect((await verifyAuditLog(file)).firstBad).toMatchObject({
      line: 6,
      reason: expect.stringMatching(/cut short/),
    });
  });

  it('with an expected head, finds records removed from the end, which leave a valid chain', async () => {
    const head = records[5]!.hash;
    rewrite(lines.slice(0, 4));
    expect(await verifyAuditLog(file)).toEqual({ ok: true, records: 4, head: records[3]!.hash });
    expect(await verifyAuditLog(file, { expectHead: head })).toEqual({
      ok: false,
      records: 4,
      head: records[3]!.hash,
      firstBad: {
        line: 5,
        seq: 4,
        reason: `the expected head ${head.slice(0, 12)}… is not in the log: records were removed from its end, or it was rewritten`,
      },
    });
    writeFileSync(file, '');
    expect(await verifyAuditLog(file, { expectHead: head })).toMatchObject({
      ok: false,
      firstBad: { line: 1 },
    });
  });

  it('accepts an expected head that more records have followed since', async () => {
    expect(await verifyAuditLog(file, { expectHead: records[2]!.hash })).toEqual({
      ok: true,
      records: 6,
      head: records[5]!.hash,
    });
  });
});
