import type { PlatformDriver } from '../../bot/platform/platform-driver';
import type { ConsumerPool } from '../eventbus/consumer-pool';

/**
 * What the scaler scales: a catalog service through its environment's platform driver, or opsbot's own event
 * bus consumers. Both answer how many replicas they run and take a new count; the scaler does not care which.
 */
export interface ScaleTarget {
  /** "checkout in production (local)", "opsbot.router consumers". */
  readonly description: string;
  /** The driver's kind, for the audit record. */
  readonly driver: string;
  replicas(): Promise<number>;
  scale(replicas: number): Promise<void>;
}

/** A catalog service on its platform: the desired count is the platform's, so a scale by hand is seen too. */
export class PlatformScaleTarget implements ScaleTarget {
  readonly description: string;
  readonly driver: string;

  constructor(
    private readonly platform: PlatformDriver,
    private readonly service: string,
    environment: string,
  ) {
    this.description = `${service} in ${environment} (${platform.kind})`;
    this.driver = platform.kind;
  }

  async replicas(): Promise<number> {
    const status = await this.platform.status(this.service);
    return status.replicas?.desired ?? status.instances?.length ?? 0;
  }

  scale(replicas: number): Promise<void> {
    return this.platform.scale(this.service, replicas);
  }
}

/** opsbot's own consumers of one event bus group, in this process (the local driver of the bus). */
export class ConsumerPoolScaleTarget implements ScaleTarget {
  readonly description: string;
  readonly driver = 'local';

  constructor(private readonly pool: ConsumerPool) {
    this.description = `${pool.group} consumers`;
  }

  replicas(): Promise<number> {
    return Promise.resolve(this.pool.size);
  }

  scale(replicas: number): Promise<void> {
    return this.pool.resize(Math.max(1, replicas));
  }
}
