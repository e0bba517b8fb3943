import type Redis from 'ioredis';
import type { Approval } from '../../engines/orchestrator/approval';
import { FINAL_STATUSES, type WorkflowRun } from '../../engines/orchestrator/run';
import { StaleRunError, type RunQuery, type RunStore } from '../../engines/orchestrator/run-store';

/**
 * Writes a record if its stored version is the one the writer read: KEYS[1] record, ARGV[1] expected version
 * ("0": absent), ARGV[2] new version, ARGV[3] JSON. The version lives in a hash field beside the JSON so the
 * check needs no JSON decoding in Lua. Returns the version found when it refuses.
 */
const COMPARE_AND_SET = `
local found = redis.call('HGET', KEYS[1], 'v')
if (found or '0') ~= ARGV[1] then return found or '0' end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'json', ARGV[3])
return 'ok'`;

/** Deletes KEYS[1] only while it still holds ARGV[1]. */
const COMPARE_AND_DELETE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** How many recent runs a filtered listing reads at most, newest first. */
const LIST_SCAN_LIMIT = 5000;
const APPROVAL_RETRIES = 20;

/**
 * Runs, approvals and alert dedup keys in Redis, shared by every opsbot process: a run's version is checked
 * in Lua on every write, so two processes never both advance the same run; approvals are updated with the same
 * compare-and-set, retried, so two clicks at once are decided one after the other.
 */
export class RedisRunStore implements RunStore {
  readonly kind = 'redis';
  readonly shared = true;
  private finishedSinceTrim = 0;

  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'opsbot:orch:',
    private readonly keepFinished = 10_000,
  ) {
    redis.defineCommand('opsbotCompareAndSet', { numberOfKeys: 1, lua: COMPARE_AND_SET });
    redis.defineCommand('opsbotCompareAndDelete', { numberOfKeys: 1, lua: COMPARE_AND_DELETE });
  }

  async get(id: string): Promise<WorkflowRun | undefined> {
    const json = await this.redis.hget(this.runKey(id), 'json');
    return json ? (JSON.parse(json) as WorkflowRun) : undefined;
  }

  async save(run: WorkflowRun): Promise<void> {
    const result = await this.compareAndSet(
      this.runKey(run.id),
      run.version - 1,
      run.version,
      JSON.stringify(run),
    );
    if (result !== 'ok') throw new StaleRunError(run.id, run.version - 1, Number(result));
    const pipeline = this.redis.pipeline();
    if (run.version === 1) pipeline.zadd(this.prefix + 'runs', Date.parse(run.createdAt), run.id);
    if (FINAL_STATUSES.has(run.status)) {
      pipeline.zadd(this.prefix + 'finished', Date.parse(run.updatedAt), run.id);
      this.finishedSinceTrim += 1;
    }
    await pipeline.exec();
    if (this.finishedSinceTrim >= 100) await this.trimFinished();
  }

  async list(query: RunQuery = {}): Promise<WorkflowRun[]> {
    const limit = query.limit ?? LIST_SCAN_LIMIT;
    const filtered = query.kind || query.definitionId || query.statuses;
    const ids = await this.redis.zrevrange(this.prefix + 'runs', 0, (filtered ? LIST_SCAN_LIMIT : limit) - 1);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.runKey(id), 'json');
    const statuses = query.statuses && new Set(query.statuses);
    const runs: WorkflowRun[] = [];
    for (const [, json] of (await pipeline.exec()) ?? []) {
      if (typeof json !== 'string') continue;
      const run = JSON.parse(json) as WorkflowRun;
      if (query.kind && run.kind !== query.kind) continue;
      if (query.definitionId && run.definitionId !== query.definitionId) continue;
      if (statuses && !statuses.has(run.status)) continue;
      runs.push(run);
      if (runs.length >= limit) break;
    }
    return runs;
  }

  async activeFor(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.dedupKey(key))) ?? undefined;
  }

  async claimKey(key: string, runId: string): Promise<boolean> {
    if ((await this.redis.set(this.dedupKey(key), runId, 'NX')) === 'OK') return true;
    return (await this.redis.get(this.dedupKey(key))) === runId;
  }

  async releaseKey(key: string, runId: string): Promise<void> {
    await (this.redis as RedisWithScripts).opsbotCompareAndDelete(this.dedupKey(key), runId);
  }

  async getApproval(id: string): Promise<Approval | undefined> {
    const json = await this.redis.hget(this.approvalKey(id), 'json');
    return json ? (JSON.parse(json) as Approval) : undefined;
  }

  async createApproval(approval: Approval): Promise<void> {
    const result = await this.compareAndSet(this.approvalKey(approval.id), 0, 1, JSON.stringify(approval));
    if (result !== 'ok') throw new Error(`approval ${approval.id} already exists`);
    await this.redis.sadd(this.prefix + 'approvals:pending', approval.id);
  }

  async updateApproval(
    id: string,
    change: (approval: Approval) => Approval | undefined,
  ): Promise<{ before: Approval; after: Approval } | undefined> {
    for (let attempt = 0; attempt < APPROVAL_RETRIES; attempt++) {
      const stored = await this.redis.hmget(this.approvalKey(id), 'v', 'json');
      const [version, json] = stored;
      if (!version || !json) return undefined;
      const before = JSON.parse(json) as Approval;
      const after = change(JSON.parse(json) as Approval);
      if (!after) return { before, after: before };
      const result = await this.compareAndSet(
        this.approvalKey(id),
        Number(version),
        Number(version) + 1,
        JSON.stringify(after),
      );
      if (result !== 'ok') continue;
      if (after.status !== 'pending') await this.redis.srem(this.prefix + 'approvals:pending', id);
      return { before, after };
    }
    throw new Error(`approval ${id} is changing too fast to update (${APPROVAL_RETRIES} conflicting writes)`);
  }

  async pendingApprovals(): Promise<Approval[]> {
    const ids = await this.redis.smembers(this.prefix + 'approvals:pending');
    const approvals = await Promise.all(ids.map((id) => this.getApproval(id)));
    return approvals.filter((a): a is Approval => a !== undefined && a.status === 'pending');
  }

  async close(): Promise<void> {}

  private compareAndSet(key: string, expected: number, next: number, json: string): Promise<string> {
    return (this.redis as RedisWithScripts).opsbotCompareAndSet(key, String(expected), String(next), json);
  }

  /** Drops the oldest finished runs beyond the limit, as the file store does at compaction. */
  private async trimFinished(): Promise<void> {
    this.finishedSinceTrim = 0;
    const excess = (await this.redis.zcard(this.prefix + 'finished')) - this.keepFinished;
    if (excess <= 0) return;
    const ids = await this.redis.zrange(this.prefix + 'finished', 0, excess - 1);
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.del(this.runKey(id));
    pipeline.zrem(this.prefix + 'finished', ...ids);
    pipeline.zrem(this.prefix + 'runs', ...ids);
    await pipeline.exec();
  }

  private runKey(id: string): string {
    return `${this.prefix}run:${id}`;
  }

  private approvalKey(id: string): string {
    return `${this.prefix}approval:${id}`;
  }

  private dedupKey(key: string): string {
    return `${this.prefix}active:${key}`;
  }
}

type RedisWithScripts = Redis & {
  opsbotCompareAndSet(key: string, expected: string, next: string, json: string): Promise<string>;
  opsbotCompareAndDelete(key: string, value: string): Promise<number>;
};
