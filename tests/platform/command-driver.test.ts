import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CommandDriver, type CommandSpec } from '../../adapters/platform/command-driver';
import { ErrorCode } from '../../bot/core/errors';

const node = process.execPath;
/** A command that is a small node script, given its arguments the way a configured command gets them. */
const script = (source: string, ...args: string[]): CommandSpec => ({
  argv: [node, '-e', source, '--', ...args],
});

describe('command platform driver', () => {
  it('passes each value as one argument, never through a shell', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-command-'));
    const record = path.join(dir, 'argv.json');
    const pwned = path.join(dir, 'pwned');
    const driver = new CommandDriver({
      restart: script(
        `require('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(process.argv.slice(1)))`,
        'restart',
        '--unit={service}.service',
      ),
    });
    const hostile = `payments; touch ${pwned} $(touch ${pwned}) \`touch ${pwned}\` | cat {replicas}`;
    await driver.restart(hostile);
    expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual(['restart', `--unit=${hostile}.service`]);
    expect(existsSync(pwned)).toBe(false);
  });

  it('fills {replicas} for scale and refuses a count that is not a whole number', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-command-'));
    const record = path.join(dir, 'argv.json');
    const driver = new CommandDriver({
      scale: script(
        `require('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(process.argv.slice(1)))`,
        'scale',
        '{service}',
        '--replicas',
        '{replicas}',
      ),
    });
    await driver.scale('orders', 3);
    expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual(['scale', 'orders', '--replicas', '3']);
    await expect(driver.scale('orders', 2.5)).rejects.toMatchObject({ code: ErrorCode.DriverFailed });
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

  it('kills a command that runs past its timeout and says so', async () => {
    const driver = new CommandDriver({
      restart: { ...script(`setTimeout(() => {}, 60_000)`), timeoutMs: 300 },
    });
    await expect(driver.restart('orders')).rejects.toMatchObject({
      code: ErrorCode.DriverTimeout,
      message: expect.stringContaining('did not finish in 300 ms'),
    });
  });

  it('reports a failing command with its exit code and the tail of its output', async () => {
    const driver = new CommandDriver({
      restart: script(`console.error('unit orders.service not found'); process.exit(5)`),
    });
    await expect(driver.restart('orders')).rejects.toMatchObject({
      code: ErrorCode.DriverFailed,
      message: expect.stringContaining('exited with code 5'),
      output: 'unit orders.service not found',
    });
    const missing = new CommandDriver({ restart: { argv: ['/nonexistent/opsbot-restart'] } });
    await expect(missing.restart('orders')).rejects.toMatchObject({
      message: '/nonexistent/opsbot-restart was not found',
    });
  });

  it('says which operation has no command configured', async () => {
    await expect(new CommandDriver({}).scale('orders', 2)).rejects.toThrow(
      'no scale command is configured for this platform',
    );
  });
});
