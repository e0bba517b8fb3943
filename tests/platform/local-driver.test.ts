import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  LocalDriver,
  type LocalDriverOptions,
  type LocalServiceSpec,
} from '../../adapters/platform/local-driver';
import { ErrorCode } from '../../bot/core/errors';

/**
 * A tiny service: listens on PORT, answers /health (503 when the file SICK_IF_EXISTS names exists at start,
 * or after /sick until /well) and /whoami (its pid, its replica id, the environment it was given). With
 * GRANDCHILD set it starts a process of its own, as an `npm run` wrapper would. Exits 0 on SIGTERM once
 * its connections are done.
 */
const SERVICE = `
const http = require('http');
const fs = require('fs');
const sickFile = process.env.SICK_IF_EXISTS;
let healthy = !(sickFile && fs.existsSync(sickFile));
const grandchild = process.env.GRANDCHILD
  ? require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  : undefined;
const server = http.createServer((req, res) => {
  if (req.url === '/health') { res.statusCode = healthy ? 200 : 503; res.end(); return; }
  if (req.url === '/sick') { healthy = false; res.end(); return; }
  if (req.url === '/well') { healthy = true; res.end(); return; }
  if (req.url === '/whoami') {
    res.end(JSON.stringify({
      pid: process.pid,
      grandchild: grandchild && grandchild.pid,
      service: process.env.SERVICE_NAME,
      replica: process.env.REPLICA_ID,
      greeting: process.env.GREETING,
      secret: process.env.OPSBOT_TEST_SECRET,
    }));
    return;
  }
  res.statusCode = 404;
  res.end();
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

const HEALTH_INTERVAL_MS = 150;
const SLOW = 60_000;

const service = (name: string, extra: Partial<LocalServiceSpec> = {}): LocalServiceSpec => ({
  name,
  command: [process.execPath, '-e', SERVICE],
  port: 0,
  ...extra,
});

interface WhoAmI {
  pid: number;
  grandchild?: number;
  service: string;
  replica: string;
  greeting?: string;
  secret?: string;
}

/** One request on a connection of its own, so each goes through the front's round-robin afresh. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: 5_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`${url} timed out`)));
    request.on('error', reject);
  });
}

async function whoami(base: string): Promise<WhoAmI> {
  const { status, body } = await get(`${base}/whoami`);
  if (status !== 200) throw new Error(`${base}/whoami answered ${status}`);
  return JSON.parse(body) as WhoAmI;
}

async function until<T>(
  probe: () => Promise<T> | T,
  accept: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting; last value: ${JSON.stringify(value)}`);
    await sleep(50);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether the process still runs. A replica's own child, once killed, is reparented to pid 1, and a pid 1
 * that never reaps (as in some containers) leaves it a zombie for good: signal 0 still reaches it, so on
 * Linux its state says whether it is dead.
 */
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

describe('local platform driver', () => {
  const drivers: LocalDriver[] = [];
  let dir: string;

  const driverFor = (specs: LocalServiceSpec[], options: LocalDriverOptions = {}) => {
    const driver = new LocalDriver(specs, { healthIntervalMs: HEALTH_INTERVAL_MS, ...options });
    drivers.push(driver);
    return driver;
  };

  const readyPids = async (driver: LocalDriver, name: string): Promise<number[]> =>
    ((await driver.status(name)).instances ?? [])
      .filter((instance) => instance.state === 'ready')
      .map((instance) => instance.pid as number);

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'opsbot-local-'));
  });

  afterEach(async () => {
    await Promise.all(drivers.splice(0).map((driver) => driver.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'runs each service behind its front, with the environment it asks for and no more',
    async () => {
      process.env.OPSBOT_TEST_SECRET = 'opsbot-only';
      const driver = driverFor([
        service('beta'),
        service('alpha', { replicas: 2, env: { GREETING: 'hello' } }),
      ]);
      try {
        await driver.start();
      } finally {
        delete process.env.OPSBOT_TEST_SECRET;
      }
      expect(await driver.list()).toEqual(['alpha', 'beta']);

      const status = await driver.status('alpha');
      expect(status).toMatchObject({
        service: 'alpha',
        state: 'running',
        replicas: { desired: 2, ready: 2 },
      });
      expect(status.instances?.map((i) => i.id)).toEqual(['alpha-1', 'alpha-2']);
      for (const instance of status.instances ?? []) {
        expect(instance).toMatchObject({ state: 'ready', restarts: 0 });
        expect(alive(instance.pid as number)).toBe(true);
        expect(instance.startedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      }

      const replicas = await Promise.all(driver.replicaUrls('alpha').map(whoami));
      expect(replicas.map((r) => r.replica).sort()).toEqual(['alpha-1', 'alpha-2']);
      expect(replicas.map((r) => r.pid).sort()).toEqual(status.instances?.map((i) => i.pid).sort());
      const front = await whoami(driver.frontUrl('alpha'));
      expect(front).toMatchObject({ service: 'alpha', greeting: 'hello' });
      expect(front.secret).toBeUndefined();
      expect(await whoami(driver.frontUrl('beta'))).toMatchObject({ service: 'beta', replica: 'beta-1' });

      expect(await driver.logs('alpha', 10)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^\[alpha-1\] listening on \d+$/)]),
      );
      expect((await driver.events('beta', 10)).map((e) => e.reason)).toEqual(['Started', 'Ready']);
      await expect(driver.status('gamma')).rejects.toMatchObject({
        code: ErrorCode.DriverFailed,
        message: 'the local driver does not run a service called gamma',
      });
    },
    SLOW,
  );

  it(
    'restarts replica by replica, the front serving throughout',
    async () => {
      const driver = driverFor([service('alpha', { replicas: 2 })]);
      await driver.start();
      const before = await readyPids(driver, 'alpha');
      const front = driver.frontUrl('alpha');

      let restarting = true;
      const served: number[] = [];
      const failures: string[] = [];
      const polling = (async () => {
        while (restarting) {
          try {
            served.push((await whoami(front)).pid);
          } catch (err) {
            failures.push((err as Error).message);
          }
        }
      })();
      await driver.restart('alpha');
      restarting = false;
      await polling;

      expect(failures).toEqual([]);
      const after = await readyPids(driver, 'alpha');
      expect(after).toHaveLength(2);
      expect(after.filter((pid) => before.includes(pid))).toEqual([]);
      expect(served.length).toBeGreaterThan(0);
      await until(
        () => before.filter(alive),
        (left) => left.length === 0,
      );
      const restarted = (await driver.events('alpha', 50)).find((e) => e.reason === 'Restarted');
      expect(restarted?.message).toBe('replaced alpha-1, alpha-2 with alpha-3, alpha-4');
      expect(await driver.status('alpha')).toMatchObject({ state: 'running' });
    },
    SLOW,
  );

  it(
    'scales up to replicas that each serve through the front, and back down',
    async () => {
      const driver = driverFor([service('alpha')]);
      await driver.start();
      const [first] = await readyPids(driver, 'alpha');

      await driver.scale('alpha', 3);
      expect((await driver.status('alpha')).replicas).toEqual({ desired: 3, ready: 3 });
      const front = driver.frontUrl('alpha');
      const seen = new Set<number>();
      for (let i = 0; i < 12 && seen.size < 3; i++) seen.add((await whoami(front)).pid);
      expect(seen.size).toBe(3);

      await driver.scale('alpha', 1);
      const status = await driver.status('alpha');
      expect(status).toMatchObject({ state: 'running', replicas: { desired: 1, ready: 1 } });
      // The replica that served longest stays.
      expect(status.instances?.map((i) => i.pid)).toEqual([first]);
      for (const pid of [...seen].filter((pid) => pid !== first)) expect(alive(pid)).toBe(false);
      expect((await whoami(front)).pid).toBe(first);

      await driver.scale('alpha', 0);
      expect(await driver.status('alpha')).toMatchObject({
        state: 'down',
        detail: 'scaled to 0',
        replicas: { desired: 0, ready: 0 },
      });
      await expect(get(`${front}/whoami`)).rejects.toThrow();
      const scaled = (await driver.events('alpha', 50)).filter((e) => e.reason === 'Scaled');
      expect(scaled.map((e) => e.message)).toEqual([
        'scaled from 1 to 3 replicas',
        'scaled from 3 to 1 replicas',
        'scaled from 1 to 0 replicas',
      ]);

      await expect(driver.scale('alpha', 2.5)).rejects.toMatchObject({ code: ErrorCode.DriverFailed });
      await expect(driver.scale('alpha', -1)).rejects.toMatchObject({ code: ErrorCode.DriverFailed });
    },
    SLOW,
  );

  it(
    'reports a replica that exits, and leaves restarting it to whoever decides',
    async () => {
      const driver = driverFor([service('alpha', { replicas: 2 })]);
      await driver.start();
      const [victim, survivor] = await readyPids(driver, 'alpha');
      process.kill(victim as number, 'SIGKILL');

      const degraded = await until(
        () => driver.status('alpha'),
        (s) => s.state === 'degraded',
      );
      expect(degraded.replicas).toEqual({ desired: 2, ready: 1 });
      expect(degraded.instances?.find((i) => i.pid === victim)).toMatchObject({
        state: 'exited',
        detail: 'was killed by SIGKILL',
      });
      expect(degraded.detail).toContain('alpha-1 exited (was killed by SIGKILL)');
      const exited = (await driver.events('alpha', 50)).find((e) => e.reason === 'Exited');
      expect(exited).toMatchObject({ type: 'warning', instance: 'alpha-1' });
      expect(driver.replicaUrls('alpha')).toHaveLength(1);
      for (let i = 0; i < 4; i++) expect((await whoami(driver.frontUrl('alpha'))).pid).toBe(survivor);

      await sleep(HEALTH_INTERVAL_MS * 5);
      expect((await driver.status('alpha')).state).toBe('degraded');
      expect((await driver.events('alpha', 50)).filter((e) => e.reason === 'Started')).toHaveLength(2);

      process.kill(survivor as number, 'SIGKILL');
      expect(
        await until(
          () => driver.status('alpha'),
          (s) => s.state === 'down',
        ),
      ).toMatchObject({ replicas: { desired: 2, ready: 0 } });
      await expect(get(`${driver.frontUrl('alpha')}/whoami`)).rejects.toThrow();

      // With nothing left running, a restart starts the desired count afresh.
      await driver.restart('alpha');
      expect(await driver.status('alpha')).toMatchObject({
        state: 'running',
        replicas: { desired: 2, ready: 2 },
      });
      expect((await driver.status('alpha')).instances?.map((i) => i.id)).toEqual(['alpha-3', 'alpha-4']);
      expect((await driver.events('alpha', 1))[0]).toMatchObject({
        reason: 'Restarted',
        message: 'started alpha-3, alpha-4 in place of exited replicas',
      });
    },
    SLOW,
  );

  it(
    'takes an unhealthy replica out of the front until it is healthy again',
    async () => {
      const driver = driverFor([service('alpha', { replicas: 2 })]);
      await driver.start();
      const [sickUrl, wellUrl] = driver.replicaUrls('alpha') as [string, string];
      const well = await whoami(wellUrl);
      await get(`${sickUrl}/sick`);

      const degraded = await until(
        () => driver.status('alpha'),
        (s) => s.state === 'degraded',
      );
      expect(degraded.instances?.find((i) => i.url === sickUrl)).toMatchObject({
        state: 'unhealthy',
        detail: 'health check answered 503',
      });
      expect(driver.replicaUrls('alpha')).toEqual([wellUrl]);
      for (let i = 0; i < 4; i++) expect((await whoami(driver.frontUrl('alpha'))).pid).toBe(well.pid);
      expect((await driver.events('alpha', 50)).find((e) => e.reason === 'Unhealthy')).toMatchObject({
        type: 'warning',
      });

      await get(`${sickUrl}/well`);
      await until(
        () => driver.status('alpha'),
        (s) => s.state === 'running',
      );
      expect(driver.replicaUrls('alpha')).toHaveLength(2);
    },
    SLOW,
  );

  it(
    'starts the other services when one cannot start, and says why',
    async () => {
      const driver = driverFor([
        service('broken', {
          command: [process.execPath, '-e', 'console.error("no config"); process.exit(3)'],
        }),
        service('missing', { command: ['/nonexistent/opsbot-service'] }),
        service('alpha'),
      ]);
      await driver.start();

      expect(await whoami(driver.frontUrl('alpha'))).toMatchObject({ service: 'alpha' });
      expect(await driver.status('broken')).toMatchObject({
        state: 'down',
        replicas: { desired: 1, ready: 0 },
        detail: '0 of 1 replicas ready; broken-1 exited (exited with code 3)',
      });
      expect((await driver.events('broken', 10)).at(-1)).toMatchObject({
        type: 'warning',
        reason: 'StartFailed',
        message: 'broken-1 exited with code 3',
        instance: 'broken-1',
      });
      expect(await driver.logs('broken', 10)).toEqual(['[broken-1] no config']);
      expect((await driver.events('missing', 10)).at(-1)).toMatchObject({
        reason: 'StartFailed',
        message: 'missing-1 could not be started: /nonexistent/opsbot-service was not found',
      });

      await expect(driver.restart('broken')).rejects.toMatchObject({
        code: ErrorCode.DriverFailed,
        message: expect.stringContaining('broken-2 exited with code 3 before it was ready'),
        output: '[broken-2] no config',
      });
    },
    SLOW,
  );

  it(
    'keeps the old replica when its replacement never becomes ready',
    async () => {
      const sick = path.join(dir, 'sick');
      // Long enough for the first replica to start on a slow, busy machine; the replacement never will.
      const driver = driverFor([service('alpha', { env: { SICK_IF_EXISTS: sick } })], {
        startTimeoutMs: 3_000,
      });
      await driver.start();
      const [old] = await readyPids(driver, 'alpha');
      writeFileSync(sick, '');

      await expect(driver.restart('alpha')).rejects.toMatchObject({
        code: ErrorCode.DriverTimeout,
        message:
          'restarting alpha: alpha-2 did not become ready in 3000 ms (health check answered 503); alpha-1 keeps running, nothing was changed',
      });
      const status = await driver.status('alpha');
      expect(status).toMatchObject({ state: 'running', replicas: { desired: 1, ready: 1 } });
      expect(status.instances?.map((i) => i.pid)).toEqual([old]);
      expect((await whoami(driver.frontUrl('alpha'))).pid).toBe(old);
      const events = await driver.events('alpha', 50);
      expect(events.find((e) => e.reason === 'StartFailed')).toMatchObject({ instance: 'alpha-2' });
      const started = events.find((e) => e.reason === 'Started' && e.instance === 'alpha-2');
      const replacementPid = Number(/pid (\d+)/.exec(started?.message ?? '')?.[1]);
      expect(alive(replacementPid)).toBe(false);
      expect(events.some((e) => e.reason === 'Restarted')).toBe(false);
    },
    SLOW,
  );

  it(
    'runs concurrent restarts one after the other',
    async () => {
      const driver = driverFor([service('alpha', { replicas: 2 })]);
      await driver.start();
      const initial = await readyPids(driver, 'alpha');
      const [first, second] = await Promise.all([
        driver.restart('alpha').then(() => readyPids(driver, 'alpha')),
        driver.restart('alpha').then(() => readyPids(driver, 'alpha')),
      ]);
      expect(first).toHaveLength(2);
      expect(second).toHaveLength(2);
      expect(first.filter((pid) => initial.includes(pid))).toEqual([]);
      expect(second.filter((pid) => first.includes(pid) || initial.includes(pid))).toEqual([]);
      const restarts = (await driver.events('alpha', 50)).filter((e) => e.reason === 'Restarted');
      expect(restarts.map((e) => e.message)).toEqual([
        'replaced alpha-1, alpha-2 with alpha-3, alpha-4',
        'replaced alpha-3, alpha-4 with alpha-5, alpha-6',
      ]);
    },
    SLOW,
  );

  it(
    'leaves no process behind when closed, not even what a replica started',
    async () => {
      const driver = driverFor([
        service('alpha', { replicas: 2, env: { GRANDCHILD: '1' } }),
        service('beta'),
      ]);
      await driver.start();
      const replicas = await Promise.all(
        [...driver.replicaUrls('alpha'), ...driver.replicaUrls('beta')].map(whoami),
      );
      const pids = replicas.flatMap((r) => (r.grandchild ? [r.pid, r.grandchild] : [r.pid]));
      expect(pids).toHaveLength(5);
      expect(pids.every(alive)).toBe(true);
      const front = driver.frontUrl('alpha');

      await driver.close();
      expect(pids.filter(alive)).toEqual([]);
      await expect(get(`${front}/whoami`)).rejects.toThrow();
      await expect(driver.restart('alpha')).rejects.toMatchObject({ message: 'the local driver is closed' });
    },
    SLOW,
  );
});
