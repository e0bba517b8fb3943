import http from 'node:http';
import net from 'node:net';
import { RoundRobinProxy } from '../../adapters/platform/round-robin-proxy';

/** A backend that answers every request with its name, and can hold a request open until told. */
interface Backend {
  name: string;
  url: string;
  server: http.Server;
  release(): void;
}

const held: (() => void)[] = [];

async function backend(name: string): Promise<Backend> {
  const server = http.createServer((req, res) => {
    if (req.url === '/slow') {
      held.push(() => res.end(name));
      return;
    }
    res.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    server,
    release: () => held.splice(0).forEach((done) => done()),
  };
}

/** A port nothing listens on. */
async function deadAddress(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `127.0.0.1:${port}`;
}

/** One request on a connection of its own, unless an agent is given. */
function get(url: string, agent: http.Agent | false = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

describe('round-robin TCP proxy', () => {
  let proxy: RoundRobinProxy;
  let front: string;
  const backends: Backend[] = [];

  beforeEach(async () => {
    proxy = new RoundRobinProxy('127.0.0.1', 0);
    front = `http://127.0.0.1:${await proxy.listen()}`;
  });

  afterEach(async () => {
    await proxy.close();
    for (const b of backends.splice(0)) {
      b.release();
      b.server.closeAllConnections();
      await new Promise((resolve) => b.server.close(resolve));
    }
  });

  async function backendsNamed(...names: string[]): Promise<Backend[]> {
    const made = await Promise.all(names.map(backend));
    backends.push(...made);
    return made;
  }

  it('sends each new connection to the next backend in turn', async () => {
    const pool = await backendsNamed('a', 'b', 'c');
    proxy.setBackends(pool.map((b) => b.url));
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await get(`${front}/`));
    expect(new Set(answers.slice(0, 3))).toEqual(new Set(['a', 'b', 'c']));
    expect(answers.slice(3)).toEqual(answers.slice(0, 3));
  });

  it('keeps a keep-alive connection on one backend, as kube-proxy does', async () => {
    const pool = await backendsNamed('a', 'b');
    proxy.setBackends(pool.map((b) => b.url));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) answers.push(await get(`${front}/`, agent));
    agent.destroy();
    expect(new Set(answers).size).toBe(1);
  });

  it('takes host:port as well as URLs', async () => {
    const [a] = await backendsNamed('a');
    proxy.setBackends([new URL(a!.url).host]);
    expect(await get(`${front}/`)).toBe('a');
  });

  it('refuses at once when the pool is empty', async () => {
    const started = Date.now();
    await expect(get(`${front}/`)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('skips a backend that refuses, and gives up when all do', async () => {
    const [a] = await backendsNamed('a');
    const dead = await deadAddress();
    proxy.setBackends([dead, a!.url]);
    for (let i = 0; i < 4; i++) expect(await get(`${front}/`)).toBe('a');
    proxy.setBackends([dead, await deadAddress()]);
    await expect(get(`${front}/`)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('tells when the connections to a backend are done', async () => {
    const [a] = await backendsNamed('a');
    proxy.setBackends([a!.url]);
    await proxy.drained(a!.url, 10_000);
    const answer = get(`${front}/slow`);
    await until(() => held.length === 1);
    let drained = false;
    const draining = proxy.drained(a!.url, 10_000).then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(drained).toBe(false);
    a!.release();
    expect(await answer).toBe('a');
    await draining;
    // The wait is bounded: a connection that never ends does not hold it past the timeout.
    const stuck = get(`${front}/slow`).catch(() => 'cut');
    await until(() => held.length === 1);
    await proxy.drained(a!.url, 200);
    await proxy.close();
    expect(await stuck).toBe('cut');
  });

  it('closes the connections it holds when closed', async () => {
    const [a] = await backendsNamed('a');
    proxy.setBackends([a!.url]);
    const pending = get(`${front}/slow`);
    await until(() => held.length === 1);
    await proxy.close();
    await expect(pending).rejects.toThrow();
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
