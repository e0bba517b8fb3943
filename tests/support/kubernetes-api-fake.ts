import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake API server received it. */
export interface ReceivedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  authorization: string | undefined;
  /** Parsed from JSON; undefined when empty. */
  body: any;
}

/** A JSON answer (an object, a list, a Status), a plain-text one (a log), or none at all, ever. */
export type FakeReply = { status?: number; json: unknown } | { status?: number; text: string } | 'no answer';
export type FakeRoute = FakeReply | ((request: ReceivedRequest) => FakeReply);

export const NAMESPACE = 'shop';

/**
 * Stands in for the Kubernetes API server on an ephemeral 127.0.0.1 port. Routes are keyed "GET /path"; a
 * request without a route gets the 404 the real server answers for a resource it does not serve.
 */
export class KubernetesApiFake {
  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly url: string,
    readonly requests: ReceivedRequest[],
  ) {}

  static async start(routes: Record<string, FakeRoute>): Promise<KubernetesApiFake> {
    const requests: ReceivedRequest[] = [];
    const server = createServer(async (incoming, response) => {
      const request = await receive(incoming);
      requests.push(request);
      const route = routes[`${request.method} ${request.path}`];
      const reply =
        typeof route === 'function'
          ? route(request)
          : (route ?? apiStatus(404, 'NotFound', 'the server could not find the requested resource'));
      if (reply === 'no answer') return;
      if ('json' in reply) {
        response.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(reply.json));
      } else {
        response.writeHead(reply.status ?? 200, { 'content-type': 'text/plain' });
        response.end(reply.text);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new KubernetesApiFake(server, `http://127.0.0.1:${port}`, requests);
  }

  close(): Promise<void> {
    // Requests left unanswered on purpose would otherwise keep the server open.
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function receive(incoming: IncomingMessage): Promise<ReceivedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const url = new URL(incoming.url ?? '/', 'http://fake');
  return {
    method: incoming.method ?? '',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    contentType: incoming.headers['content-type'],
    authorization: incoming.headers.authorization,
    body: text ? JSON.parse(text) : undefined,
  };
}

/** The Status object the API server answers every error with. */
export function apiStatus(code: number, reason: string, message: string): FakeReply {
  return {
    status: code,
    json: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code },
  };
}

export function listOf(kind: string, apiVersion: string, items: unknown[]): FakeReply {
  return { json: { kind, apiVersion, metadata: { resourceVersion: '481516' }, items } };
}

interface WorkloadFields {
  replicas: number;
  ready?: number;
  updated?: number;
  generation?: number;
  observedGeneration?: number;
  matchLabels?: Record<string, string>;
}

/** A Deployment as the API returns it; like the real one, it leaves out replica counts that are 0. */
export function deployment(name: string, fields: WorkloadFields): Record<string, unknown> {
  const { replicas, ready = replicas, updated = replicas, generation = 3 } = fields;
  const matchLabels = fields.matchLabels ?? { app: name };
  return {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: {
      name,
      namespace: NAMESPACE,
      uid: `${name}-uid`,
      resourceVersion: '481502',
      generation,
      creationTimestamp: '2025-01-09T15:12:40Z',
      labels: matchLabels,
      annotations: { 'deployment.kubernetes.io/revision': '7' },
    },
    spec: {
      replicas,
      selector: { matchLabels },
      template: {
        metadata: { labels: matchLabels },
        spec: { containers: [{ name: 'app', image: `registry.example.com/${name}:1.4.2` }] },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {
      observedGeneration: fields.observedGeneration ?? generation,
      ...(replicas ? { replicas } : {}),
      ...(updated ? { updatedReplicas: updated } : {}),
      ...(ready ? { readyReplicas: ready, availableReplicas: ready } : {}),
    },
  };
}

export function statefulSet(
  name: string,
  fields: WorkloadFields & { selector: Record<string, unknown>; partition?: number },
): Record<string, unknown> {
  const { replicas, ready = replicas, updated = replicas } = fields;
  return {
    kind: 'StatefulSet',
    apiVersion: 'apps/v1',
    metadata: {
      name,
      namespace: NAMESPACE,
      uid: `${name}-uid`,
      generation: 2,
      creationTimestamp: '2025-01-02T08:00:00Z',
    },
    spec: {
      replicas,
      selector: fields.selector,
      serviceName: name,
      template: { spec: { containers: [{ name: 'db', image: 'postgres:16.4' }] } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: fields.partition ?? 0 } },
    },
    status: {
      observedGeneration: 2,
      replicas,
      readyReplicas: ready,
      updatedReplicas: updated,
      currentRevision: `${name}-5d8f7c9b6`,
      updateRevision: `${name}-6b7c8d9e4`,
    },
  };
}

interface PodFields {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  ready?: boolean;
  restarts?: number;
  /** The reason its container waits: "ContainerCreating", "CrashLoopBackOff". */
  waiting?: string;
  startTime?: string;
  /** Why the pod as a whole ended: "Evicted". */
  reason?: string;
  unschedulable?: boolean;
  terminating?: boolean;
  containers?: string[];
  annotations?: Record<string, string>;
}

export function pod(name: string, fields: PodFields = {}): Record<string, unknown> {
  const { phase = 'Running', ready = phase === 'Running', restarts = 0, containers = ['app'] } = fields;
  const conditions = fields.unschedulable
    ? [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/3 nodes are available: 3 Insufficient cpu.',
        },
      ]
    : [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Initialized', status: 'True' },
        { type: 'ContainersReady', status: ready ? 'True' : 'False' },
        { type: 'Ready', status: ready ? 'True' : 'False' },
      ];
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name,
      namespace: NAMESPACE,
      uid: `${name}-uid`,
      creationTimestamp: fields.startTime ?? '2025-01-10T09:00:00Z',
      ...(fields.terminating
        ? { deletionTimestamp: '2025-01-10T09:30:00Z', deletionGracePeriodSeconds: 30 }
        : {}),
      ...(fields.annotations ? { annotations: fields.annotations } : {}),
    },
    spec: { containers: containers.map((container) => ({ name: container, image: `${container}:1.4.2` })) },
    status: {
      phase,
      conditions,
      ...(fields.reason ? { reason: fields.reason } : {}),
      ...(fields.startTime ? { startTime: fields.startTime } : {}),
      ...(fields.unschedulable
        ? {}
        : {
            containerStatuses: containers.map((container) => ({
              name: container,
              image: `${container}:1.4.2`,
              imageID: '',
              ready,
              restartCount: restarts,
              started: phase === 'Running',
              state: fields.waiting
                ? { waiting: { reason: fields.waiting } }
                : { running: { startedAt: fields.startTime } },
            })),
          }),
    },
  };
}

interface EventFields {
  kind: string;
  name: string;
  reason: string;
  message: string;
  type?: 'Normal' | 'Warning';
  /** Set: an event as `kubectl` and most controllers record it, with first and last timestamps. */
  lastTimestamp?: string;
  /** Set instead: an event recorded through the events.k8s.io API, with eventTime and maybe a series. */
  eventTime?: string;
  seriesLastObserved?: string;
}

export function event(fields: EventFields): Record<string, unknown> {
  const { kind, name, lastTimestamp, eventTime } = fields;
  const created = lastTimestamp ?? eventTime;
  return {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: {
      name: `${name}.${Buffer.from(fields.reason + created)
        .toString('hex')
        .slice(0, 16)}`,
      namespace: NAMESPACE,
      creationTimestamp: created?.replace(/\.\d+Z$/, 'Z'),
    },
    involvedObject: { kind, namespace: NAMESPACE, name, uid: `${name}-uid` },
    reason: fields.reason,
    message: fields.message,
    type: fields.type ?? 'Normal',
    source: { component: kind === 'Pod' ? 'kubelet' : 'deployment-controller' },
    firstTimestamp: lastTimestamp ?? null,
    lastTimestamp: lastTimestamp ?? null,
    eventTime: eventTime ?? null,
    count: lastTimestamp ? 1 : undefined,
    ...(fields.seriesLastObserved
      ? { series: { count: 9, lastObservedTime: fields.seriesLastObserved } }
      : {}),
    reportingComponent: kind === 'Pod' ? 'kubelet' : '',
    reportingInstance: '',
  };
}
