import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { demoConfigData, freePorts } from './runtime';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'opsbot.js');

/**
 * A configuration file for a real `opsbot serve` process: the shipped demo configuration with the changes a
 * test makes, its relative folders and files (runbooks, sagas, models, quality rules) pointed at the checkout, and state in a fresh temp
 * folder unless the test keeps one across restarts.
 */
export function writeServeConfig(adjust: (raw: Record<string, any>) => void, stateDir?: string): string {
  const raw = demoConfigData();
  raw.log = { level: 'info' };
  raw.stateDir = stateDir ?? mkdtempSync(path.join(tmpdir(), 'opsbot-serve-state-'));
  raw.knowledge = {
    ...raw.knowledge,
    indexDir: mkdtempSync(path.join(tmpdir(), 'opsbot-serve-index-')),
    autoBuild: false,
  };
  raw.nlu = { engine: 'rules' };
  raw.demo = { enabled: false };
  // Without the fleet, nothing answers on the catalog's ports: no health watch or scaling to get wrong.
  raw.maintenance = { enabled: false };
  raw.scaler = { services: {} };
  raw.orchestrator = {
    ...raw.orchestrator,
    runbooksDir: path.join(ROOT, 'runbooks'),
    sagasDir: path.join(ROOT, 'sagas'),
    prediction: { ...raw.orchestrator?.prediction, model: path.join(ROOT, 'models', 'saga-failure.onnx') },
  };
  if (raw.quality?.rulesFile) raw.quality.rulesFile = path.join(ROOT, raw.quality.rulesFile);
  adjust(raw);
  const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-serve-config-'));
  const file = path.join(dir, 'opsbot.config.yaml');
  writeFileSync(file, stringifyYaml(raw));
  return file;
}

export interface ServeProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything it logged so far, one parsed JSON line each (non-JSON lines as {raw}). */
  logs: Record<string, any>[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `node bin/opsbot.js serve` (the build must exist) and resolves once it answers /healthz. */
export async function startServe(
  configFile: string,
  port?: number,
  env: NodeJS.ProcessEnv = {},
): Promise<ServeProcess> {
  const chosen = port ?? (await freePorts(1))[0]!;
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(chosen)], {
    env: { ...process.env, OPSBOT_CONFIG: configFile, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, any>[] = [];
  let buffered = '';
  const collect = (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ raw: line });
      }
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${chosen}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`opsbot serve exited ${child.exitCode}: ${JSON.stringify(logs.slice(-5))}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('opsbot serve did not answer /healthz within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    port: chosen,
    child,
    logs,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
