import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AuditEntry } from '../../bot/core/audit-trail';
import { HashChainedAuditLog, type AuditRecord } from '../../engines/audit/hash-chained-audit-log';

/** `opsbot audit …` as an operator runs it: the built CLI (npm test builds it first) on a log on disk. */
const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'opsbot.js');
const SECRET = 'hunter2-e2e-secret';
/** For the tests that run the CLI more than once: each run loads the whole CLI, seconds on a busy machine. */
const SEVERAL_RUNS_MS = 60_000;

function opsbot(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', OPSBOT_CONFIG: path.join(ROOT, 'opsbot.config.yaml'), ...env },
    timeout: 20_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function entry(n: number): AuditEntry {
  return {
    action: 'service.scale',
    phase: n === 0 ? 'requested' : 'succeeded',
    actor: 'web:alice',
    roles: ['operator'],
    service: 'payments',
    environment: 'production',
    runId: 'run-7',
    details: { replicas: n + 2, password: SECRET },
    correlationId: `c-${n}`,
  };
}

async function writeLog(file: string, count: number): Promise<AuditRecord[]> {
  const log = new HashChainedAuditLog({ file });
  for (let n = 0; n < count; n++) log.record(entry(n));
  await log.close();
  return readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditRecord);
}

describe('opsbot audit CLI', () => {
  let dir: string;
  let file: string;
  let records: AuditRecord[];
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'opsbot-cli-audit-'));
    file = path.join(dir, 'audit.log');
    records = await writeLog(file, 4);
  });

  it('verify exits 0 on an intact log and prints the head to keep', () => {
    const { code, stdout, stderr } = opsbot(['audit', 'verify', '--file', file]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe(`audit log intact: 4 records, head ${records[3]!.hash}\n`);
  });

  it('verify exits 1 and names the line of an edited record', () => {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[2] = lines[2]!.replace('"replicas":4', '"replicas":40');
    writeFileSync(file, lines.join('\n'));
    const { code, stdout } = opsbot(['audit', 'verify', '--file', file]);
    expect(code).toBe(1);
    expect(stdout).toBe('audit log TAMPERED at line 3 (seq 2): hash does not match its contents\n');
  });

  it(
    'verify --expect-head exits 1 when records were cut from the end',
    () => {
      const lines = readFileSync(file, 'utf8').split('\n');
      writeFileSync(file, `${lines.slice(0, 2).join('\n')}\n`);
      expect(opsbot(['audit', 'verify', '--file', file]).code).toBe(0);
      const { code, stdout } = opsbot(['audit', 'verify', '--file', file, '--expect-head', records[3]!.hash]);
      expect(code).toBe(1);
      expect(stdout).toMatch(
        /^audit log TAMPERED at line 3 \(seq 2\): the expected head [0-9a-f]{12}… is not in the log/,
      );
    },
    SEVERAL_RUNS_MS,
  );

  it(
    'verify --json prints the result, with the exit code still saying whether it is intact',
    () => {
      const intact = opsbot(['audit', 'verify', '--file', file, '--json']);
      expect(intact.code).toBe(0);
      expect(JSON.parse(intact.stdout)).toEqual({ ok: true, records: 4, head: records[3]!.hash });

      writeFileSync(file, readFileSync(file, 'utf8').replace('"c-1"', '"c-9"'));
      const tampered = opsbot(['audit', 'verify', '--file', file, '--json']);
      expect(tampered.code).toBe(1);
      expect(JSON.parse(tampered.stdout)).toEqual({
        ok: false,
        records: 1,
        head: records[0]!.hash,
        firstBad: { line: 2, seq: 1, reason: 'hash does not match its contents' },
      });
    },
    SEVERAL_RUNS_MS,
  );

  it('verify reads orchestrator.auditLog under stateDir when no file is given', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'opsbot-cli-audit-state-'));
    await writeLog(path.join(stateDir, 'audit', 'audit.log'), 2);
    const { code, stdout } = opsbot(['audit', 'verify'], { OPSBOT_STATE_DIR: stateDir });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^audit log intact: 2 records, head [0-9a-f]{64}\n$/);
  });

  it(
    'exits 2 with one line for bad input, printing nothing',
    () => {
      for (const [args, message] of [
        [
          ['audit', 'verify', '--file', path.join(dir, 'none.log')],
          `no audit log at ${path.join(dir, 'none.log')}`,
        ],
        [['audit', 'verify', '--file', file, '--expect-head', 'abc'], 'must be a sha256 hash'],
        [['audit', 'tail', '--file', file, '-n', '0'], 'must be a whole number from 1 to 10000'],
      ] as const) {
        const { code, stdout, stderr } = opsbot([...args]);
        expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
        expect(stderr).toMatch(/^opsbot: .*\n$/);
        expect(stderr).toContain(message);
      }
    },
    SEVERAL_RUNS_MS,
  );

  it('tail prints the most recent records readably, oldest first, with secrets redacted', () => {
    const { code, stdout } = opsbot(['audit', 'tail', '--file', file, '-n', '2']);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      `2 ${records[2]!.at} web:alice service.scale succeeded payments in production run run-7 {"password":"[REDACTED]","replicas":4}`,
    );
    expect(lines[1]).toMatch(/^3 .* service\.scale succeeded /);
    expect(stdout).not.toContain(SECRET);
  });

  it('tail --json prints the records as stored', () => {
    const { code, stdout } = opsbot(['audit', 'tail', '--file', file, '--json']);
    expect(code).toBe(0);
    expect(
      stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual(records);
  });
});
