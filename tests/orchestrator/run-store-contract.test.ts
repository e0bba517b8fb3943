import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { RedisRunStore } from '../../adapters/redis/redis-run-store';
import type { Approval } from '../../engines/orchestrator/approval';
import { FileRunStore } from '../../engines/orchestrator/file-run-store';
import type { WorkflowRun } from '../../engines/orchestrator/run';
import { StaleRunError, type RunStore } from '../../engines/orchestrator/run-store';

/**
 * One contract for every run store: the embedded journal and Redis (127.0.0.1:6379, as on every machine here).
 * What the orchestrator relies on: versioned writes that refuse a stale writer, durable reads after reopening,
 * listing by kind and status newest first, one holder per dedup key, and approvals changed one at a time.
 */
function run(id: string, overrides: Partial<WorkflowRun> = {}): WorkflowRun {
  return {
    id,
    kind: 'saga',
    definitionId: 'order-fulfillment',
    title: 'Order fulfillment',
    params: {},
    status: 'running',
    steps: [
      { id: 'a', action: 'http', mutating: true, status: 'pending', attempts: 0, idempotencyKey: `${id}:a` },
    ],
    actor: 'web:alice',
    roles: ['operator'],
    trigger: { type: 'rest' },
    correlationId: id,
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    version: 1,
    ...overrides,
  };
}

function approval(id: string, runId: string): Approval {
  return {
    id,
    runId,
    summary: 'run saga order-fulfillment',
    required: 2,
    selfApproval: false,
    roles: [],
    requestedBy: 'web:alice',
    approvals: [],
    status: 'pending',
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
  };
}

interface StoreFactory {
  name: string;
  /** A store; `reopen` gives a second one over the same data (a restarted process). */
  open(): Promise<{ store: RunStore; reopen(): RunStore; cleanup(): Promise<void> }>;
}

const factories: StoreFactory[] = [
  {
    name: 'FileRunStore',
    async open() {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'run-store-'));
      const store = new FileRunStore(dir);
      const opened: RunStore[] = [store];
      return {
        store,
        reopen: () => {
          const again = new FileRunStore(dir);
          opened.push(again);
          return again;
        },
        async cleanup() {
          await Promise.all(opened.map((s) => s.close()));
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'RedisRunStore',
    async open() {
      const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
      const prefix = `opsbot:test:${randomUUID().slice(0, 8)}:`;
      return {
        store: new RedisRunStore(redis, prefix),
        reopen: () => new RedisRunStore(redis, prefix),
        async cleanup() {
          const keys = await redis.keys(`${prefix}*`);
          if (keys.length > 0) await redis.del(...keys);
          redis.disconnect();
        },
      };
    },
  },
];

describe.each(factories)('$name', (factory) => {
  let ctx: Awaited<ReturnType<StoreFactory['open']>>;
  beforeEach(async () => {
    ctx = await factory.open();
  });
  afterEach(() => ctx.cleanup());

  it('saves version 1, then only the next version; a stale writer is refused', async () => {
    const { store } = ctx;
    await store.save(run('r1'));
    await store.save(run('r1', { version: 2, status: 'succeeded' }));
    await expect(store.save(run('r1', { version: 2, status: 'failed' }))).rejects.toBeInstanceOf(
      StaleRunError,
    );
    await expect(store.save(run('r2', { version: 2 }))).rejects.toThrow('is at version 0, not 1');
    expect(await store.get('r1')).toMatchObject({ status: 'succeeded', version: 2 });
    expect(await store.get('nope')).toBeUndefined();
  });

  it('gives copies: changing what get returned changes nothing stored', async () => {
    const { store } = ctx;
    await store.save(run('r1'));
    const read = (await store.get('r1')) as WorkflowRun;
    read.status = 'failed';
    read.steps[0]!.status = 'failed';
    expect(await store.get('r1')).toMatchObject({ status: 'running', steps: [{ status: 'pending' }] });
  });

  it('keeps everything for the next process', async () => {
    const { store } = ctx;
    await store.save(run('r1', { status: 'awaiting_approval', approvalId: 'ab12cd34' }));
    await store.createApproval(approval('ab12cd34', 'r1'));
    expect(await store.claimKey('fp:service-down', 'r1')).toBe(true);
    await store.close();
    const again = ctx.reopen();
    expect(await again.get('r1')).toMatchObject({ status: 'awaiting_approval', version: 1 });
    expect(await again.getApproval('ab12cd34')).toMatchObject({ status: 'pending', required: 2 });
    expect(await again.activeFor('fp:service-down')).toBe('r1');
    expect((await again.pendingApprovals()).map((a) => a.id)).toEqual(['ab12cd34']);
  });

  it('lists newest first, filtered by kind, definition and status, up to a limit', async () => {
    const { store } = ctx;
    const at = (s: number) => new Date(Date.UTC(2026, 10, 21, 12, 0, s)).toISOString();
    await store.save(run('old', { createdAt: at(1) }));
    await store.save(
      run('mid', { createdAt: at(2), kind: 'runbook', definitionId: 'service-down', status: 'succeeded' }),
    );
    await store.save(run('new', { createdAt: at(3) }));
    expect((await store.list()).map((r) => r.id)).toEqual(['new', 'mid', 'old']);
    expect((await store.list({ kind: 'saga' })).map((r) => r.id)).toEqual(['new', 'old']);
    expect((await store.list({ statuses: ['succeeded'] })).map((r) => r.id)).toEqual(['mid']);
    expect((await store.list({ definitionId: 'service-down' })).map((r) => r.id)).toEqual(['mid']);
    expect((await store.list({ limit: 1 })).map((r) => r.id)).toEqual(['new']);
  });

  it('lets one run hold a dedup key until it releases it', async () => {
    const { store } = ctx;
    expect(await store.claimKey('k', 'r1')).toBe(true);
    expect(await store.claimKey('k', 'r1')).toBe(true);
    expect(await store.claimKey('k', 'r2')).toBe(false);
    await store.releaseKey('k', 'r2');
    expect(await store.activeFor('k')).toBe('r1');
    await store.releaseKey('k', 'r1');
    expect(await store.activeFor('k')).toBeUndefined();
    expect(await store.claimKey('k', 'r2')).toBe(true);
  });

  it('changes an approval one decision at a time, even when they arrive together', async () => {
    const { store } = ctx;
    await store.createApproval(approval('ab12cd34', 'r1'));
    await expect(store.createApproval(approval('ab12cd34', 'r1'))).rejects.toThrow('already exists');
    const vote = (who: string) =>
      store.updateApproval('ab12cd34', (a) => {
        if (a.approvals.some((x) => x.by === who)) return undefined;
        a.approvals.push({ by: who, at: new Date().toISOString() });
        if (a.approvals.length >= a.required) a.status = 'approved';
        return a;
      });
    const results = await Promise.all(['web:bob', 'web:carol', 'web:dave', 'web:bob'].map(vote));
    const stored = (await store.getApproval('ab12cd34')) as Approval;
    // Every vote landed on the state the previous one left: no vote was lost, none counted twice.
    expect(new Set(stored.approvals.map((a) => a.by))).toEqual(new Set(['web:bob', 'web:carol', 'web:dave']));
    expect(stored.approvals).toHaveLength(3);
    expect(stored.status).toBe('approved');
    expect(
      results.filter((r) => r && r.before.status === 'pending' && r.after.status === 'approved'),
    ).toHaveLength(1);
    expect(await store.pendingApprovals()).toEqual([]);
    expect(await store.updateApproval('missing', (a) => a)).toBeUndefined();
  });
});
