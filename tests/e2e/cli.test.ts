import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'opsbot.js');

/** Runs the built CLI as a user would (npm test builds it first). */
function opsbot(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', OPSBOT_CONFIG: path.join(ROOT, 'opsbot.config.yaml'), ...env },
    timeout: 20000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('opsbot CLI', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-cli-'));

  it('nlu --json prints the contract shape', () => {
    const { code, stdout } = opsbot(['nlu', 'scale payments to 5 in prod', '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(Object.keys(result)).toEqual(['text', 'intent', 'confidence', 'entities']);
    expect(result.intent).toBe('scale_service');
    expect(result.entities).toEqual([
      { type: 'service', value: 'payments', text: 'payments', start: 6, end: 14 },
      {
        type: 'replicas',
        value: 5,
        text: expect.stringContaining('5'),
        start: expect.any(Number),
        end: expect.any(Number),
      },
      { type: 'environment', value: 'production', text: 'prod', start: 23, end: 27 },
    ]);
  });

  it('nlu --file reads JSONL and prints one object per line in input order', () => {
    const file = path.join(dir, 'in.jsonl');
    writeFileSync(
      file,
      [
        '{"text":"hello","id":1}',
        '',
        '{"text":"restart orders"}',
        '{"text":"silence KubePodCrashLooping for 2 hours"}',
      ].join('\n'),
    );
    const { code, stdout } = opsbot(['nlu', '--file', file, '--json']);
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.text, l.intent])).toEqual([
      ['hello', 'greeting'],
      ['restart orders', 'restart_service'],
      ['silence KubePodCrashLooping for 2 hours', 'silence_alert'],
    ]);
    expect(lines[2].entities).toContainEqual({
      type: 'duration',
      value: 7200,
      text: '2 hours',
      start: 32,
      end: 39,
    });
  });

  it('exits 2 with one line, and prints nothing, when a JSONL line is bad', () => {
    const file = path.join(dir, 'bad.jsonl');
    writeFileSync(file, '{"text":"hello"}\n{"txt":"oops"}\n');
    const { code, stdout, stderr } = opsbot(['nlu', '--file', file, '--json']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`opsbot: ${file} line 2: needs a "text" string field\n`);
  });

  it('exits 2 for a missing file, unknown options and commands', () => {
    expect(opsbot(['nlu', '--file', path.join(dir, 'missing.jsonl')])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/ENOENT/),
    });
    expect(opsbot(['nlu', 'x', '--bogus'])).toMatchObject({
      code: 2,
      stderr: "opsbot: unknown option '--bogus'\n",
    });
    expect(opsbot(['frobnicate']).code).toBe(2);
  });

  it('ask answers in the terminal and as JSON', () => {
    const text = opsbot(['ask', 'help']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Here's what you can do \(role: operator\):/);
    const json = opsbot(['ask', 'hello', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      reply: { text: expect.stringMatching(/^Hi /) },
      nlu: { intent: 'greeting' },
    });
  });

  it('stops at start-up on a bad configuration, naming the field and the reason', () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'policy:\n  roles: {}\nservices:\n  payments:\n    owners: []\n    environments: {production: {}}\n',
    );
    const { code, stderr } = opsbot(['serve'], { OPSBOT_CONFIG: file });
    expect(code).toBe(2);
    expect(stderr).toBe(
      `opsbot: invalid configuration in ${file}: services.payments.owners: every service needs at least one owner\n`,
    );
  });

  it('mints tokens only with a secret configured', () => {
    expect(opsbot(['token', '--user', 'alice'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/no token secret/),
    });
    const minted = opsbot(['token', '--user', 'alice', '--ttl', '1h'], {
      OPSBOT_TOKEN_SECRET: 'x'.repeat(32),
    });
    expect(minted.code).toBe(0);
    expect(minted.stdout.trim().split('.')).toHaveLength(3);
  });

  describe('platform commands', () => {
    const record = path.join(dir, 'scale-argv.json');
    const config = path.join(dir, 'platform.yaml');
    const raw = parseYaml(readFileSync(path.join(ROOT, 'opsbot.config.yaml'), 'utf8'));
    raw.demo = { enabled: false };
    raw.platform.environments.staging = {
      driver: 'command',
      commands: {
        status: {
          argv: [process.execPath, '-e', `console.log(JSON.stringify({state:'degraded',desired:3,ready:2}))`],
        },
        scale: {
          argv: [
            process.execPath,
            '-e',
            `require('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(process.argv.slice(1)))`,
            '--',
            '{service}',
            '{replicas}',
          ],
        },
      },
    };
    writeFileSync(config, stringifyYaml(raw));
    const env = { OPSBOT_CONFIG: config };

    it('reads and changes a service through the configured driver', () => {
      const status = opsbot(['platform', 'status', 'pay', '-e', 'stg', '--json'], env);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toEqual({
        service: 'payments',
        state: 'degraded',
        replicas: { desired: 3, ready: 2 },
      });
      const scale = opsbot(['platform', 'scale', 'payments', '4', '-e', 'staging'], env);
      expect(scale).toMatchObject({ code: 0, stdout: 'scale of payments to 4 accepted\n' });
      expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual(['payments', '4']);
    });

    it('exits 2 with one line for bad input, and changes nothing', () => {
      expect(opsbot(['platform', 'scale', 'payments', '50', '-e', 'staging'], env)).toMatchObject({
        code: 2,
        stderr: 'opsbot: payments allows 1–10 replicas, not 50\n',
      });
      expect(opsbot(['platform', 'status', 'billing-v2', '-e', 'staging'], env)).toMatchObject({
        code: 2,
        stderr: 'opsbot: "billing-v2" is not a service in the catalog\n',
      });
      expect(opsbot(['platform', 'status', 'payments', '-e', 'development'], env)).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/^opsbot: no platform driver is configured for development/),
      });
      expect(opsbot(['platform', 'restart', 'payments'], env)).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(
          /^opsbot: local services are run by the opsbot server that started them/,
        ),
      });
    });
  });
});
