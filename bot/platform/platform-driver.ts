import { ErrorCode, OpsbotError } from '../core/errors';

/** One running copy of a service: a pod, a local process. */
export interface ServiceInstance {
  /** The platform's name for it: a pod name, "payments-2". */
  id: string;
  state: 'starting' | 'ready' | 'unhealthy' | 'exited';
  pid?: number;
  /** Where it listens, when the platform knows (local processes). */
  url?: string;
  /** ISO 8601. */
  startedAt?: string;
  restarts?: number;
  detail?: string;
}

/** What a platform reports of one service in one environment. */
export interface ServiceStatus {
  service: string;
  state: 'running' | 'degraded' | 'down' | 'unknown';
  /** Replicas asked for and replicas ready, when the platform knows them. */
  replicas?: { desired: number; ready: number };
  instances?: ServiceInstance[];
  detail?: string;
}

/** Something the platform recorded about a service: a pod event, a process that exited, a scale. */
export interface PlatformEvent {
  /** ISO 8601. */
  time: string;
  type: 'normal' | 'warning';
  /** A short CamelCase reason, as Kubernetes events have: "Started", "Exited", "Unhealthy", "Scaled". */
  reason: string;
  message: string;
  /** The instance it concerns, when one. */
  instance?: string;
}

/**
 * The port through which opsbot reads and changes a platform: Kubernetes, user-configured commands, or local
 * processes. Services are catalog names; mapping them to deployments, units or commands is the driver's job.
 * Mutations return once the platform accepted them; callers verify the outcome with `status`.
 */
export interface PlatformDriver {
  readonly kind: string;
  /** The services this driver can see on its platform, by catalog name. */
  list(): Promise<string[]>;
  status(service: string): Promise<ServiceStatus>;
  restart(service: string): Promise<void>;
  scale(service: string, replicas: number): Promise<void>;
  /** The most recent events, newest last, at most `limit`. */
  events(service: string, limit: number): Promise<PlatformEvent[]>;
  /** The last `lines` lines the service logged (one instance's, or merged), oldest first. */
  logs(service: string, lines: number): Promise<string[]>;
  close?(): Promise<void>;
}

/** A driver call that failed or ran out of time; `output` is the tail of what it printed, for the user. */
export class DriverError extends OpsbotError {
  constructor(
    code: ErrorCode.DriverFailed | ErrorCode.DriverTimeout,
    message: string,
    readonly output = '',
  ) {
    super(code, message);
    this.name = 'DriverError';
  }
}
