import { HttpHealthProbe } from '../../adapters/http/http-health-probe';
import { closedPort, loopbackHttpServer } from '../support/runtime';

describe('HTTP health probe', () => {
  const endpoints: { close(): Promise<void> }[] = [];
  afterAll(() => Promise.all(endpoints.map((e) => e.close())));
  async function serving(status: number, body: string, delayMs = 0) {
    const e = await loopbackHttpServer((res) => {
      setTimeout(() => {
        res.statusCode = status;
        res.end(body);
      }, delayMs);
    });
    endpoints.push(e);
    return e.url;
  }

  it('calls a 200 healthy and reports the latency', async () => {
    const result = await new HttpHealthProbe(1000, 0).check(await serving(200, '{"status":"ok"}'));
    expect(result).toMatchObject({ state: 'ok', httpStatus: 200 });
    expect(result.detail).toMatch(/^HTTP 200 in \d+ ms$/);
  });

  it('believes a 200 that reports itself degraded or down', async () => {
    const probe = new HttpHealthProbe(1000, 0);
    expect((await probe.check(await serving(200, '{"status":"degraded"}'))).state).toBe('warning');
    expect((await probe.check(await serving(200, '{"status":"down"}'))).state).toBe('critical');
  });

  it('calls a 503 down', async () => {
    expect((await new HttpHealthProbe(1000, 0).check(await serving(503, 'no'))).state).toBe('critical');
  });

  it('gives up after the timeout', async () => {
    const result = await new HttpHealthProbe(100, 0).check(await serving(200, 'late', 1000));
    expect(result).toMatchObject({ state: 'critical', detail: 'timed out after 100 ms' });
  });

  it('reports a refused connection', async () => {
    const result = await new HttpHealthProbe(1000, 0).check(`http://127.0.0.1:${await closedPort()}/health`);
    expect(result).toMatchObject({ state: 'critical', detail: 'connection refused' });
  });

  it('reuses a recent result and shares concurrent checks', async () => {
    let hits = 0;
    const e = await loopbackHttpServer((res) => {
      hits += 1;
      res.end('ok');
    });
    endpoints.push(e);
    let now = 0;
    const probe = new HttpHealthProbe(1000, 5, () => now);
    await Promise.all([probe.check(e.url), probe.check(e.url), probe.check(e.url)]);
    expect(hits).toBe(1);
    now = 4999;
    await probe.check(e.url);
    expect(hits).toBe(1);
    now = 5000;
    await probe.check(e.url);
    expect(hits).toBe(2);
  });
});
