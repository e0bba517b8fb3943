import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { postJson } from './fleet-helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY = path.join(ROOT, 'dist', 'demo', 'fleet', 'demo-service-main.js');
/** Start-up of a fresh node process on a slow machine, with room to spare. */
const START_TIMEOUT_MS = 10_000;
/** The service promises to exit within about 2 s of SIGTERM or a crash fault; this is the test's patience. */
const EXIT_TIMEOUT_MS = 5000;

interface Listening {
  event: string;
  port: number;
  pid: number;
  service: string;
  replica: string;
}

function startProcess(env: Record<string, string>): { child: ChildProcess; listening: Promise<Listening> } {
  const child = spawn(process.execPath, [ENTRY], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const listening = new Promise<Listening>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no listening line in time')), START_TIMEOUT_MS);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as Listening);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening`));
    });
  });
  return { child, listening };
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => reject(new Error('did not exit in time')), EXIT_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('demo service process', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });

  beforeAll(() => {
    // npm test builds first; run on its own, this test needs a build to exist.
    if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run npx tsc -p tsconfig.build.json first`);
  });

  it('prints one listening line, serves /health and exits 0 on SIGTERM', async () => {
    const { child, listening } = startProcess({ SERVICE_NAME: 'payments', REPLICA_ID: 'payments-3' });
    children.push(child);
    const line = await listening;
    expect(line).toEqual({
      event: 'listening',
      port: expect.any(Number),
      pid: child.pid,
      service: 'payments',
      replica: 'payments-3',
    });
    expect(Object.keys(line)).toEqual(['event', 'port', 'pid', 'service', 'replica']);
    // connection: close — a kept-alive socket to a process that then exits would hold jest open.
    const health = await fetch(`http://127.0.0.1:${line.port}/health`, { headers: { connection: 'close' } });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      service: 'payments',
      replica: 'payments-3',
      pid: child.pid,
    });

    child.kill('SIGTERM');
    expect(await exitCode(child)).toBe(0);
  });

  it('exits with code 1 after answering a crash fault', async () => {
    const { child, listening } = startProcess({ SERVICE_NAME: 'orders', REPLICA_ID: 'orders-1' });
    children.push(child);
    const { port } = await listening;
    const response = await postJson(
      `http://127.0.0.1:${port}/admin/fault`,
      { kind: 'crash' },
      { connection: 'close' },
    );
    expect(response.status).toBe(202);
    expect(await exitCode(child)).toBe(1);
  });

  it('refuses to start as an unknown service', async () => {
    const { child, listening } = startProcess({ SERVICE_NAME: 'billing', REPLICA_ID: 'billing-1' });
    children.push(child);
    await expect(listening).rejects.toThrow(/exited with 1/);
  });
});
