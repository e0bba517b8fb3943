import {
  startDemoService,
  type DemoServiceOptions,
  type RunningDemoService,
} from '../../demo/fleet/demo-service';

/** Starts in-process services on ephemeral loopback ports and closes them all after each test. */
export function serviceFixture(): (
  service: string,
  options?: Partial<DemoServiceOptions>,
) => Promise<RunningDemoService> {
  const running: RunningDemoService[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.close()));
  });
  return async (service, options = {}) => {
    const started = await startDemoService({ service, replica: `${service}-1`, port: 0, ...options });
    running.push(started);
    return started;
  };
}

export function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The value of the sample `name` whose labels include `labels`, or undefined if there is none. */
export function sample(exposition: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of exposition.split('\n')) {
    const parsed = /^([a-zA-Z_:][\w:]*)\{(.*)\} (\S+)$/.exec(line);
    if (!parsed || parsed[1] !== name) continue;
    const found = Object.fromEntries([...parsed[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(parsed[3]);
  }
  return undefined;
}
