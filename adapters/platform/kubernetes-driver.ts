import { STATUS_CODES } from 'node:http';
import type {
  AppsV1Api,
  ConfigurationOptions,
  CoreV1Api,
  CoreV1Event,
  ObservableMiddleware,
  PatchStrategy,
  V1Deployment,
  V1LabelSelector,
  V1ObjectReference,
  V1Pod,
  V1StatefulSet,
} from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { ConfigError, ErrorCode } from '../../bot/core/errors';
import {
  DriverError,
  type PlatformDriver,
  type PlatformEvent,
  type ServiceInstance,
  type ServiceStatus,
} from '../../bot/platform/platform-driver';

type KubernetesClient = typeof import('@kubernetes/client-node', { with: { 'resolution-mode': 'import' } });

/** A healthy API server answers in milliseconds; one silent this long is stuck, and saying so beats waiting. */
const API_CALL_TIMEOUT_MS = 15_000;
/**
 * Recorded in each workload's managedFields for the changes opsbot makes, so "who scaled this?" has an
 * answer in the cluster itself.
 */
const FIELD_MANAGER = 'opsbot';
/** The annotation `kubectl rollout restart` sets; any change to the pod template makes the controller roll it. */
const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
/** Which container `kubectl logs` reads from a pod that has several. */
const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';
/** Reasons a container waits while it is still being set up, as opposed to one that cannot start. */
const SETUP_WAITING_REASONS = new Set(['ContainerCreating', 'PodInitializing']);
/**
 * Kinds whose events about an object named exactly like the workload concern it: the workload itself and the
 * autoscaler that, by convention, is named after it.
 */
const WORKLOAD_EVENT_KINDS = new Set(['Deployment', 'StatefulSet', 'HorizontalPodAutoscaler']);
/**
 * The changes opsbot makes to a workload, as kubectl sends them: how the API is to read each body, and the
 * method that patches each kind (a scale goes to the scale subresource).
 */
const WORKLOAD_PATCHES = {
  restart: {
    strategy: 'StrategicMergePatch',
    Deployment: 'patchNamespacedDeployment',
    StatefulSet: 'patchNamespacedStatefulSet',
  },
  scale: {
    strategy: 'MergePatch',
    Deployment: 'patchNamespacedDeploymentScale',
    StatefulSet: 'patchNamespacedStatefulSetScale',
  },
} as const satisfies Record<
  string,
  { strategy: keyof typeof PatchStrategy } & Record<KubernetesWorkload['kind'], keyof AppsV1Api>
>;

export interface KubernetesWorkload {
  kind: 'Deployment' | 'StatefulSet';
  name: string;
}

export interface KubernetesDriverOptions {
  /** The namespace this environment's workloads live in. */
  namespace: string;
  /** A kubeconfig file; unset, $KUBECONFIG, then ~/.kube/config, then the in-cluster service account. */
  kubeconfig?: string;
  /** A context of the kubeconfig to use instead of its current one. */
  context?: string;
  /**
   * Catalog service name → the workload that runs it. A service not listed is the Deployment named like it,
   * or else the StatefulSet: listing it saves that second lookup.
   */
  workloads?: Record<string, KubernetesWorkload>;
  /** Limits `list` to the workloads it selects ("team=payments"). */
  labelSelector?: string;
  /** Per API call; a call that takes longer fails with DriverTimeout. */
  timeoutMs?: number;
}

type FoundWorkload =
  | { kind: 'Deployment'; name: string; object: V1Deployment }
  | { kind: 'StatefulSet'; name: string; object: V1StatefulSet };

/** The client and the API handles made from the kubeconfig, on the first call. */
interface Connection {
  client: KubernetesClient;
  apps: AppsV1Api;
  core: CoreV1Api;
  /** The API server's URL, for errors: it names the cluster without revealing credentials. */
  server: string;
}

/** What one API call is for: the words its errors are phrased in. */
interface ApiCall {
  /** Completes "Kubernetes refused to …": "scale Deployment payments". */
  action: string;
  /** The whole message when the API answers 404; without one, a 404 is an error like any other. */
  notFound?: string;
  /** For patches: the API reads the body according to it. */
  patchStrategy?: keyof typeof PatchStrategy;
}

/** A 404 for the object a call names; for a service without a mapping, the cue to try the other kind. */
class NotFound extends DriverError {
  constructor(message: string) {
    super(ErrorCode.DriverFailed, message);
  }
}

/**
 * Drives Deployments and StatefulSets in one namespace through the Kubernetes API, with the credentials of a
 * kubeconfig or the pod's service account. Restart and scale are what `kubectl rollout restart` and
 * `kubectl scale` send, so the cluster's controllers do the work and its audit log shows the usual verbs.
 * The kubeconfig is read on the first call, so a process that never drives this environment (a CLI command,
 * a test) neither loads the client nor fails on a kubeconfig it does not need.
 */
export class KubernetesDriver implements PlatformDriver {
  readonly kind = 'kubernetes';
  private readonly namespace: string;
  private readonly workloads: Record<string, KubernetesWorkload>;
  private readonly timeoutMs: number;
  private connection: Connection | undefined;

  constructor(private readonly options: KubernetesDriverOptions) {
    this.namespace = options.namespace;
    this.workloads = options.workloads ?? {};
    this.timeoutMs = options.timeoutMs ?? API_CALL_TIMEOUT_MS;
  }

  async list(): Promise<string[]> {
    const { namespace } = this;
    const { labelSelector } = this.options;
    const [deployments, statefulSets] = await Promise.all([
      this.call({ action: `list Deployments in namespace ${namespace}` }, ({ apps }, options) =>
        apps.listNamespacedDeployment({ namespace, labelSelector }, options),
      ),
      this.call({ action: `list StatefulSets in namespace ${namespace}` }, ({ apps }, options) =>
        apps.listNamespacedStatefulSet({ namespace, labelSelector }, options),
      ),
    ]);
    const services = new Map(
      Object.entries(this.workloads).map(([service, { kind, name }]) => [`${kind}/${name}`, service]),
    );
    const serviceOf = (kind: string, name = '') => services.get(`${kind}/${name}`) ?? name;
    const names = [
      ...deployments.items.map((deployment) => serviceOf('Deployment', deployment.metadata?.name)),
      ...statefulSets.items.map((statefulSet) => serviceOf('StatefulSet', statefulSet.metadata?.name)),
    ];
    return [...new Set(names)].sort();
  }

  /**
   * A workload scaled to 0 is down, since nothing answers, with a detail saying it was asked to be, so it does
   * not read as an outage. One whose pods are all ready is still degraded while a rollout replaces them.
   */
  async status(service: string): Promise<ServiceStatus> {
    const workload = await this.read(service);
    const instances = (await this.pods(workload)).map(instance);
    // The API server fills in 1 when a manifest leaves the count out.
    const desired = workload.object.spec?.replicas ?? 1;
    const ready = workload.object.status?.readyReplicas ?? 0;
    const status: ServiceStatus = { service, state: 'running', replicas: { desired, ready }, instances };
    if (desired === 0) return { ...status, state: 'down', detail: 'scaled to 0' };
    if (ready < desired) {
      return { ...status, state: ready === 0 ? 'down' : 'degraded', detail: `${ready} of ${desired} ready` };
    }
    const rollout = rolloutInProgress(workload, desired);
    return rollout ? { ...status, state: 'degraded', detail: rollout } : status;
  }

  async restart(service: string): Promise<void> {
    // Milliseconds, unlike kubectl's seconds, so a second restart within the same second is not a no-op patch.
    const restartedAt = new Date().toISOString();
    await this.patchWorkload(service, 'restart', {
      spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } } } },
    });
  }

  async scale(service: string, replicas: number): Promise<void> {
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new DriverError(
        ErrorCode.DriverFailed,
        `replicas must be a whole number of 0 or more, not ${replicas}`,
      );
    }
    await this.patchWorkload(service, 'scale', { spec: { replicas } });
  }

  /**
   * The events of the workload, its ReplicaSets and its pods, including pods already gone. A field selector
   * matches whole names only, so the namespace's events are read once and told apart by name here.
   */
  async events(service: string, limit: number): Promise<PlatformEvent[]> {
    const { namespace } = this;
    const list = await this.call({ action: `list events in namespace ${namespace}` }, ({ core }, options) =>
      core.listNamespacedEvent({ namespace }, options),
    );
    const concernsWorkload = belongsTo(this.workloads[service]?.name ?? service);
    const events = list.items
      .filter((event) => concernsWorkload(event.involvedObject))
      .map(platformEvent)
      .sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    return events.slice(Math.max(0, events.length - limit));
  }

  /** The newest running pod's log: after a restart that is the current code, not the last of the old pods. */
  async logs(service: string, lines: number): Promise<string[]> {
    const workload = await this.read(service);
    const running = (await this.pods(workload)).filter((pod) => pod.status?.phase === 'Running');
    const pod = newest(running);
    if (!pod) {
      throw new DriverError(
        ErrorCode.DriverFailed,
        `${label(workload)} has no running pod in namespace ${this.namespace}`,
      );
    }
    const name = pod.metadata?.name ?? '';
    const text = await this.call(
      {
        action: `read the log of pod ${name}`,
        notFound: `pod ${name} is no longer in namespace ${this.namespace}`,
      },
      ({ core }, options) =>
        core.readNamespacedPodLog(
          { name, namespace: this.namespace, container: defaultContainer(pod), tailLines: lines },
          options,
        ),
    );
    const logged = text.split('\n');
    if (logged.at(-1) === '') logged.pop();
    return logged;
  }

  private read(service: string): Promise<FoundWorkload> {
    return this.onWorkload(service, async ({ kind, name }): Promise<FoundWorkload> => {
      const call = { action: `read ${kind} ${name}`, notFound: this.notFound({ kind, name }) };
      const request = { name, namespace: this.namespace };
      return kind === 'Deployment'
        ? {
            kind,
            name,
            object: await this.call(call, ({ apps }, o) => apps.readNamespacedDeployment(request, o)),
          }
        : {
            kind,
            name,
            object: await this.call(call, ({ apps }, o) => apps.readNamespacedStatefulSet(request, o)),
          };
    });
  }

  /**
   * Runs `operation` on the service's workload. A service without a mapping is tried as a Deployment, then as
   * a StatefulSet, because `list` reports both kinds by their own names.
   */
  private async onWorkload<T>(
    service: string,
    operation: (workload: KubernetesWorkload) => Promise<T>,
  ): Promise<T> {
    const mapped = this.workloads[service];
    if (mapped) return operation(mapped);
    for (const kind of ['Deployment', 'StatefulSet'] as const) {
      try {
        return await operation({ kind, name: service });
      } catch (error) {
        if (!(error instanceof NotFound)) throw error;
      }
    }
    throw new DriverError(
      ErrorCode.DriverFailed,
      `no Deployment or StatefulSet ${service} in namespace ${this.namespace}`,
    );
  }

  /** Patches the service's workload as opsbot's field manager, so the change is attributed to it. */
  private async patchWorkload(
    service: string,
    change: keyof typeof WORKLOAD_PATCHES,
    body: object,
  ): Promise<void> {
    const patch = WORKLOAD_PATCHES[change];
    await this.onWorkload(service, (workload) =>
      this.call<unknown>(
        {
          action: `${change} ${label(workload)}`,
          notFound: this.notFound(workload),
          patchStrategy: patch.strategy,
        },
        ({ apps }, options) =>
          apps[patch[workload.kind]](
            { name: workload.name, namespace: this.namespace, body, fieldManager: FIELD_MANAGER },
            options,
          ),
      ),
    );
  }

  private async pods(workload: FoundWorkload): Promise<V1Pod[]> {
    const labelSelector = selectorQuery(workload.object.spec?.selector);
    const list = await this.call({ action: `list the pods of ${label(workload)}` }, ({ core }, options) =>
      core.listNamespacedPod({ namespace: this.namespace, labelSelector }, options),
    );
    return list.items;
  }

  private notFound(workload: KubernetesWorkload): string {
    return `no ${label(workload)} in namespace ${this.namespace}`;
  }

  /**
   * Sends one request with this driver's timeout, which aborts the request itself rather than only stop
   * waiting for it, and turns whatever goes wrong into a DriverError phrased for the user.
   */
  private async call<T>(
    call: ApiCall,
    send: (connection: Connection, options: ConfigurationOptions) => Promise<T>,
  ): Promise<T> {
    const connection = this.connect();
    const { client } = connection;
    const signal = AbortSignal.timeout(this.timeoutMs);
    const abortOnTimeout: ObservableMiddleware = {
      pre: (request) => {
        request.setSignal(signal);
        return new client.Observable(Promise.resolve(request));
      },
      post: (response) => new client.Observable(Promise.resolve(response)),
    };
    const options: ConfigurationOptions = { middleware: [abortOnTimeout], middlewareMergeStrategy: 'append' };
    try {
      return await send(
        connection,
        // The generated client labels every patch a JSON Patch unless told the body is something else.
        call.patchStrategy
          ? client.setHeaderOptions('Content-Type', client.PatchStrategy[call.patchStrategy], options)
          : options,
      );
    } catch (error) {
      throw this.failure(connection, call, error, signal);
    }
  }

  private failure(connection: Connection, call: ApiCall, error: unknown, signal: AbortSignal): DriverError {
    if (signal.aborted) {
      return new DriverError(
        ErrorCode.DriverTimeout,
        `Kubernetes did not answer in ${this.timeoutMs} ms when asked to ${call.action}`,
      );
    }
    if (error instanceof connection.client.ApiException) {
      const code = error.code;
      if (code === 404 && call.notFound) return new NotFound(call.notFound);
      const reason = [`${code} ${STATUS_CODES[code] ?? 'error'}`, statusMessage(error.body)].filter(Boolean);
      const verb = code === 401 || code === 403 ? 'refused to' : 'could not';
      return new DriverError(
        ErrorCode.DriverFailed,
        `Kubernetes ${verb} ${call.action} (${reason.join(': ')})`,
      );
    }
    if (error instanceof connection.client.FetchError) {
      return new DriverError(
        ErrorCode.DriverFailed,
        `cannot reach the Kubernetes API at ${connection.server} (${error.code ?? error.message})`,
      );
    }
    return new DriverError(ErrorCode.DriverFailed, `could not ${call.action}: ${messageOf(error)}`);
  }

  /** Loads the kubeconfig once it is needed; one that failed to load is tried again on the next call. */
  private connect(): Connection {
    if (this.connection) return this.connection;
    const { kubeconfig, context } = this.options;
    const client = loadKubernetesClient();
    const config = new client.KubeConfig();
    try {
      if (kubeconfig === undefined) config.loadFromDefault();
      else config.loadFromFile(kubeconfig);
    } catch (error) {
      throw new ConfigError(`cannot load the kubeconfig ${kubeconfig ?? '(default)'}: ${messageOf(error)}`);
    }
    if (context !== undefined) {
      if (!config.getContextObject(context)) {
        throw new ConfigError(`the kubeconfig has no context ${context}`);
      }
      config.setCurrentContext(context);
    }
    const cluster = config.getCurrentCluster();
    if (!cluster) {
      throw new ConfigError(`the kubeconfig's context ${config.getCurrentContext()} names no cluster`);
    }
    this.connection = {
      client,
      apps: config.makeApiClient(client.AppsV1Api),
      core: config.makeApiClient(client.CoreV1Api),
      server: cluster.server,
    };
    return this.connection;
  }
}

/**
 * The package is ESM-only, so a static import from this CommonJS module is rejected (TS1479); Node 20.19+ can
 * require it. It is required on the first call, not at import, because jest's CommonJS sandbox cannot load it
 * and everything that builds platforms imports this module, and so only processes that drive Kubernetes load
 * it.
 */
function loadKubernetesClient(): KubernetesClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@kubernetes/client-node') as KubernetesClient;
}

const label = ({ kind, name }: KubernetesWorkload) => `${kind} ${name}`;

/**
 * Why a workload whose pods are all ready is still being rolled out, if it is: its controller has not yet
 * acted on the latest change, or not every pod runs the current template. A StatefulSet that updates on
 * delete or behind a partition keeps old pods on purpose, so that alone is no rollout.
 */
function rolloutInProgress(workload: FoundWorkload, desired: number): string | undefined {
  const { metadata, status } = workload.object;
  if ((status?.observedGeneration ?? 0) < (metadata?.generation ?? 0)) {
    return 'rollout starting: the controller has not yet acted on the latest change';
  }
  if (workload.kind === 'StatefulSet') {
    const strategy = workload.object.spec?.updateStrategy;
    if (strategy?.type === 'OnDelete' || (strategy?.rollingUpdate?.partition ?? 0) > 0) return undefined;
  }
  const updated = status?.updatedReplicas ?? 0;
  return updated < desired ? `rollout in progress: ${updated} of ${desired} updated` : undefined;
}

/** A LabelSelector in the `key=value,key in (a,b)` syntax the API takes as a query parameter. */
function selectorQuery(selector: V1LabelSelector | undefined): string {
  const labels = Object.entries(selector?.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  const expressions = (selector?.matchExpressions ?? []).map(({ key, operator, values = [] }) => {
    if (operator === 'In') return `${key} in (${values.join(',')})`;
    if (operator === 'NotIn') return `${key} notin (${values.join(',')})`;
    return operator === 'Exists' ? key : `!${key}`;
  });
  return [...labels, ...expressions].join(',');
}

/**
 * A pod not ready yet is starting, unless something says it will not get there by itself: a container that
 * cannot start (CrashLoopBackOff, ImagePullBackOff), a pod no node takes, a node that stopped reporting, or
 * restarts, which mean it was up once and is not now.
 */
function instance(pod: V1Pod): ServiceInstance {
  const { metadata, status } = pod;
  const containers = status?.containerStatuses ?? [];
  const restarts = containers.reduce((sum, container) => sum + container.restartCount, 0);
  const startedAt = status?.startTime ? { startedAt: new Date(status.startTime).toISOString() } : {};
  const found = { id: metadata?.name ?? '', restarts, ...startedAt };
  if (metadata?.deletionTimestamp) return { ...found, state: 'exited', detail: 'terminating' };
  if (status?.phase === 'Succeeded' || status?.phase === 'Failed') {
    return { ...found, state: 'exited', detail: status.reason ?? status.phase };
  }
  const conditions = status?.conditions ?? [];
  if (conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True')) {
    return { ...found, state: 'ready' };
  }
  const waiting = containers.map((container) => container.state?.waiting?.reason).find(Boolean);
  const unscheduled = conditions.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.reason;
  const stuck =
    (waiting !== undefined && !SETUP_WAITING_REASONS.has(waiting)) ||
    unscheduled !== undefined ||
    status?.phase === 'Unknown' ||
    restarts > 0;
  const detail = waiting ?? unscheduled ?? status?.reason;
  return { ...found, state: stuck ? 'unhealthy' : 'starting', ...(detail ? { detail } : {}) };
}

function newest(pods: V1Pod[]): V1Pod | undefined {
  const started = (pod: V1Pod) =>
    new Date(pod.status?.startTime ?? pod.metadata?.creationTimestamp ?? 0).getTime();
  return pods.reduce<V1Pod | undefined>(
    (found, pod) => (!found || started(pod) > started(found) ? pod : found),
    undefined,
  );
}

/** The container `kubectl logs` would read: the API refuses to guess for a pod with several. */
function defaultContainer(pod: V1Pod): string | undefined {
  return pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION] ?? pod.spec?.containers[0]?.name;
}

/**
 * Whether an event's object is the workload or one of its own, told from how Kubernetes names them: its
 * ReplicaSets `payments-7d9c8f`, its pods `payments-7d9c8f-x2x4z` (Deployment) or `payments-0` (StatefulSet).
 * Whole name segments are matched, not the `payments-` prefix, so a sibling such as `payments-worker` and
 * its pods stay out.
 */
function belongsTo(workloadName: string): (object: V1ObjectReference) => boolean {
  const name = workloadName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const replicaSet = new RegExp(`^${name}-[a-z0-9]+$`);
  const pod = new RegExp(`^${name}-([a-z0-9]+-[a-z0-9]{5}|\\d+)$`);
  return ({ kind = '', name: objectName = '' }) =>
    objectName === workloadName
      ? WORKLOAD_EVENT_KINDS.has(kind)
      : (kind === 'ReplicaSet' && replicaSet.test(objectName)) || (kind === 'Pod' && pod.test(objectName));
}

/**
 * An event that repeats is one object whose series or lastTimestamp moves on; eventTime and firstTimestamp
 * are when it first happened. Time fields arrive as strings or Dates depending on the client's model.
 */
function platformEvent(event: CoreV1Event): PlatformEvent {
  const time =
    event.series?.lastObservedTime ??
    event.lastTimestamp ??
    event.eventTime ??
    event.firstTimestamp ??
    event.metadata.creationTimestamp ??
    0;
  const { kind, name } = event.involvedObject;
  return {
    time: new Date(time).toISOString(),
    type: event.type === 'Warning' ? 'warning' : 'normal',
    reason: event.reason ?? '',
    message: event.message ?? '',
    ...(kind === 'Pod' && name ? { instance: name } : {}),
  };
}

/** The message of the Status object the API answers an error with, when the body is one. */
function statusMessage(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const status = JSON.parse(body) as { message?: unknown };
    return typeof status.message === 'string' ? status.message : undefined;
  } catch {
    return undefined;
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
