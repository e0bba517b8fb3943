import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CommandDriver, type CommandSpec } from '../../adapters/platform/command-driver';
import { ErrorCode } from '../../bot/core/errors';

const node = process.execPath;
/** A command that is a small node script, given its arguments the way a configured command gets them. */
const script = (source: string, ...args: string[]): CommandSpec => ({
  argv: [node, '-e', source, '--', ...args],
});
/** A command that writes the arguments it was given to `file`, as JSON. */
const recorder = (file: string, ...args: string[]): CommandSpec =>
  script(
    `require('fs').writeFileSync(${JSON.stringify(file)}, JSON.stringify(process.argv.slice(1)))`,
    ...args,
  );

describe('command platform driver', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'opsbot-command-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('passes each value as one argument, never through a shell', async () => {
    const record = path.join(dir, 'argv.json');
    const pwned = path.join(dir, 'pwned');
    const driver = new CommandDriver({ restart: recorder(record, 'restart', '--unit={service}.service') });
    const hostile = `payments; touch ${pwned} $(touch ${pwned}) \`touch ${pwned}\` | cat {replicas}`;
    await driver.restart(hostile);
    expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual(['restart', `--unit=${hostile}.service`]);
    expect(existsSync(pwned)).toBe(false);
  });

  it('fills {replicas} for scale and refuses a count that is not a whole number', async () => {
    const record = path.join(dir, 'argv.json');
    const driver = new CommandDriver({
      scale: recorder(record, 'scale', '{service}', '--replicas', '{replicas}'),
    });
    await driver.scale('orders', 3);
    expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual(['scale', 'orders', '--replicas', '3']);
    await expect(driver.scale('orders', 2.5)).rejects.toMatchObject({ code: ErrorCode.DriverFailed });
  });

  it('refuses a placeholder its operation does not fill, naming it', () => {
    expect(() => new CommandDriver({ restart: { argv: ['systemctl', 'restart', '{servce}'] } })).toThrow(
      expect.objectContaining({
        code: ErrorCode.ConfigInvalid,
        message: expect.stringContaining('{servce}'),
      }),
    );
    expect(() => new CommandDriver({ status: { argv: ['check', '{service}', '{replicas}'] } })).toThrow(
      /the status command uses \{replicas\}/,
    );
  });

  it('reads status as JSON, or from the exit code', async () => {
    const json = new CommandDriver({
      status: script(
        `console.log(JSON.stringify({ state: 'degraded', desired: 3, ready: 2, detail: 'one pod pending' }))`,
      ),
    });
    expect(await json.status('orders')).toEqual({
      service: 'orders',
      state: 'degraded',
      replicas: { desired: 3, ready: 2 },
      detail: 'one pod pending',
    });
    const up = new CommandDriver({ status: script(`console.log('active (running)')`) });
    expect(await up.status('orders')).toEqual({
      service: 'orders',
      state: 'running',
      detail: 'active (running)',
    });
    const down = new CommandDriver({ status: script(`console.error('inactive (dead)'); process.exit(3)`) });
    expect(await down.status('orders')).toMatchObject({ state: 'down', detail: 'inactive (dead)' });
    const garbled = new CommandDriver({ status: script(`console.log('{not json')`) });
    expect(await garbled.status('orders')).toMatchObject({ state: 'unknown' });
  });

  it('believes the JSON a status command prints even when it exits non-zero', async () => {
    const critical = new CommandDriver({
      status: script(
        `console.log(JSON.stringify({ state: 'degraded', detail: '1 of 3 ready' })); process.exitCode = 2`,
      ),
    });
    expect(await critical.status('orders')).toEqual({
      service: 'orders',
      state: 'degraded',
      detail: '1 of 3 ready',
    });
  });

  it('does not call a service down when its status command cannot run', async () => {
    const missing = new CommandDriver({ status: { argv: ['/nonexistent/opsbot-status', '{service}'] } });
    await expect(missing.status('orders')).rejects.toMatchObject({ code: ErrorCode.DriverFailed });
    const killed = new CommandDriver({ status: script(`process.kill(process.pid, 'SIGTERM')`) });
    await expect(killed.status('orders')).rejects.toMatchObject({
      code: ErrorCode.DriverFailed,
      message: expect.stringContaining('was killed by SIGTERM'),
    });
  });

  it('lets a command print as much as it likes, keeping the tail', async () => {
    const record = path.join(dir, 'done');
    const driver = new CommandDriver({
      restart: script(
        `process.stdout.write('deploying\\n'.repeat(200_000)); require('fs').writeFileSync(${JSON.stringify(record)}, '')`,
      ),
    });
    await driver.restart('orders');
    expect(existsSync(record)).toBe(true);
  });

  it('kills a command that runs past its timeout and says so', async () => {
    const driver = new CommandDriver({
      restart: { ...script(`setTimeout(() => {}, 60_000)`), timeoutMs: 300 },
    });
    await expect(driver.restart('orders')).rejects.toMatchObject({
      code: ErrorCode.DriverTimeout,
      message: expect.stringContaining('did not finish in 300 ms'),
    });
  });

  it('on timeout also kills the processes the command started', async () => {
    const started = path.join(dir, 'started');
    const go = path.join(dir, 'go');
    const finished = path.join(dir, 'finished');
    // The grandchild finishes only when the test says so, after the timeout: a fixed delay would race the
    // start-up of two node processes on a slow machine.
    const grandchild = `const fs = require('fs'); fs.writeFileSync(${JSON.stringify(started)}, '');
      setInterval(() => fs.existsSync(${JSON.stringify(go)}) && fs.writeFileSync(${JSON.stringify(finished)}, ''), 20);
      setTimeout(() => process.exit(), 10_000)`;
    const driver = new CommandDriver({
      restart: {
        ...script(
          `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: 'ignore' });
          setTimeout(() => {}, 60_000)`,
        ),
        timeoutMs: 2_000,
      },
    });
    await expect(driver.restart('orders')).rejects.toMatchObject({ code: ErrorCode.DriverTimeout });
    expect(existsSync(started)).toBe(true);
    writeFileSync(go, '');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(existsSync(finished)).toBe(false);
  });

  it('finishes when the command exits, though what it left in the background holds its output open', async () => {
    // The background process outlives the timeout, so waiting for the output to close would time out.
    const driver = new CommandDriver({
      restart: {
        ...script(
          `require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 6000)'], { stdio: 'inherit', detached: true }).unref()`,
        ),
        timeoutMs: 4_000,
      },
    });
    await expect(driver.restart('orders')).resolves.toBeUndefined();
  });

  it('reports a failing command with its exit code and the tail of its output, stderr last', async () => {
    const driver = new CommandDriver({
      restart: script(`console.error('unit orders.service not found'); process.exit(5)`),
    });
    await expect(driver.restart('orders')).rejects.toMatchObject({
      code: ErrorCode.DriverFailed,
      message: expect.stringContaining('exited with code 5'),
      output: 'unit orders.service not found',
    });
    const chatty = new CommandDriver({
      restart: script(
        `console.log('step\\n'.repeat(1000)); console.error('rollout failed'); process.exit(1)`,
      ),
    });
    await expect(chatty.restart('orders')).rejects.toMatchObject({
      output: expect.stringMatching(/step\nrollout failed$/),
    });
    const missing = new CommandDriver({ restart: { argv: ['/nonexistent/opsbot-restart'] } });
    await expect(missing.restart('orders')).rejects.toMatchObject({
      message: '/nonexistent/opsbot-restart was not found',
    });
  });

  it('says a command killed by a signal was killed, and by which', async () => {
    const driver = new CommandDriver({ restart: script(`process.kill(process.pid, 'SIGTERM')`) });
    await expect(driver.restart('orders')).rejects.toMatchObject({
      code: ErrorCode.DriverFailed,
      message: `${node} was killed by SIGTERM`,
    });
  });

  it('says which operation has no command configured', async () => {
    await expect(new CommandDriver({}).scale('orders', 2)).rejects.toThrow(
      'no scale command is configured for this platform',
    );
  });

  it('lists services from lines or a JSON array', async () => {
    const lines = new CommandDriver({ list: script(`console.log('orders\\npayments\\n\\n')`) });
    expect(await lines.list()).toEqual(['orders', 'payments']);
    const json = new CommandDriver({ list: script(`console.log(JSON.stringify(['search', 'gateway', 7]))`) });
    expect(await json.list()).toEqual(['gateway', 'search']);
    const bracketed = new CommandDriver({ list: script(`console.log('[warn] cache stale\\norders')`) });
    expect(await bracketed.list()).toEqual(['[warn] cache stale', 'orders']);
  });

  it('reads events as JSON lines or plain lines, keeping the last {limit}', async () => {
    const record = path.join(dir, 'argv.json');
    const driver = new CommandDriver({
      events: script(
        `require('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(process.argv.slice(1)));` +
          `console.log('old line');` +
          `console.log(JSON.stringify({ time: '2026-11-21T10:00:00Z', type: 'Warning', reason: 'BackOff', message: 'restarting' }));` +
          `console.log('plain text')`,
        '{service}',
        '--last',
        '{limit}',
      ),
    });
    expect(await driver.events('payments', 0)).toEqual([]);
    const events = await driver.events('payments', 2);
    expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual(['payments', '--last', '2']);
    expect(events).toEqual([
      { time: '2026-11-21T10:00:00Z', type: 'warning', reason: 'BackOff', message: 'restarting' },
      {
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        type: 'normal',
        reason: 'Output',
        message: 'plain text',
      },
    ]);
  });

  it('returns the last {lines} log lines and fails when the logs command fails', async () => {
    const driver = new CommandDriver({
      logs: script(`for (let i = 1; i <= 5; i++) console.log('line ' + i)`, '{service}', '{lines}'),
    });
    expect(await driver.logs('payments', 3)).toEqual(['line 3', 'line 4', 'line 5']);
    expect(await driver.logs('payments', 0)).toEqual([]);
    const failing = new CommandDriver({ logs: script(`console.error('no such unit'); process.exit(4)`) });
    await expect(failing.logs('payments', 3)).rejects.toMatchObject({
      code: ErrorCode.DriverFailed,
      output: 'no such unit',
    });
    expect(() => new CommandDriver({ list: script('', '{service}') })).toThrow(/list fills none/);
  });
});
