import type { HealthProbe, ProbeResult } from '../../bot/core/health';
import { describeFetchFailure } from './describe-fetch-failure';

/** A health body larger than this is not read: its status code already answered the question. */
const MAX_BODY_BYTES = 4096;

/**
 * Checks health URLs with real HTTP GETs and a timeout. A result is reused for `cacheSeconds` and
 * concurrent checks of one URL share a request, so a busy chat cannot flood the services it watches.
 */
export class HttpHealthProbe implements HealthProbe {
  private readonly cache = new Map<string, ProbeResult>();
  private readonly inFlight = new Map<string, Promise<ProbeResult>>();

  constructor(
    private readonly timeoutMs: number,
    private readonly cacheSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  check(url: string): Promise<ProbeResult> {
    const cached = this.cache.get(url);
    if (cached && this.now() - cached.checkedAt < this.cacheSeconds * 1000) return Promise.resolve(cached);
    let pending = this.inFlight.get(url);
    if (!pending) {
      pending = this.probe(url).finally(() => this.inFlight.delete(url));
      this.inFlight.set(url, pending);
    }
    return pending;
  }

  private async probe(url: string): Promise<ProbeResult> {
    const started = performance.now();
    const checkedAt = this.now();
    const elapsed = () => Math.round(performance.now() - started);
    let result: ProbeResult;
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { accept: 'application/json, text/plain;q=0.9' },
        redirect: 'manual',
      });
      const body = await readSome(res);
      const latencyMs = elapsed();
      const reported = reportedState(body);
      const state = res.status >= 500 ? 'critical' : res.status >= 300 ? 'warning' : reported;
      const note = reported === 'warning' && res.status < 300 ? ', reports degraded' : '';
      result = {
        state,
        detail: `HTTP ${res.status} in ${latencyMs} ms${note}`,
        latencyMs,
        checkedAt,
        httpStatus: res.status,
      };
    } catch (err) {
      result = {
        state: 'critical',
        detail: describeFetchFailure(err, this.timeoutMs),
        latencyMs: elapsed(),
        checkedAt,
      };
    }
    this.cache.set(url, result);
    return result;
  }
}

async function readSome(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < MAX_BODY_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  return Buffer.concat(chunks).toString('utf8', 0, Math.min(size, MAX_BODY_BYTES));
}

/** Many health endpoints answer 200 with {"status":"degraded"}; honour that instead of calling it healthy. */
function reportedState(body: string): ProbeResult['state'] {
  try {
    const status = (JSON.parse(body) as { status?: unknown }).status;
    if (typeof status === 'string' && /^(degraded|warn|warning)$/i.test(status)) return 'warning';
    if (typeof status === 'string' && /^(down|fail|failed|error|critical|unhealthy)$/i.test(status))
      return 'critical';
  } catch {
    // Not JSON: the status code alone decides.
  }
  return 'ok';
}
