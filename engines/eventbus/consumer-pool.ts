import type { Subscription } from './transport';

/**
 * The consumers one group runs in this process. The group's partitions are shared among them (by the
 * transport), so more consumers drain a lagging group faster when its handlers wait on I/O; the scaler
 * resizes the router's pool on lag. Resizes run one at a time, in the order asked.
 */
export class ConsumerPool {
  private readonly members: Subscription[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly group: string,
    private readonly join: () => Promise<Subscription>,
  ) {}

  get size(): number {
    return this.members.length;
  }

  resize(consumers: number): Promise<void> {
    if (!Number.isInteger(consumers) || consumers < 1)
      return Promise.reject(
        new RangeError(`a consumer pool needs a whole number of consumers from 1, not ${consumers}`),
      );
    const next = this.queue.then(async () => {
      while (this.members.length < consumers) this.members.push(await this.join());
      while (this.members.length > consumers) await this.members.pop()?.close();
    });
    // A failed resize must not wedge the ones after it.
    this.queue = next.catch(() => undefined);
    return next;
  }
}
