import { ErrorCode, OpsbotError } from '../core/errors';

/** What a platform reports of one service in one environment. */
export interface ServiceStatus {
  service: string;
  state: 'running' | 'degraded' | 'down' | 'unknown';
  /** Replicas asked for and replicas ready, when the platform knows them. */
  replicas?: { desired: number; ready: number };
  detail?: string;
}

/**
 * The port through which opsbot reads and changes a platform: Kubernetes, user-configured commands, or local
 * processes. Services are catalog names; mapping them to deployments, units or commands is the driver's job.
 */
export interface PlatformDriver {
  readonly kind: string;
  status(service: string): Promise<ServiceStatus>;
  restart(service: string): Promise<void>;
  scale(service: string, replicas: number): Promise<void>;
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
