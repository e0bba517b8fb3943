import type { EnvironmentName } from '../config/schema';
import { KeyedSerialQueue } from '../core/keyed-serial-queue';
import type { PlatformDriver } from './platform-driver';

/**
 * The platform driver of each environment, and the lock that keeps changes to one service from overlapping:
 * a second restart of payments waits for the first to finish and be verified, then runs (two people pressing
 * "restart" during an incident get two clean restarts, not two interleaved ones). Within one process only.
 */
export class Platforms {
  private readonly changes = new KeyedSerialQueue();

  constructor(private readonly drivers: Partial<Record<EnvironmentName, PlatformDriver>>) {}

  driver(environment: EnvironmentName): PlatformDriver | undefined {
    return this.drivers[environment];
  }

  environments(): EnvironmentName[] {
    return Object.keys(this.drivers) as EnvironmentName[];
  }

  /** Runs `change` once no other change to this service in this environment is running. */
  exclusive<T>(environment: EnvironmentName, service: string, change: () => Promise<T>): Promise<T> {
    return this.changes.run(`${environment}/${service}`, change);
  }

  /** True while a change to this service is running or queued. */
  changing(environment: EnvironmentName, service: string): boolean {
    return this.changes.busy(`${environment}/${service}`);
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.drivers).map((driver) => driver?.close?.()));
  }
}
