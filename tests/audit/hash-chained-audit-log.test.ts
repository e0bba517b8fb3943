import fs, { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { AuditEntry } from '../../bot/core/audit-trail';
import { createLogger } from '../../bot/core/logger';
import { canonicalJson } from '../../engines/audit/canonical-json';
import {
  AuditLogCorruptError,
  auditRecordHash,
  GENESIS_HASH,
  HashChainedAuditLog,
  readLastLines,
  type AuditRecord,
} from '../../engines/audit/hash-chained-audit-log';
import { verifyAuditLog } from '../../engines/audit/verify-audit-log';

function entry(n: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    action: 'service.restart',
    phase: 'succeeded',
    actor: 'web:alice',
    roles: ['operator'],
    service: 'payments',
    environment: 'production',
    correlationId: `c-${n}`,
    ...extra,
  };
}

function recordsIn(file: string): AuditRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditRecord);
}

/** A logger whose lines the test can read. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')));
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

describe('HashChainedAuditLog', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'opsbot-audit-'));
    file = path.join(dir, 'nested', 'audit.log');
  });
  afterEach(() => jest.restoreAllMocks());

  it('appends chained records, creating the folder', async () => {
    const log = new HashChainedAuditLog({ file });
    log.record(entry(1, { phase: 'requested', runId: 'r-1' }));
    log.record(entry(2, { phase: 'started', runId: 'r-1', stepId: 's-1' }));
    log.record(entry(3, { phase: 'approved', approvalId: 'a-1', details: { b: 1, a: [true, null] } }));
    await log.close();

    const records = recordsIn(file);
    expect(records.map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(records[0]!.prev).toBe(GENESIS_HASH);
    expect(records[1]!.prev).toBe(records[0]!.hash);
    expect(records[2]!.prev).toBe(records[1]!.hash);
    for (const r of records) {
      expect(auditRecordHash(r)).toBe(r.hash);
      expect(Number.isNaN(Date.parse(r.at))).toBe(false);
    }
    expect(records.map((r) => [r.entry.phase, r.entry.runId, r.entry.stepId, r.entry.approvalId])).toEqual([
      ['requested', 'r-1', undefined, undefined],
      ['started', 'r-1', 's-1', undefined],
      ['approved', undefined, undefined, 'a-1'],
    ]);
    expect(records[2]!.entry.details).toEqual({ a: [true, null], b: 1 });
    expect(await verifyAuditLog(file)).toEqual({ ok: true, records: 3, head: records[2]!.hash });
  });

  it('hashes what a record holds, not how its keys happen to be ordered', () => {
    const fields = { seq: 4, at: '2025-01-01T00:00:00.000Z', prev: GENESIS_HASH };
    const one = { ...fields, entry: { ...entry(1), details: { x: 1, y: { p: 1, q: 2 } } } };
    const other = { ...fields, entry: { details: { y: { q: 2, p: 1 }, x: 1 }, ...entry(1) } };
    expect(auditRecordHash(one)).toBe(auditRecordHash(other));
    expect(auditRecordHash(one)).not.toBe(auditRecordHash({ ...one, seq: 5 }));
    expect(canonicalJson(JSON.parse(canonicalJson(one)))).toBe(canonicalJson(one));
  });

  it('continues the chain of an existing file after a reopen', async () => {
    const first = new HashChainedAuditLog({ file });
    first.record(entry(1));
    first.record(entry(2));
    await first.close();
    const second = new HashChainedAuditLog({ file });
    second.record(entry(3));
    second.record(entry(4));
    await second.close();

    const records = recordsIn(file);
    expect(records.map((r) => [r.seq, r.entry.correlationId])).toEqual([
      [0, 'c-1'],
      [1, 'c-2'],
      [2, 'c-3'],
      [3, 'c-4'],
    ]);
    expect(records[2]!.prev).toBe(records[1]!.hash);
    expect((await verifyAuditLog(file)).ok).toBe(true);
  });

  it('continues after a last record larger than one tail read', async () => {
    const first = new HashChainedAuditLog({ file });
    first.record(entry(1));
    first.record(entry(2, { details: { output: 'x'.repeat(20_000) } }));
    await first.close();
    const second = new HashChainedAuditLog({ file });
    second.record(entry(3));
    await second.close();
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 3 });
  });

  it('refuses to continue a file whose last line is damaged, or cut short', async () => {
    const log = new HashChainedAuditLog({ file });
    log.record(entry(1));
    log.record(entry(2));
    await log.close();
    const intact = readFileSync(file, 'utf8');

    writeFileSync(file, intact.replace('"c-2"', '"c-9"'));
    expect(() => new HashChainedAuditLog({ file })).toThrow(AuditLogCorruptError);
    expect(() => new HashChainedAuditLog({ file })).toThrow(/last line is damaged \(hash does not match/);

    writeFileSync(file, intact.slice(0, -20));
    expect(() => new HashChainedAuditLog({ file })).toThrow(/last line is cut short/);

    writeFileSync(file, `${intact}not json\n`);
    expect(() => new HashChainedAuditLog({ file })).toThrow(/last line is damaged \(not a JSON record\)/);

    // The refusal leaves the file as it was.
    expect(readFileSync(file, 'utf8')).toBe(`${intact}not json\n`);
  });

  it('never writes a secret to the file, and the redacted records still verify', async () => {
    const secrets = ['hunter2-pw', 'pg-s3cret', 'ghp_0123456789abcdefghij0123456789abcdef', 'tok-777777'];
    const log = new HashChainedAuditLog({ file });
    log.record(
      entry(1, {
        details: {
          password: secrets[0],
          dsn: `postgres://app:${secrets[1]}@db:5432/orders`,
          argv: ['deploy', `--with ${secrets[2]}`],
          headers: { authorization: `Bearer ${secrets[3]}` },
        },
      }),
    );
    await log.close();

    const raw = readFileSync(file, 'utf8');
    for (const secret of secrets) expect(raw).not.toContain(secret);
    expect(raw).toContain('[REDACTED]');
    expect((await verifyAuditLog(file)).ok).toBe(true);
  });

  it('numbers concurrent records in the order record() was called', async () => {
    const log = new HashChainedAuditLog({ file });
    const called: string[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async (_, task) => {
        for (let i = 0; i < 50; i++) {
          const correlationId = `t${task}-${i}`;
          called.push(correlationId);
          log.record({ ...entry(0), correlationId });
          // Let the other tasks, and the group commits, in between.
          if (i % 3 === task % 3) await new Promise((resolve) => setImmediate(resolve));
          else await Promise.resolve();
        }
      }),
    );
    await log.close();

    const records = recordsIn(file);
    expect(records.map((r) => r.seq)).toEqual(called.map((_, i) => i));
    expect(records.map((r) => r.entry.correlationId)).toEqual(called);
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 1000 });
  });

  it('writes everything recorded in one event-loop turn with a single write', async () => {
    const log = new HashChainedAuditLog({ file });
    const writes = jest.spyOn(fs, 'writeSync');
    for (let i = 0; i < 500; i++) log.record(entry(i));
    await log.flush();
    expect(writes).toHaveBeenCalledTimes(1);
    expect(readLastLines(file, 1000).lines).toHaveLength(500);
    await log.close();
  });

  it('keeps a failed write queued and writes it whole later, so the chain has no gap', async () => {
    const { logger, lines } = capturingLogger();
    const log = new HashChainedAuditLog({ file, logger });
    log.record(entry(1));
    await log.flush();
    const realWrite = fs.writeSync;
    jest
      .spyOn(fs, 'writeSync')
      // The log writes Buffers; the cast is past writeSync's overloads.
      .mockImplementationOnce(((fd: number, buffer: Buffer) => {
        // Half of it lands, then the disk is full.
        realWrite(fd, buffer, 0, Math.floor(buffer.length / 2));
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      }) as unknown as typeof fs.writeSync)
      .mockImplementationOnce(() => {
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      });

    expect(() => log.record(entry(2))).not.toThrow();
    log.record(entry(3));
    await expect(log.flush()).rejects.toThrow(/ENOSPC/);
    log.record(entry(4));
    await expect(log.flush()).rejects.toThrow(/ENOSPC/);
    await log.flush();
    await log.close();

    expect(recordsIn(file).map((r) => r.entry.correlationId)).toEqual(['c-1', 'c-2', 'c-3', 'c-4']);
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 4 });
    const failures = lines.filter((l) => l.event === 'audit_log_failed');
    expect(failures).toHaveLength(1);
    expect(lines.filter((l) => l.event === 'audit_log_recovered')).toEqual([
      expect.objectContaining({ failures: 2 }),
    ]);
  });

  it('mirrors every redacted record to the logger, even one the file no longer takes', async () => {
    const { logger, lines } = capturingLogger();
    const log = new HashChainedAuditLog({ file, logger });
    log.record(entry(1, { details: { token: 'tok-1' } }));
    await log.close();
    expect(() => log.record(entry(2))).not.toThrow();

    const audit = lines.filter((l) => l.event === 'audit');
    expect(audit.map((l) => [l.correlationId, l.action, l.phase])).toEqual([
      ['c-1', 'service.restart', 'succeeded'],
      ['c-2', 'service.restart', 'succeeded'],
    ]);
    expect(audit[0]!.details).toEqual({ token: '[REDACTED]' });
    expect(lines).toContainEqual(
      expect.objectContaining({ event: 'audit_log_failed', error: 'the audit log is closed' }),
    );
    expect(recordsIn(file)).toHaveLength(1);
  });

  it("with fdatasync 'always', flush resolves with everything written", async () => {
    const log = new HashChainedAuditLog({ file, fdatasync: 'always' });
    log.record(entry(1));
    log.record(entry(2));
    await log.flush();
    expect(recordsIn(file)).toHaveLength(2);
    log.record(entry(3));
    await log.close();
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 3 });
  });
});

describe('readLastLines', () => {
  it('reads the last lines of a file from its end, across reads', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-audit-tail-'));
    const file = path.join(dir, 'lines.txt');
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'é'.repeat(i % 7)}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    expect(readLastLines(file, 3)).toEqual({ lines: lines.slice(-3), complete: true });
    expect(readLastLines(file, 1500).lines).toEqual(lines.slice(-1500));
    expect(readLastLines(file, 5000).lines).toEqual(lines);

    writeFileSync(file, 'one\ntw');
    expect(readLastLines(file, 1)).toEqual({ lines: ['tw'], complete: false });
    writeFileSync(file, '');
    expect(readLastLines(file, 1)).toEqual({ lines: [], complete: true });
  });
});
