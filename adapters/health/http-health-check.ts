import type { HealthCheck, CheckResult } from '../../engines/maintenance/health-check';
import { HttpHealthProbe } from '../http/http-health-probe';

/**
 * A GET of a health URL through the HTTP probe chat's status uses, uncached: each round must see the
 * service as it is now. It fails on what the probe calls critical — no answer, a 5xx, a body reporting
 * down. A 200 that reports degraded, or a redirect, passes: a degraded service is for people to look at,
 * and restarting it would take away whatever still works.
 */
export class HttpHealthCheck implements HealthCheck {
  readonly name: string;
  private readonly probe: HttpHealthProbe;

  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    this.name = `http ${url}`;
    // The probe keeps its own timeout, the same as the controller's: a GET does not outlive its round.
    this.probe = new HttpHealthProbe(timeoutMs, 0);
  }

  async run(): Promise<CheckResult> {
    const result = await this.probe.check(this.url);
    return { ok: result.state !== 'critical', latencyMs: result.latencyMs, detail: result.detail };
  }
}
