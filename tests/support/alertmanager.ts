import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { freePorts } from './runtime';

/** Debian's prometheus-alertmanager, which .ci/run installs. */
export const ALERTMANAGER_BINARY = '/usr/bin/prometheus-alertmanager';
const READY_TIMEOUT_MS = 30_000;

/**
 * `describe` when the Alertmanager binary is installed; otherwise `describe.skip`, with the reason printed once
 * so a skipped suite is never silent.
 */
export function describeWithAlertmanager(): jest.Describe {
  if (existsSync(ALERTMANAGER_BINARY)) return describe;
  // eslint-disable-next-line no-console
  console.warn(`skipped: ${ALERTMANAGER_BINARY} is not installed (apt-get install prometheus-alertmanager)`);
  return describe.skip;
}

export interface RunningAlertmanager {
  /** http://127.0.0.1:<port>, without a trailing slash. */
  url: string;
  close(): Promise<void>;
}

/**
 * A real Alertmanager on a loopback port (a given one, or a free one), with no gossip port, its data in a fresh
 * temp folder, and `config` as its configuration file (route and receivers); resolves once /-/ready answers.
 */
export async function startAlertmanager(
  config: Record<string, unknown>,
  port?: number,
): Promise<RunningAlertmanager> {
  const chosen = port ?? (await freePorts(1))[0]!;
  const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-alertmanager-'));
  writeFileSync(path.join(dir, 'am.yml'), stringifyYaml(config));
  const child = spawn(
    ALERTMANAGER_BINARY,
    [
      `--config.file=${path.join(dir, 'am.yml')}`,
      `--storage.path=${dir}`,
      `--web.listen-address=127.0.0.1:${chosen}`,
      '--cluster.listen-address=',
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${chosen}`;
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { url, close };
    if (child.exitCode !== null || Date.now() > deadline) {
      await close();
      throw new Error(`alertmanager on ${url} did not become ready (exit code ${child.exitCode})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * An Alertmanager configuration that sends every alert group to opsbot's webhook at once (no group wait) and
 * resolutions too, grouped by alert name and service as opsbot's runbook triggers read them.
 */
export function webhookToOpsbot(opsbotUrl: string): Record<string, unknown> {
  return {
    route: {
      receiver: 'opsbot',
      group_by: ['alertname', 'service'],
      group_wait: '0s',
      group_interval: '1s',
      repeat_interval: '1h',
    },
    receivers: [
      {
        name: 'opsbot',
        webhook_configs: [{ url: `${opsbotUrl}/webhooks/alertmanager`, send_resolved: true }],
      },
    ],
  };
}

/** Alerts as a Prometheus server posts them to Alertmanager's v2 API; `startsAt` defaults to now. */
export function postAlerts(
  alertmanagerUrl: string,
  alerts: readonly {
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    startsAt?: string;
    endsAt?: string;
  }[],
): Promise<Response> {
  return fetch(`${alertmanagerUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts.map((a) => ({ startsAt: new Date().toISOString(), ...a }))),
  });
}
