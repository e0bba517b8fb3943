import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { OpsEvent } from '../../engines/eventbus/envelope';
import { MemoryEventStore } from '../../engines/eventbus/memory-event-store';

function event(n: number, extra: Partial<OpsEvent> = {}): OpsEvent {
  return {
    specversion: '1.0',
    id: `evt-${n}`,
    type: n % 2 === 0 ? 'order.created' : 'payment.charged',
    source: '/services/orders',
    time: new Date(Date.UTC(2026, 10, 21, 12, 0, n)).toISOString(),
    subject: `order/${n}`,
    correlationid: `order-${n}`,
    datacontenttype: 'application/json',
    data: { orderId: n, lines: [{ sku: `SKU-${n}` }] },
    ...extra,
  };
}

describe('memory event store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'opsbot-event-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('answers queries newest first by type glob, subject, mention, correlation id and time', async () => {
    const store = new MemoryEventStore({ dir });
    await store.append([...Array(10).keys()].map((n) => event(n)));
    expect((await store.query({ type: 'order.*', limit: 3 })).map((e) => e.id)).toEqual([
      'evt-8',
      'evt-6',
      'evt-4',
    ]);
    expect((await store.query({ subject: 'order/3' })).map((e) => e.id)).toEqual(['evt-3']);
    expect((await store.query({ mentions: 'SKU-7' })).map((e) => e.id)).toEqual(['evt-7']);
    expect((await store.query({ mentions: '7' })).map((e) => e.id)).toEqual(['evt-7']);
    expect((await store.query({ correlationid: 'order-2' })).map((e) => e.id)).toEqual(['evt-2']);
    const since = new Date(Date.UTC(2026, 10, 21, 12, 0, 8));
    expect((await store.query({ since })).map((e) => e.id)).toEqual(['evt-9', 'evt-8']);
    expect(await store.get('evt-5')).toEqual(event(5));
  });

  it('keeps a republished event once, in memory and on disk', async () => {
    const store = new MemoryEventStore({ dir });
    await store.append([event(1), event(2)]);
    await store.append([event(1)]);
    expect((await store.query({})).map((e) => e.id)).toEqual(['evt-2', 'evt-1']);
    expect(readFileSync(path.join(dir, 'events.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('keeps its events across a restart, and keeps its file bounded to the latest events', async () => {
    const store = new MemoryEventStore({ dir, capacity: 100 });
    for (let n = 0; n < 450; n += 10) {
      await store.append([...Array(10).keys()].map((i) => event(n + i)));
      // Publishing is paced by I/O in real life; the rewrite of the file finishes between batches.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await store.close();
    const lines = readFileSync(path.join(dir, 'events.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThan(200);
    const reopened = new MemoryEventStore({ dir, capacity: 100 });
    const latest = await reopened.query({ limit: 1000 });
    expect(latest[0]?.id).toBe('evt-449');
    expect(latest.length).toBeGreaterThanOrEqual(100);
    expect(await reopened.get('evt-449')).toEqual(event(449));
    expect(await reopened.get('evt-0')).toBeUndefined();
  });
});
