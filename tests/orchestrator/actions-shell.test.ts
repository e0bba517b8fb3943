import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { PermanentActionError } from '../../engines/orchestrator/action';
import { createShellAction } from '../../engines/orchestrator/actions/shell-action';
import { actionContext } from './actions-support';

/** Whether the process runs: gone, or a zombie that a pid 1 which never reaps (some containers) keeps listed. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
  const stat = `/proc/${pid}/stat`;
  return !(existsSync(stat) && /^\d+ \(.*\) Z/.test(readFileSync(stat, 'utf8')));
}

describe('shell action', () => {
  it('refuses to run anything while disabled, even an allow-listed program', async () => {
    const shell = createShellAction({ enabled: false, allow: ['/bin/echo'] });
    const refused = shell.execute({ command: '/bin/echo', args: ['hi'] }, actionContext());
    await expect(refused).rejects.toBeInstanceOf(PermanentActionError);
    await expect(refused).rejects.toThrow(/disabled: set orchestrator\.shell\.enabled/);
  });

  it('refuses for good a program not on the allow list, naming the list', async () => {
    const shell = createShellAction({ enabled: true, allow: ['/bin/echo', '/bin/true'] });
    const refused = shell.execute({ command: 'echo', args: ['hi'] }, actionContext());
    await expect(refused).rejects.toBeInstanceOf(PermanentActionError);
    await expect(refused).rejects.toThrow(
      'echo is not in orchestrator.shell.allow (it allows /bin/echo, /bin/true)',
    );
  });

  it('passes arguments as they are, with no shell to interpret them', async () => {
    const shell = createShellAction({ enabled: true, allow: ['/bin/echo'] });
    const argument = '$(whoami); rm -rf / `id` *';
    const output = await shell.execute({ command: '/bin/echo', args: [argument] }, actionContext());
    expect(output).toEqual({ exitCode: 0, stdout: `${argument}\n`, stderr: '' });
  });

  it('gives the command a minimal environment: no secrets of opsbot, the step to deduplicate on', async () => {
    process.env.OPSBOT_TEST_SECRET = 'opsbot-only';
    try {
      const shell = createShellAction({ enabled: true, allow: ['/usr/bin/env'] });
      const { stdout } = await shell.execute(
        { command: '/usr/bin/env' },
        actionContext({ idempotencyKey: 'run-1:cmd' }),
      );
      const names = stdout
        .trim()
        .split('\n')
        .map((line) => line.split('=')[0]);
      expect(names).not.toContain('OPSBOT_TEST_SECRET');
      expect(
        names.every((n) =>
          /^(PATH|HOME|USER|LANG|LC_ALL|TZ|TMPDIR|OPSBOT_(RUN_ID|STEP_ID|IDEMPOTENCY_KEY))$/.test(n ?? ''),
        ),
      ).toBe(true);
      expect(stdout).toContain('OPSBOT_IDEMPOTENCY_KEY=run-1:cmd\n');
    } finally {
      delete process.env.OPSBOT_TEST_SECRET;
    }
  });

  it('fails retryably on a non-zero exit, with the end of stderr', async () => {
    const shell = createShellAction({ enabled: true, allow: ['/bin/sh'] });
    const failed = shell.execute(
      { command: '/bin/sh', args: ['-c', 'echo starting; echo "disk full" >&2; exit 3'] },
      actionContext(),
    );
    await expect(failed).rejects.toThrow('/bin/sh exited with code 3: disk full');
    await expect(failed).rejects.not.toBeInstanceOf(PermanentActionError);
  });

  it('stops the command and what it started when the step signal aborts', async () => {
    const shell = createShellAction({ enabled: true, allow: ['/bin/sh'] });
    const controller = new AbortController();
    const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-shell-'));
    const pidFile = path.join(dir, 'sleep.pid');
    // The grandchild holds the pipes: only stopping the whole group lets the step end.
    const running = shell.execute(
      { command: '/bin/sh', args: ['-c', `sleep 60 & echo $! > ${pidFile}; wait`] },
      actionContext({ signal: controller.signal }),
    );
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8') === '') await delay(10);
    controller.abort(new Error('run cancelled'));
    await expect(running).rejects.toThrow('run cancelled');
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops a command that outlives its own timeout', async () => {
    const shell = createShellAction({ enabled: true, allow: ['/bin/sleep'] });
    const slow = shell.execute({ command: '/bin/sleep', args: ['60'], timeoutSeconds: 0.1 }, actionContext());
    await expect(slow).rejects.toThrow('/bin/sleep timed out after 0.1 s');
  });

  it('refuses for good a program that does not exist or a missing working directory', async () => {
    const shell = createShellAction({ enabled: true, allow: ['/nonexistent/deploy', '/bin/echo'] });
    await expect(shell.execute({ command: '/nonexistent/deploy' }, actionContext())).rejects.toThrow(
      new PermanentActionError('/nonexistent/deploy: no such program'),
    );
    await expect(
      shell.execute({ command: '/bin/echo', cwd: '/nonexistent-dir' }, actionContext()),
    ).rejects.toThrow(new PermanentActionError('the working directory /nonexistent-dir does not exist'));
  });
});
