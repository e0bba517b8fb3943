import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KubernetesDriverOptions } from '../../adapters/platform/kubernetes-driver';
import { ErrorCode } from '../../bot/core/errors';
import {
  apiStatus,
  deployment,
  event,
  KubernetesApiFake,
  listOf,
  NAMESPACE,
  pod,
  statefulSet,
  type FakeRoute,
} from '../support/kubernetes-api-fake';

/**
 * @kubernetes/client-node is ESM-only, which jest's CommonJS sandbox cannot load, so the driver runs compiled
 * (`npm test` builds first) in a Node process of its own: each test hands it the calls to make, and it prints
 * what each returned or threw.
 */
const COMPILED_DRIVER = path.resolve(__dirname, '../../dist/adapters/platform/kubernetes-driver.js');
const RUN_CALLS = `
const [driverPath, options, calls] = process.argv.slice(1);
const { KubernetesDriver } = require(driverPath);
(async () => {
  const driver = new KubernetesDriver(JSON.parse(options));
  const outcomes = [];
  for (const [operation, ...args] of JSON.parse(calls)) {
    try {
      outcomes.push({ value: (await driver[operation](...args)) ?? null });
    } catch (error) {
      outcomes.push({ error: { name: error.name, code: error.code, message: error.message } });
    }
  }
  process.stdout.write(JSON.stringify(outcomes));
})();
`;

type DriverCall = [
  operation: 'list' | 'status' | 'restart' | 'scale' | 'events' | 'logs',
  ...args: unknown[],
];
type Outcome = { value: any } | { error: { name: string; code: string; message: string } };

/** What a call returned; a call that threw fails the test with its error. */
function valueOf(outcome: Outcome | undefined): any {
  if (!outcome || 'error' in outcome) throw new Error(`expected a value, got ${JSON.stringify(outcome)}`);
  return outcome.value;
}

const TOKEN = 'kube-token-6f1d2a9e';
const READONLY_TOKEN = 'kube-token-readonly-03b7';
const APPS = `/apis/apps/v1/namespaces/${NAMESPACE}`;
const CORE = `/api/v1/namespaces/${NAMESPACE}`;
/** The catalog calls it payments; the cluster runs it as payments-api. */
const PAYMENTS = { payments: { kind: 'Deployment' as const, name: 'payments-api' } };

describe('Kubernetes platform driver', () => {
  let dir: string;
  let api: KubernetesApiFake | undefined;

  beforeAll(() => {
    if (!existsSync(COMPILED_DRIVER)) throw new Error(`${COMPILED_DRIVER} is missing: run \`npm run build\``);
  });
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'opsbot-kubernetes-'));
  });
  afterEach(async () => {
    await api?.close();
    api = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the fake API server and writes a kubeconfig for it; returns the kubeconfig's path. */
  async function serve(routes: Record<string, FakeRoute>): Promise<string> {
    api = await KubernetesApiFake.start(routes);
    return writeKubeconfig(api.url);
  }

  /**
   * Two contexts on one cluster: `shop-admin`, the current one, and `shop-readonly`, each with its token. The
   * fake serves plain HTTP, which the client only talks to when told to skip TLS verification.
   */
  function writeKubeconfig(server: string): string {
    const file = path.join(dir, 'kubeconfig.yaml');
    writeFileSync(
      file,
      `apiVersion: v1
kind: Config
clusters:
  - name: shop-cluster
    cluster:
      server: ${server}
      insecure-skip-tls-verify: true
users:
  - name: opsbot
    user:
      token: ${TOKEN}
  - name: opsbot-readonly
    user:
      token: ${READONLY_TOKEN}
contexts:
  - name: shop-admin
    context: { cluster: shop-cluster, user: opsbot, namespace: ${NAMESPACE} }
  - name: shop-readonly
    context: { cluster: shop-cluster, user: opsbot-readonly, namespace: ${NAMESPACE} }
current-context: shop-admin
`,
    );
    return file;
  }

  function runDriver(
    options: KubernetesDriverOptions,
    calls: DriverCall[],
    env: Record<string, string> = {},
  ): Promise<Outcome[]> {
    const args = ['-e', RUN_CALLS, '--', COMPILED_DRIVER, JSON.stringify(options), JSON.stringify(calls)];
    // A HOME of its own, and no KUBECONFIG but the test's, so the developer's own cluster is never reached.
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', HOME: dir, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0
          ? resolve(JSON.parse(stdout) as Outcome[])
          : reject(new Error(`driver exited ${code}: ${stderr}`)),
      );
    });
  }

  const received = () => api?.requests ?? [];
  const get = (requestPath: string, query: Record<string, string> = {}) => ({
    method: 'GET',
    path: requestPath,
    query,
    contentType: undefined,
    authorization: `Bearer ${TOKEN}`,
    body: undefined,
  });

  it('reads status from the workload and one instance per pod its selector matches', async () => {
    const kubeconfig = await serve({
      [`GET ${APPS}/deployments/payments-api`]: {
        json: deployment('payments-api', {
          replicas: 3,
          ready: 2,
          matchLabels: { app: 'payments', tier: 'api' },
        }),
      },
      [`GET ${CORE}/pods`]: listOf('PodList', 'v1', [
        pod('payments-api-7d9c8f6b4-h3j4k', {
          phase: 'Failed',
          reason: 'Evicted',
          startTime: '2025-01-10T08:00:00Z',
        }),
        pod('payments-api-7d9c8f6b4-k8p2m', {
          ready: false,
          restarts: 4,
          waiting: 'CrashLoopBackOff',
          startTime: '2025-01-10T09:00:02Z',
        }),
        pod('payments-api-7d9c8f6b4-q7w9t', {
          phase: 'Pending',
          waiting: 'ContainerCreating',
          startTime: '2025-01-10T09:20:00Z',
        }),
        pod('payments-api-7d9c8f6b4-r2d2c', { terminating: true, startTime: '2025-01-09T15:13:00Z' }),
        pod('payments-api-7d9c8f6b4-v5n6b', { phase: 'Pending', unschedulable: true }),
        pod('payments-api-7d9c8f6b4-x2x4z', { startTime: '2025-01-10T09:00:01Z' }),
      ]),
    });

    const [status] = await runDriver({ namespace: NAMESPACE, kubeconfig, workloads: PAYMENTS }, [
      ['status', 'payments'],
    ]);

    expect(received()).toEqual([
      get(`${APPS}/deployments/payments-api`),
      get(`${CORE}/pods`, { labelSelector: 'app=payments,tier=api' }),
    ]);
    expect(status).toEqual({
      value: {
        service: 'payments',
        state: 'degraded',
        detail: '2 of 3 ready',
        replicas: { desired: 3, ready: 2 },
        instances: [
          {
            id: 'payments-api-7d9c8f6b4-h3j4k',
            state: 'exited',
            detail: 'Evicted',
            restarts: 0,
            startedAt: '2025-01-10T08:00:00.000Z',
          },
          {
            id: 'payments-api-7d9c8f6b4-k8p2m',
            state: 'unhealthy',
            detail: 'CrashLoopBackOff',
            restarts: 4,
            startedAt: '2025-01-10T09:00:02.000Z',
          },
          {
            id: 'payments-api-7d9c8f6b4-q7w9t',
            state: 'starting',
            detail: 'ContainerCreating',
            restarts: 0,
            startedAt: '2025-01-10T09:20:00.000Z',
          },
          {
            id: 'payments-api-7d9c8f6b4-r2d2c',
            state: 'exited',
            detail: 'terminating',
            restarts: 0,
            startedAt: '2025-01-09T15:13:00.000Z',
          },
          { id: 'payments-api-7d9c8f6b4-v5n6b', state: 'unhealthy', detail: 'Unschedulable', restarts: 0 },
          {
            id: 'payments-api-7d9c8f6b4-x2x4z',
            state: 'ready',
            restarts: 0,
            startedAt: '2025-01-10T09:00:01.000Z',
          },
        ],
      },
    });
  });

  it('judges the state from ready replicas and rollout progress', async () => {
    const kubeconfig = await serve({
      [`GET ${APPS}/deployments/search`]: { json: deployment('search', { replicas: 2 }) },
      [`GET ${APPS}/deployments/reports`]: { json: deployment('reports', { replicas: 0 }) },
      [`GET ${APPS}/deployments/orders`]: { json: deployment('orders', { replicas: 2, ready: 0 }) },
      [`GET ${APPS}/deployments/checkout`]: { json: deployment('checkout', { replicas: 3, updated: 1 }) },
      [`GET ${APPS}/deployments/billing`]: {
        json: deployment('billing', { replicas: 2, generation: 5, observedGeneration: 4 }),
      },
      [`GET ${CORE}/pods`]: listOf('PodList', 'v1', []),
    });

    const outcomes = await runDriver(
      { namespace: NAMESPACE, kubeconfig },
      ['search', 'reports', 'orders', 'checkout', 'billing'].map((service): DriverCall => [
        'status',
        service,
      ]),
    );

    expect(outcomes.map(valueOf)).toEqual([
      { service: 'search', state: 'running', replicas: { desired: 2, ready: 2 }, instances: [] },
      {
        service: 'reports',
        state: 'down',
        detail: 'scaled to 0',
        replicas: { desired: 0, ready: 0 },
        instances: [],
      },
      {
        service: 'orders',
        state: 'down',
        detail: '0 of 2 ready',
        replicas: { desired: 2, ready: 0 },
        instances: [],
      },
      {
        service: 'checkout',
        state: 'degraded',
        detail: 'rollout in progress: 1 of 3 updated',
        replicas: { desired: 3, ready: 3 },
        instances: [],
      },
      {
        service: 'billing',
        state: 'degraded',
        detail: 'rollout starting: the controller has not yet acted on the latest change',
        replicas: { desired: 2, ready: 2 },
        instances: [],
      },
    ]);
  });

  it('scales through the scale subresource with a merge patch, and sends nothing for a count that is not one', async () => {
    const kubeconfig = await serve({
      [`PATCH ${APPS}/deployments/payments-api/scale`]: {
        json: {
          kind: 'Scale',
          apiVersion: 'autoscaling/v1',
          metadata: { name: 'payments-api', namespace: NAMESPACE },
          spec: { replicas: 5 },
          status: { replicas: 3, selector: 'app=payments-api' },
        },
      },
    });

    const outcomes = await runDriver({ namespace: NAMESPACE, kubeconfig, workloads: PAYMENTS }, [
      ['scale', 'payments', -1],
      ['scale', 'payments', 2.5],
      ['scale', 'payments', 5],
    ]);

    expect(outcomes).toEqual([
      {
        error: {
          name: 'DriverError',
          code: ErrorCode.DriverFailed,
          message: 'replicas must be a whole number of 0 or more, not -1',
        },
      },
      {
        error: {
          name: 'DriverError',
          code: ErrorCode.DriverFailed,
          message: 'replicas must be a whole number of 0 or more, not 2.5',
        },
      },
      { value: null },
    ]);
    expect(received()).toEqual([
      {
        method: 'PATCH',
        path: `${APPS}/deployments/payments-api/scale`,
        query: { fieldManager: 'opsbot' },
        contentType: 'application/merge-patch+json',
        authorization: `Bearer ${TOKEN}`,
        body: { spec: { replicas: 5 } },
      },
    ]);
  });

  it('restarts as `kubectl rollout restart` does: a strategic merge patch of the restartedAt annotation', async () => {
    const kubeconfig = await serve({
      [`PATCH ${APPS}/deployments/payments-api`]: { json: deployment('payments-api', { replicas: 3 }) },
    });

    const before = Date.now();
    const [restart] = await runDriver({ namespace: NAMESPACE, kubeconfig, workloads: PAYMENTS }, [
      ['restart', 'payments'],
    ]);
    const after = Date.now();

    expect(restart).toEqual({ value: null });
    expect(received()).toEqual([
      {
        method: 'PATCH',
        path: `${APPS}/deployments/payments-api`,
        query: { fieldManager: 'opsbot' },
        contentType: 'application/strategic-merge-patch+json',
        authorization: `Bearer ${TOKEN}`,
        body: {
          spec: {
            template: {
              metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': expect.any(String) } },
            },
          },
        },
      },
    ]);
    const restartedAt: string =
      received()[0]?.body.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'];
    expect(restartedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(restartedAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(restartedAt)).toBeLessThanOrEqual(after);
  });

  it('drives a StatefulSet through its own paths and reads its set-based selector', async () => {
    const selector = {
      matchLabels: { app: 'ledger' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['db', 'replica'] },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    };
    const kubeconfig = await serve({
      // Behind a partition only the pods above it are updated: that is the plan, not a rollout in progress.
      [`GET ${APPS}/statefulsets/ledger-db`]: {
        json: statefulSet('ledger-db', { replicas: 3, updated: 1, partition: 2, selector }),
      },
      [`GET ${CORE}/pods`]: listOf('PodList', 'v1', [
        pod('ledger-db-0'),
        pod('ledger-db-1'),
        pod('ledger-db-2'),
      ]),
      [`PATCH ${APPS}/statefulsets/ledger-db/scale`]: { json: { kind: 'Scale', spec: { replicas: 4 } } },
      [`PATCH ${APPS}/statefulsets/ledger-db`]: { json: statefulSet('ledger-db', { replicas: 4, selector }) },
    });

    const [status, scale, restart] = await runDriver(
      { namespace: NAMESPACE, kubeconfig, workloads: { ledger: { kind: 'StatefulSet', name: 'ledger-db' } } },
      [
        ['status', 'ledger'],
        ['scale', 'ledger', 4],
        ['restart', 'ledger'],
      ],
    );

    expect(status).toEqual({
      value: expect.objectContaining({
        service: 'ledger',
        state: 'running',
        replicas: { desired: 3, ready: 3 },
        instances: ['ledger-db-0', 'ledger-db-1', 'ledger-db-2'].map((id) =>
          expect.objectContaining({ id, state: 'ready' }),
        ),
      }),
    });
    expect([scale, restart]).toEqual([{ value: null }, { value: null }]);
    expect(
      received().map(({ method, path: requestPath, query, contentType }) => ({
        method,
        requestPath,
        query,
        contentType,
      })),
    ).toEqual([
      { method: 'GET', requestPath: `${APPS}/statefulsets/ledger-db`, query: {}, contentType: undefined },
      {
        method: 'GET',
        requestPath: `${CORE}/pods`,
        query: { labelSelector: 'app=ledger,tier in (db,replica),!canary' },
        contentType: undefined,
      },
      {
        method: 'PATCH',
        requestPath: `${APPS}/statefulsets/ledger-db/scale`,
        query: { fieldManager: 'opsbot' },
        contentType: 'application/merge-patch+json',
      },
      {
        method: 'PATCH',
        requestPath: `${APPS}/statefulsets/ledger-db`,
        query: { fieldManager: 'opsbot' },
        contentType: 'application/strategic-merge-patch+json',
      },
    ]);
  });

  it('lists Deployments and StatefulSets by catalog name, with the label selector', async () => {
    const kubeconfig = await serve({
      [`GET ${APPS}/deployments`]: listOf('DeploymentList', 'apps/v1', [
        deployment('search', { replicas: 2 }),
        deployment('payments-api', { replicas: 3 }),
        deployment('cache', { replicas: 1 }),
      ]),
      [`GET ${APPS}/statefulsets`]: listOf('StatefulSetList', 'apps/v1', [
        statefulSet('ledger-db', { replicas: 3, selector: { matchLabels: { app: 'ledger' } } }),
        statefulSet('cache', { replicas: 1, selector: { matchLabels: { app: 'cache' } } }),
      ]),
    });

    const [list] = await runDriver(
      {
        namespace: NAMESPACE,
        kubeconfig,
        labelSelector: 'team=shop',
        workloads: { ...PAYMENTS, ledger: { kind: 'StatefulSet', name: 'ledger-db' } },
      },
      [['list']],
    );

    expect(list).toEqual({ value: ['cache', 'ledger', 'payments', 'search'] });
    // Both lists are asked for at once, so they may arrive in either order.
    expect([...received()].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      get(`${APPS}/deployments`, { labelSelector: 'team=shop' }),
      get(`${APPS}/statefulsets`, { labelSelector: 'team=shop' }),
    ]);
  });

  it("keeps the events of the workload, its ReplicaSets and pods, oldest first, and not its siblings'", async () => {
    const kubeconfig = await serve({
      [`GET ${CORE}/events`]: listOf('EventList', 'v1', [
        event({
          kind: 'Pod',
          name: 'payments-api-7d9c8f6b4-k8p2m',
          type: 'Warning',
          reason: 'BackOff',
          message: 'Back-off restarting failed container app in pod payments-api-7d9c8f6b4-k8p2m_shop',
          lastTimestamp: '2025-01-10T09:10:00Z',
        }),
        event({
          kind: 'Deployment',
          name: 'payments-api',
          reason: 'ScalingReplicaSet',
          message: 'Scaled up replica set payments-api-7d9c8f6b4 to 3',
          lastTimestamp: '2025-01-10T09:00:00Z',
        }),
        event({
          kind: 'Pod',
          name: 'payments-api-worker-5f6b7c8d9-abcde',
          reason: 'Started',
          message: 'Started container worker',
          lastTimestamp: '2025-01-10T09:12:00Z',
        }),
        event({
          kind: 'Pod',
          name: 'payments-api-7d9c8f6b4-x2x4z',
          reason: 'Pulled',
          message: 'Container image "registry.example.com/payments-api:1.4.2" already present on machine',
          lastTimestamp: '2025-01-10T09:00:05Z',
        }),
        event({
          kind: 'HorizontalPodAutoscaler',
          name: 'payments-api',
          reason: 'SuccessfulRescale',
          message: 'New size: 3; reason: cpu resource utilization (percentage of request) above target',
          lastTimestamp: '2025-01-10T09:05:00Z',
        }),
        event({
          kind: 'ReplicaSet',
          name: 'payments-api-worker-5f6b7c8d9',
          reason: 'SuccessfulCreate',
          message: 'Created pod: payments-api-worker-5f6b7c8d9-abcde',
          lastTimestamp: '2025-01-10T09:12:00Z',
        }),
        event({
          kind: 'Pod',
          name: 'payments-api-7d9c8f6b4-k8p2m',
          type: 'Warning',
          reason: 'Unhealthy',
          message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
          eventTime: '2025-01-10T09:03:00.000000Z',
          seriesLastObserved: '2025-01-10T09:11:30.250000Z',
        }),
        event({
          kind: 'Service',
          name: 'payments-api',
          reason: 'EnsuringLoadBalancer',
          message: 'Ensuring load balancer',
          lastTimestamp: '2025-01-10T09:13:00Z',
        }),
        event({
          kind: 'ReplicaSet',
          name: 'payments-api-7d9c8f6b4',
          reason: 'SuccessfulCreate',
          message: 'Created pod: payments-api-7d9c8f6b4-x2x4z',
          lastTimestamp: '2025-01-10T09:00:01Z',
        }),
        event({
          kind: 'Pod',
          name: 'search-6c7d8e9f0-zq4wx',
          reason: 'Killing',
          message: 'Stopping container app',
          lastTimestamp: '2025-01-10T09:14:00Z',
        }),
        event({
          kind: 'Pod',
          name: 'payments-api-7d9c8f6b4-x2x4z',
          reason: 'Scheduled',
          message: 'Successfully assigned shop/payments-api-7d9c8f6b4-x2x4z to node-2',
          eventTime: '2025-01-10T09:00:01.512345Z',
        }),
      ]),
    });

    const [lastFive, all, none] = await runDriver({ namespace: NAMESPACE, kubeconfig, workloads: PAYMENTS }, [
      ['events', 'payments', 5],
      ['events', 'payments', 100],
      ['events', 'payments', 0],
    ]);

    expect(lastFive).toEqual({
      value: [
        {
          time: '2025-01-10T09:00:01.512Z',
          type: 'normal',
          reason: 'Scheduled',
          message: 'Successfully assigned shop/payments-api-7d9c8f6b4-x2x4z to node-2',
          instance: 'payments-api-7d9c8f6b4-x2x4z',
        },
        {
          time: '2025-01-10T09:00:05.000Z',
          type: 'normal',
          reason: 'Pulled',
          message: 'Container image "registry.example.com/payments-api:1.4.2" already present on machine',
          instance: 'payments-api-7d9c8f6b4-x2x4z',
        },
        {
          time: '2025-01-10T09:05:00.000Z',
          type: 'normal',
          reason: 'SuccessfulRescale',
          message: 'New size: 3; reason: cpu resource utilization (percentage of request) above target',
        },
        {
          time: '2025-01-10T09:10:00.000Z',
          type: 'warning',
          reason: 'BackOff',
          message: 'Back-off restarting failed container app in pod payments-api-7d9c8f6b4-k8p2m_shop',
          instance: 'payments-api-7d9c8f6b4-k8p2m',
        },
        {
          // A repeating event is dated by its series' latest occurrence, not its first.
          time: '2025-01-10T09:11:30.250Z',
          type: 'warning',
          reason: 'Unhealthy',
          message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
          instance: 'payments-api-7d9c8f6b4-k8p2m',
        },
      ],
    });
    expect(valueOf(all).map((e: any) => [e.reason, e.instance])).toEqual([
      ['ScalingReplicaSet', undefined],
      ['SuccessfulCreate', undefined],
      ['Scheduled', 'payments-api-7d9c8f6b4-x2x4z'],
      ['Pulled', 'payments-api-7d9c8f6b4-x2x4z'],
      ['SuccessfulRescale', undefined],
      ['BackOff', 'payments-api-7d9c8f6b4-k8p2m'],
      ['Unhealthy', 'payments-api-7d9c8f6b4-k8p2m'],
    ]);
    expect(none).toEqual({ value: [] });
    expect(received()).toEqual([get(`${CORE}/events`), get(`${CORE}/events`), get(`${CORE}/events`)]);
  });

  it("reads the newest running pod's log from its default container", async () => {
    const newestRunning = 'payments-api-7d9c8f6b4-x2x4z';
    const kubeconfig = await serve({
      [`GET ${APPS}/deployments/payments-api`]: { json: deployment('payments-api', { replicas: 2 }) },
      [`GET ${APPS}/deployments/search`]: { json: deployment('search', { replicas: 1, ready: 0 }) },
      [`GET ${CORE}/pods`]: ({ query }) =>
        query.labelSelector === 'app=payments-api'
          ? listOf('PodList', 'v1', [
              pod('payments-api-7d9c8f6b4-a1b2c', { startTime: '2025-01-10T08:00:00Z' }),
              pod(newestRunning, {
                startTime: '2025-01-10T09:00:00Z',
                containers: ['istio-proxy', 'app'],
                annotations: { 'kubectl.kubernetes.io/default-container': 'app' },
              }),
              pod('payments-api-7d9c8f6b4-q7w9t', {
                phase: 'Pending',
                waiting: 'ContainerCreating',
                startTime: '2025-01-10T09:20:00Z',
              }),
            ])
          : listOf('PodList', 'v1', [
              pod('search-6c7d8e9f0-zq4wx', { phase: 'Pending', waiting: 'ImagePullBackOff' }),
            ]),
      [`GET ${CORE}/pods/${newestRunning}/log`]: {
        text: 'GET /health 200 1ms\nPOST /charge 201 48ms\nPOST /charge 502 3001ms upstream timeout\n',
      },
    });

    const [logs, noRunningPod] = await runDriver({ namespace: NAMESPACE, kubeconfig, workloads: PAYMENTS }, [
      ['logs', 'payments', 3],
      ['logs', 'search', 3],
    ]);

    expect(logs).toEqual({
      value: ['GET /health 200 1ms', 'POST /charge 201 48ms', 'POST /charge 502 3001ms upstream timeout'],
    });
    expect(noRunningPod).toEqual({
      error: {
        name: 'DriverError',
        code: ErrorCode.DriverFailed,
        message: 'Deployment search has no running pod in namespace shop',
      },
    });
    expect(received().slice(0, 3)).toEqual([
      get(`${APPS}/deployments/payments-api`),
      get(`${CORE}/pods`, { labelSelector: 'app=payments-api' }),
      get(`${CORE}/pods/${newestRunning}/log`, { container: 'app', tailLines: '3' }),
    ]);
  });

  it('says which workload is missing, trying an unmapped service as a Deployment, then a StatefulSet', async () => {
    const notFound = (resource: string, name: string) =>
      apiStatus(404, 'NotFound', `${resource} "${name}" not found`);
    const kubeconfig = await serve({
      [`GET ${APPS}/deployments/payments-api`]: notFound('deployments.apps', 'payments-api'),
      [`GET ${APPS}/deployments/ledger`]: notFound('deployments.apps', 'ledger'),
      [`GET ${APPS}/statefulsets/ledger`]: {
        json: statefulSet('ledger', { replicas: 1, selector: { matchLabels: { app: 'ledger' } } }),
      },
      [`GET ${CORE}/pods`]: listOf('PodList', 'v1', [pod('ledger-0')]),
      [`GET ${APPS}/deployments/ghost`]: notFound('deployments.apps', 'ghost'),
      [`GET ${APPS}/statefulsets/ghost`]: notFound('statefulsets.apps', 'ghost'),
    });

    const [missing, ledger, ghost] = await runDriver(
      { namespace: NAMESPACE, kubeconfig, workloads: PAYMENTS },
      [
        ['status', 'payments'],
        ['status', 'ledger'],
        ['status', 'ghost'],
      ],
    );

    expect(missing).toEqual({
      error: {
        name: 'DriverError',
        code: ErrorCode.DriverFailed,
        message: 'no Deployment payments-api in namespace shop',
      },
    });
    expect(ledger).toEqual({ value: expect.objectContaining({ service: 'ledger', state: 'running' }) });
    expect(ghost).toEqual({
      error: {
        name: 'DriverError',
        code: ErrorCode.DriverFailed,
        message: 'no Deployment or StatefulSet ghost in namespace shop',
      },
    });
    expect(received().map(({ method, path: requestPath }) => `${method} ${requestPath}`)).toEqual([
      `GET ${APPS}/deployments/payments-api`,
      `GET ${APPS}/deployments/ledger`,
      `GET ${APPS}/statefulsets/ledger`,
      `GET ${CORE}/pods`,
      `GET ${APPS}/deployments/ghost`,
      `GET ${APPS}/statefulsets/ghost`,
    ]);
  });

  it('passes on why Kubernetes refused or failed, with the message of its Status and never the token', async () => {
    const kubeconfig = await serve({
      [`PATCH ${APPS}/deployments/payments-api/scale`]: apiStatus(
        403,
        'Forbidden',
        'deployments.apps "payments-api" is forbidden: User "system:serviceaccount:ops:opsbot" cannot patch ' +
          'resource "deployments/scale" in API group "apps" in the namespace "shop"',
      ),
      [`GET ${APPS}/deployments`]: apiStatus(401, 'Unauthorized', 'Unauthorized'),
      [`GET ${APPS}/statefulsets`]: listOf('StatefulSetList', 'apps/v1', []),
      [`GET ${CORE}/events`]: apiStatus(500, 'InternalError', 'etcdserver: request timed out'),
    });

    const outcomes = await runDriver({ namespace: NAMESPACE, kubeconfig, workloads: PAYMENTS }, [
      ['scale', 'payments', 2],
      ['list'],
      ['events', 'payments', 10],
    ]);

    expect(
      outcomes.map((outcome) => ('error' in outcome ? [outcome.error.code, outcome.error.message] : outcome)),
    ).toEqual([
      [
        ErrorCode.DriverFailed,
        'Kubernetes refused to scale Deployment payments-api (403 Forbidden: deployments.apps "payments-api" is ' +
          'forbidden: User "system:serviceaccount:ops:opsbot" cannot patch resource "deployments/scale" in API ' +
          'group "apps" in the namespace "shop")',
      ],
      // The generated client drops the body of a 401, so only the status is left to report.
      [ErrorCode.DriverFailed, 'Kubernetes refused to list Deployments in namespace shop (401 Unauthorized)'],
      [
        ErrorCode.DriverFailed,
        'Kubernetes could not list events in namespace shop (500 Internal Server Error: etcdserver: request timed out)',
      ],
    ]);
    expect(JSON.stringify(outcomes)).not.toContain(TOKEN);
  });

  it('names the API server it cannot reach', async () => {
    const closed = await KubernetesApiFake.start({});
    await closed.close();
    const kubeconfig = writeKubeconfig(closed.url);

    const [status] = await runDriver({ namespace: NAMESPACE, kubeconfig }, [['status', 'payments']]);

    expect(status).toEqual({
      error: {
        name: 'DriverError',
        code: ErrorCode.DriverFailed,
        message: `cannot reach the Kubernetes API at ${closed.url} (ECONNREFUSED)`,
      },
    });
  });

  it('gives up on a call the API server never answers, with DriverTimeout', async () => {
    const kubeconfig = await serve({ [`GET ${APPS}/deployments/payments-api`]: 'no answer' });

    const startedAt = Date.now();
    const [status] = await runDriver(
      { namespace: NAMESPACE, kubeconfig, workloads: PAYMENTS, timeoutMs: 300 },
      [['status', 'payments']],
    );

    expect(status).toEqual({
      error: {
        name: 'DriverError',
        code: ErrorCode.DriverTimeout,
        message: 'Kubernetes did not answer in 300 ms when asked to read Deployment payments-api',
      },
    });
    expect(received()).toHaveLength(1);
    // The child process's start-up is most of this; the point is it did not wait out the 15 s default.
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });

  it('finds the kubeconfig through $KUBECONFIG and uses the context it is told to', async () => {
    const kubeconfig = await serve({
      [`GET ${APPS}/deployments/search`]: { json: deployment('search', { replicas: 0 }) },
      [`GET ${CORE}/pods`]: listOf('PodList', 'v1', []),
    });
    const missingFile = path.join(dir, 'missing.yaml');

    const [readonly] = await runDriver(
      { namespace: NAMESPACE, context: 'shop-readonly' },
      [['status', 'search']],
      {
        KUBECONFIG: kubeconfig,
      },
    );
    const [unknownContext] = await runDriver({ namespace: NAMESPACE, kubeconfig, context: 'prod' }, [
      ['list'],
    ]);
    const [missing] = await runDriver({ namespace: NAMESPACE, kubeconfig: missingFile }, [['list']]);

    expect(readonly).toEqual({ value: expect.objectContaining({ service: 'search', state: 'down' }) });
    expect(received().map(({ authorization }) => authorization)).toEqual([
      `Bearer ${READONLY_TOKEN}`,
      `Bearer ${READONLY_TOKEN}`,
    ]);
    expect(unknownContext).toEqual({
      error: {
        name: 'ConfigError',
        code: ErrorCode.ConfigInvalid,
        message: 'the kubeconfig has no context prod',
      },
    });
    expect(missing).toEqual({
      error: {
        name: 'ConfigError',
        code: ErrorCode.ConfigInvalid,
        message: expect.stringContaining(`cannot load the kubeconfig ${missingFile}: ENOENT`),
      },
    });
  });
});
