import net from 'node:net';
import { describeSocketErrorCode } from '../http/describe-fetch-failure';
import { ConfigError } from '../../bot/core/errors';
import type { CheckResult, HealthCheck } from '../../engines/maintenance/health-check';

/** "host:port", with an IPv6 host in brackets ("[::1]:5432"). */
const ADDRESS = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/;

/**
 * Healthy when a TCP connection to the address opens; it is closed at once, nothing is sent. For what speaks
 * no HTTP (a database, a broker). It says the port accepts, not that the service behind it works: a proxy
 * in front of dead backends still accepts.
 */
export class TcpHealthCheck implements HealthCheck {
  readonly name: string;
  private readonly host: string;
  private readonly port: number;

  constructor(
    readonly address: string,
    readonly timeoutMs: number,
  ) {
    const parsed = ADDRESS.exec(address);
    const port = Number(parsed?.[3]);
    if (!parsed || port < 1 || port > 65_535) {
      throw new ConfigError(`a TCP check needs host:port, not ${JSON.stringify(address)}`);
    }
    this.host = (parsed[1] ?? parsed[2]) as string;
    this.port = port;
    this.name = `tcp ${address}`;
  }

  run(signal: AbortSignal): Promise<CheckResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    return new Promise((resolve) => {
      const socket = net.connect({ host: this.host, port: this.port });
      const settle = (ok: boolean, detail: string) => {
        socket.destroy();
        signal.removeEventListener('abort', aborted);
        resolve({ ok, latencyMs: elapsed(), detail });
      };
      const aborted = () => settle(false, `timed out after ${this.timeoutMs} ms`);
      signal.addEventListener('abort', aborted, { once: true });
      if (signal.aborted) return aborted();
      socket.once('connect', () => settle(true, `connected in ${elapsed()} ms`));
      socket.once('error', (err: NodeJS.ErrnoException) => settle(false, describeSocketError(err)));
    });
  }
}

function describeSocketError(err: NodeJS.ErrnoException): string {
  return describeSocketErrorCode(err.code) ?? `connect failed: ${err.code ?? err.message}`;
}
