import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testConfig, testServer } from '../support/runtime';

/**
 * `opsbot runbooks …` and `opsbot sagas …` as a user runs them: the built CLI in its own process. Lint reads
 * runbook files with no server; the rest talk to a real opsbot server whose orchestrator runs runbooks from a
 * temp folder, with the standard actions.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'opsbot.js');
const OPERATOR_KEY = 'cli-orch-operator-key-0123456789';
const VIEWER_KEY = 'cli-orch-viewer-key-0123456789ab';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Asynchronous: the server answering the CLI runs in this process, which a synchronous spawn would stop. */
function opsbot(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const env = {
    ...process.env,
    NO_COLOR: '1',
    OPSBOT_CONFIG: path.join(ROOT, 'opsbot.config.yaml'),
    OPSBOT_API_KEY: OPERATOR_KEY,
    ...options.env,
  };
  return new Promise<Run>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: options.cwd ?? ROOT, encoding: 'utf8', env, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

/** Each run of the CLI starts a Node process that loads all of opsbot: seconds on a busy machine. */
const CLI_TEST_MS = 120_000;
const TODAY = new Date().toISOString().slice(0, 10);

function runbook(frontMatter: string, remediate: string): string {
  return [
    '---',
    frontMatter.trim(),
    'owner: team-platform',
    `last_reviewed: ${TODAY}`,
    '---',
    '',
    '## Symptoms',
    '',
    'Something is wrong.',
    '',
    '## Diagnose',
    '',
    'Look.',
    '',
    '## Remediate',
    '',
    remediate.trim(),
    '',
    '## Verify',
    '',
    'Look again.',
    '',
    '## Rollback',
    '',
    'Nothing to undo.',
    '',
  ].join('\n');
}

/** Posts its message to the run's thread, which a CLI-started run has none of: it succeeds undelivered. */
const ANNOUNCE = runbook(
  `
id: announce
title: Announce a message
description: Posts a message where the run reports.
parameters:
  type: object
  properties:
    message: { type: string, default: hello }
    times: { type: integer, minimum: 1, default: 1 }
  additionalProperties: false
`,
  '```step id=announce action=notify\ntext: "{{ params.message }} x{{ params.times }}"\n```',
);

/** Runs a program while the shell action is off: it fails, for good, on its one attempt. */
const DOOMED = runbook(
  'id: doomed\ntitle: Always fails\ndescription: Runs a program with the shell action off.',
  '```step id=run-it action=shell retries=1\ncommand: "true"\n```',
);

const TYPO = runbook(
  'id: typo\ntitle: Misspelt action\ndescription: Says restrat for restart.',
  '```step id=restart action=restrat\nservice: payments\n```',
);

describe('opsbot runbooks lint', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'opsbot-lint-'));
    mkdirSync(path.join(dir, 'runbooks'));
    writeFileSync(path.join(dir, 'runbooks', 'announce.md'), ANNOUNCE);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'passes sound runbooks (exit 0) and fails on an error (exit 1) with file:line lines and a summary',
    async () => {
      const clean = await opsbot(['runbooks', 'lint', 'runbooks'], { cwd: dir });
      expect(clean).toEqual({ code: 0, stdout: '1 runbook, 0 errors, 0 warnings\n', stderr: '' });

      writeFileSync(path.join(dir, 'runbooks', 'typo.md'), TYPO);
      const fenceLine = TYPO.split('\n').indexOf('```step id=restart action=restrat') + 1;
      const broken = await opsbot(['runbooks', 'lint', 'runbooks'], { cwd: dir });
      expect(broken.code).toBe(1);
      expect(broken.stdout.split('\n')).toEqual([
        expect.stringMatching(
          new RegExp(
            `^runbooks/typo\\.md:${fenceLine}: error: step restart: unknown action 'restrat' \\(known: .*restart`,
          ),
        ),
        '2 runbooks, 1 error, 0 warnings',
        '',
      ]);

      const json = await opsbot(['runbooks', 'lint', path.join(dir, 'runbooks'), '--json'], { cwd: dir });
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toEqual({
        runbooks: 2,
        errors: 1,
        warnings: 0,
        problems: [expect.objectContaining({ file: 'runbooks/typo.md', line: fenceLine, severity: 'error' })],
      });
    },
    CLI_TEST_MS,
  );

  it(
    'refuses a folder that does not exist with exit 2 and one line',
    async () => {
      const missing = await opsbot(['runbooks', 'lint', 'nowhere'], { cwd: dir });
      expect(missing).toEqual({
        code: 2,
        stdout: '',
        stderr: `opsbot: no runbooks folder at ${path.join(dir, 'nowhere')}\n`,
      });
    },
    CLI_TEST_MS,
  );
});

describe('opsbot runbooks and sagas against a server', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof testServer>>;
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    opsbot([args[0] as string, '--url', server.url, ...args.slice(1)], { env });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'opsbot-cli-orch-'));
    mkdirSync(path.join(dir, 'runbooks'));
    writeFileSync(path.join(dir, 'runbooks', 'announce.md'), ANNOUNCE);
    writeFileSync(path.join(dir, 'runbooks', 'doomed.md'), DOOMED);
    const config = testConfig((raw) => {
      raw.auth = {
        apiKeys: [
          { id: 'op', key: OPERATOR_KEY, user: { id: 'ops-ci', name: 'Ops CI' } },
          { id: 'view', key: VIEWER_KEY, user: { id: 'dash', name: 'Dashboard' } },
        ],
      };
      raw.policy.users['api:ops-ci'] = ['operator'];
      raw.orchestrator = { runbooksDir: path.join(dir, 'runbooks'), sagasDir: path.join(dir, 'sagas') };
    });
    server = await testServer(config);
  }, 30_000);
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'lists runbooks and plans one with typed --param values, changing nothing',
    async () => {
      const listed = await cli(['runbooks', 'list']);
      expect(listed.code).toBe(0);
      expect(listed.stdout.split('\n')).toEqual([
        expect.stringMatching(/^ID\s+STEPS\s+RISK\s+APPROVAL\s+TITLE$/),
        expect.stringMatching(/^announce\s+1\s+low\s+none\s+Announce a message$/),
        expect.stringMatching(/^doomed\s+1\s+low\s+none\s+Always fails$/),
        '',
      ]);

      // `times=3` is the number 3 (JSON); a string would fail the integer parameter.
      const plan = await cli([
        'runbooks',
        'plan',
        'announce',
        '--param',
        'message=deploy done',
        '--param',
        'times=3',
      ]);
      expect(plan.code).toBe(0);
      expect(plan.stdout).toMatch(/^Plan: runbook announce — Announce a message$/m);
      expect(plan.stdout).toMatch(/^Parameters: message=deploy done, times=3$/m);
      expect(plan.stdout).toMatch(/notify the run's thread: "deploy done x3"/);
      const planJson = await cli(['runbooks', 'plan', 'announce', '--json']);
      expect(JSON.parse(planJson.stdout).plan.params).toEqual({ message: 'hello', times: 1 });
      expect(await server.runtime.orchestrator?.service.list({})).toEqual([]);
    },
    CLI_TEST_MS,
  );

  it(
    'runs runbooks with --wait: exit 0 when the run succeeded, 1 when it did not',
    async () => {
      const ok = await cli(['runbooks', 'run', 'announce', '--param', 'message=hi', '--wait']);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      const [firstLine] = ok.stdout.split('\n');
      const [id] = (firstLine as string).split(' ');
      expect(firstLine).toMatch(/^[0-9a-f-]{36} running$/);
      expect(ok.stdout).toMatch(
        new RegExp(`^Runbook announce \\(Announce a message\\), run ${id}: succeeded$`, 'm'),
      );

      const failed = await cli(['runbooks', 'run', 'doomed', '--wait']);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toMatch(/run-it: failed after 1 attempt — the shell action is disabled/);

      const shown = await cli(['sagas', 'show', id as string, '--json']);
      expect(JSON.parse(shown.stdout)).toMatchObject({
        id,
        status: 'succeeded',
        actor: 'api:ops-ci',
        trigger: { type: 'rest' },
        params: { message: 'hi', times: 1 },
      });
      const listed = await cli(['sagas', 'list', '--all']);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/^ID\s+KIND\s+DEFINITION\s+STATUS\s+STARTED BY\s+STARTED$/m);
      expect(listed.stdout).toMatch(
        new RegExp(`^${id}\\s+runbook\\s+announce\\s+succeeded\\s+api:ops-ci\\s`, 'm'),
      );
      expect((await cli(['sagas', 'list'])).stdout).toBe('no runs\n');
    },
    CLI_TEST_MS,
  );

  it(
    'turns bad input, and the server refusing it, into exit 2 with one line and no output',
    async () => {
      const runsBefore = (await server.runtime.orchestrator?.service.list({}))?.length;
      const cases: [string[], RegExp][] = [
        [['runbooks', 'plan', 'announce', '--param', 'novalue'], /"novalue" is not name=value/],
        [['sagas', 'start', 'refund', '--param', 'a=1', '--param', 'a=2'], /a is given twice/],
        [['sagas', 'start', 'refund', '--dry-run', '--wait'], /--wait follows a run; --dry-run starts none/],
        [['sagas', 'start', 'refund'], /no saga named refund/],
        [
          ['runbooks', 'plan', 'announce', '--param', 'times=0'],
          /parameters of runbook announce: times must be >= 1/,
        ],
        [['sagas', 'show', 'no-such-run'], /no saga or runbook run no-such-run/],
      ];
      for (const [args, message] of cases) {
        const run = await cli(args);
        expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: '' });
        expect(run.stderr).toMatch(/^opsbot: [^\n]+\n$/);
        expect(run.stderr).toMatch(message);
      }
      const viewer = await cli(['runbooks', 'run', 'announce'], { OPSBOT_API_KEY: VIEWER_KEY });
      expect(viewer).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/runbook\.run/) });
      expect(await server.runtime.orchestrator?.service.list({})).toHaveLength(runsBefore as number);
    },
    CLI_TEST_MS,
  );
});
