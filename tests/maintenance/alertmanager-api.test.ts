import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlertmanagerApi, AlertmanagerError } from '../../adapters/alerts/alertmanager-api';
import { AlertmanagerSilences } from '../../adapters/alerts/alertmanager-silences';
import { ErrorCode } from '../../bot/core/errors';

/**
 * The client's wire behaviour and its failures, against a real HTTP server on a loopback port that answers
 * like Alertmanager (or unlike it). The real Alertmanager is in tests/e2e/maintenance-windows-alertmanager.
 */
interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}

async function fakeAlertmanager(
  answer: (req: Seen, res: ServerResponse) => void,
): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        url: req.url ?? '',
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        body,
      };
      seen.push(request);
      answer(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

describe('AlertmanagerApi', () => {
  it('lists alerts with filters, creates, lists and expires silences under a path prefix, with basic auth from the URL', async () => {
    const am = await fakeAlertmanager((req, res) => {
      if (req.url.startsWith('/am/api/v2/alerts')) {
        return json(res, 200, [
          {
            fingerprint: 'ae8b274b8a308d8e',
            labels: { alertname: 'ServiceDown', service: 'payments' },
            annotations: { summary: 'down' },
            startsAt: '2026-03-01T10:00:00.000Z',
            endsAt: '2026-03-01T10:05:00.000Z',
            receivers: [{ name: 'opsbot' }],
            status: { state: 'suppressed', silencedBy: ['s-1'], inhibitedBy: [] },
          },
        ]);
      }
      if (req.method === 'POST' && req.url === '/am/api/v2/silences')
        return json(res, 200, { silenceID: 's-2' });
      if (req.method === 'GET' && req.url.startsWith('/am/api/v2/silences')) {
        return json(res, 200, [
          {
            id: 's-1',
            status: { state: 'active' },
            matchers: [{ name: 'service', value: 'payments', isRegex: false, isEqual: true }],
            startsAt: '2026-03-01T10:00:00.000Z',
            endsAt: '2026-03-01T11:00:00.000Z',
            createdBy: 'web:olivia',
            comment: 'deploying',
          },
        ]);
      }
      if (req.method === 'DELETE' && req.url === '/am/api/v2/silence/s-1') return res.writeHead(200).end();
      return json(res, 404, 'not found');
    });
    const api = new AlertmanagerApi({ url: am.url.replace('//', '//ops:s%3Acret@') + '/am' });
    try {
      expect(api.description).toBe(`Alertmanager at ${am.url}/am/`);

      const alerts = await api.listAlerts({
        active: true,
        silenced: false,
        matchers: ['service="payments"'],
      });
      expect(alerts).toEqual([
        {
          fingerprint: 'ae8b274b8a308d8e',
          labels: { alertname: 'ServiceDown', service: 'payments' },
          annotations: { summary: 'down' },
          startsAt: '2026-03-01T10:00:00.000Z',
          endsAt: '2026-03-01T10:05:00.000Z',
          state: 'suppressed',
          silencedBy: ['s-1'],
          inhibitedBy: [],
        },
      ]);
      expect(am.seen[0]?.url).toBe(
        '/am/api/v2/alerts?active=true&silenced=false&filter=service%3D%22payments%22',
      );
      expect(am.seen[0]?.authorization).toBe(`Basic ${Buffer.from('ops:s:cret').toString('base64')}`);

      const silence = {
        matchers: [{ name: 'alertname', value: 'ServiceDown', isRegex: false, isEqual: true }],
        startsAt: '2026-03-01T10:00:00.000Z',
        endsAt: '2026-03-01T12:00:00.000Z',
        createdBy: 'web:olivia',
        comment: 'deploying',
      };
      expect(await api.createSilence(silence)).toBe('s-2');
      expect(JSON.parse(am.seen[1]?.body ?? '')).toEqual(silence);

      expect(await api.listSilences()).toEqual([
        expect.objectContaining({ id: 's-1', state: 'active', createdBy: 'web:olivia' }),
      ]);
      await api.expireSilence('s-1');
      expect(am.seen.at(-1)).toMatchObject({ method: 'DELETE', url: '/am/api/v2/silence/s-1' });
    } finally {
      await am.close();
    }
  });

  it('names the endpoint and status of a refusal, with Alertmanager’s words, and never the credentials', async () => {
    const am = await fakeAlertmanager((_req, res) =>
      json(res, 422, { code: 612, message: 'matchers in body should have at least 1 items' }),
    );
    const api = new AlertmanagerApi({ url: am.url.replace('//', '//ops:secret@') });
    try {
      const err = await api
        .createSilence({ matchers: [], startsAt: '', endsAt: '', createdBy: 'x', comment: 'y' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AlertmanagerError);
      expect(err).toMatchObject({
        code: ErrorCode.DriverFailed,
        status: 422,
        message: `Alertmanager POST ${am.url}/api/v2/silences answered HTTP 422: matchers in body should have at least 1 items`,
      });
      expect((err as Error).message).not.toContain('secret');
    } finally {
      await am.close();
    }
  });

  it('says when the answer is not Alertmanager’s API', async () => {
    const am = await fakeAlertmanager((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'),
    );
    const api = new AlertmanagerApi({ url: am.url });
    try {
      await expect(api.listAlerts()).rejects.toThrow(
        `Alertmanager at ${am.url} did not answer api/v2/alerts like Alertmanager's v2 API; is the URL right?`,
      );
    } finally {
      await am.close();
    }
  });

  it('times out a request that gets no answer, and reports a refused connection', async () => {
    const silent = await fakeAlertmanager(() => undefined);
    try {
      const api = new AlertmanagerApi({ url: silent.url, timeoutMs: 200 });
      await expect(api.listSilences()).rejects.toMatchObject({
        code: ErrorCode.DriverTimeout,
        message: `Alertmanager GET ${silent.url}/api/v2/silences: timed out after 200 ms`,
      });
    } finally {
      await silent.close();
    }
    // The port was just released: nothing listens there now.
    const api = new AlertmanagerApi({ url: silent.url });
    await expect(api.listAlerts()).rejects.toMatchObject({
      code: ErrorCode.DriverFailed,
      message: `Alertmanager GET ${silent.url}/api/v2/alerts: connection refused`,
    });
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => new AlertmanagerApi({ url: 'ftp://alertmanager:9093' })).toThrow(
      'the Alertmanager URL must be http or https, not ftp:',
    );
  });
});

describe('AlertmanagerSilences.expire', () => {
  it('accepts a silence Alertmanager no longer knows, and fails for one still running', async () => {
    let running = false;
    const am = await fakeAlertmanager((req, res) => {
      if (req.method === 'DELETE') return json(res, 500, 'silence not found');
      if (!running) return json(res, 404, 'silence not found');
      return json(res, 200, {
        id: 's-9',
        status: { state: 'active' },
        matchers: [],
        startsAt: '2026-03-01T10:00:00.000Z',
        endsAt: '2026-03-01T11:00:00.000Z',
        createdBy: 'x',
        comment: 'y',
      });
    });
    const silences = new AlertmanagerSilences(new AlertmanagerApi({ url: am.url }));
    try {
      await silences.expire('s-9');
      running = true;
      await expect(silences.expire('s-9')).rejects.toThrow(
        `Alertmanager DELETE ${am.url}/api/v2/silence/s-9 answered HTTP 500: silence not found`,
      );
    } finally {
      await am.close();
    }
  });
});
