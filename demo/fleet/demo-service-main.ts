import { DEFAULT_CAPACITY_RPS, startDemoService } from './demo-service';

/*
 * One demo fleet replica as its own process, as the local driver starts it:
 * PORT, SERVICE_NAME, REPLICA_ID and optionally DEMO_CAPACITY_RPS from the environment; one JSON line on
 * stdout once listening; exit 0 on SIGTERM after in-flight requests finish.
 */

const MAX_PORT = 65_535;

function fail(message: string): never {
  process.stderr.write(`${JSON.stringify({ event: 'error', message })}\n`);
  process.exit(1);
}

function portFrom(value: string | undefined): number {
  const port = Number(value ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > MAX_PORT)
    fail(`PORT must be 0..${MAX_PORT}, got "${value}"`);
  return port;
}

function capacityFrom(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_CAPACITY_RPS;
  const capacity = Number(value);
  if (!(capacity > 0) || !Number.isFinite(capacity))
    fail(`DEMO_CAPACITY_RPS must be a positive number, got "${value}"`);
  return capacity;
}

async function main(): Promise<void> {
  const service = process.env.SERVICE_NAME ?? '';
  const replica = process.env.REPLICA_ID || `${service}-1`;
  const running = await startDemoService({
    service,
    replica,
    port: portFrom(process.env.PORT),
    capacityRps: capacityFrom(process.env.DEMO_CAPACITY_RPS),
  });
  process.stdout.write(
    `${JSON.stringify({ event: 'listening', port: running.port, pid: process.pid, service, replica })}\n`,
  );
  const stop = () => void running.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
