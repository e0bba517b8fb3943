import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import { textReply } from '../../bot/core/message';
import { FileRecordStore } from '../../bot/core/record-store';
import { Notifier } from '../../bot/notify/notifier';
import type { Alert } from '../../engines/orchestrator/alerts/alert';
import {
  AlertRouter,
  type AlertThreadRecord,
  type RunbookSuggestion,
} from '../../engines/orchestrator/alerts/alert-router';
import { RunThreadReporter } from '../../engines/orchestrator/alerts/run-thread-reporter';
import type { WorkflowRun } from '../../engines/orchestrator/run';
import type { WorkflowDefinition } from '../../engines/orchestrator/workflow';
import {
  alert,
  CapturingSlackSender,
  capturingLogger,
  eq,
  FakeOrchestrator,
  planText,
  runbook,
} from '../support/alert-fakes';

const ALERTS_CHANNEL = { channel: 'slack', conversation: 'C0ALERTS' } as const;

const serviceDown = runbook('service-down', [[eq('alertname', 'ServiceDown'), eq('severity', 'critical')]]);
const restartPayments = runbook(
  'restart-payments',
  [[eq('alertname', 'ServiceDown'), eq('service', 'payments')]],
  {
    autoRun: true,
  },
);

function setup(
  definitions: WorkflowDefinition[],
  options: {
    stateDir?: string;
    /** Another router's orchestrator: the runs outlive the router, as they do a restart. */
    orchestrator?: FakeOrchestrator;
    suggest?: (alert: Alert) => Promise<RunbookSuggestion[]>;
  } = {},
) {
  const orchestrator = options.orchestrator ?? new FakeOrchestrator(definitions);
  const sender = new CapturingSlackSender();
  const notifier = new Notifier({ oncall: ALERTS_CHANNEL });
  notifier.register(sender);
  const stateDir = options.stateDir ?? mkdtempSync(path.join(tmpdir(), 'opsbot-alert-router-'));
  const { logger, lines } = capturingLogger();
  const router = new AlertRouter({
    orchestrator,
    notifier,
    target: 'oncall',
    suggest: options.suggest,
    renderPlan: planText,
    threads: new FileRecordStore<AlertThreadRecord>(stateDir, 'alert-threads'),
    logger,
  });
  return { orchestrator, sender, router, stateDir, lines };
}

describe('AlertRouter', () => {
  it('starts an auto-run runbook for a firing alert and posts a headline, then the plan in its thread', async () => {
    const { orchestrator, sender, router } = setup([restartPayments]);

    const outcomes = await router.route([alert()]);

    expect(outcomes).toEqual([
      { fingerprint: 'a1b2c3d4e5f60718', runbook: 'restart-payments', runId: 'run-1', action: 'started' },
    ]);
    const [headline, ...rest] = sender.posts;
    expect(headline?.target).toEqual(ALERTS_CHANNEL);
    expect(headline?.reply.text).toMatch(
      /ServiceDown for payments\*\* is firing: runbook \*\*restart-payments/,
    );
    expect(rest.map((p) => p.reply.text)).toEqual(['plan of restart-payments']);
    expect(sender.inThread(headline!.messageId)).toEqual(['plan of restart-payments']);
    // The run knows its thread from the start, so every transition can land there.
    expect(orchestrator.starts).toEqual([
      {
        definitionId: 'restart-payments',
        kind: 'runbook',
        params: {},
        actor: { id: 'alertmanager', roles: [] },
        trigger: { type: 'alert', ref: 'a1b2c3d4e5f60718' },
        dedupKey: 'a1b2c3d4e5f60718:restart-payments',
        alert: {
          fingerprint: 'a1b2c3d4e5f60718',
          status: 'firing',
          labels: { alertname: 'ServiceDown', service: 'payments', severity: 'critical' },
          annotations: { summary: 'payments is not answering' },
        },
        thread: { ...ALERTS_CHANNEL, threadTs: headline!.messageId },
      },
    ]);
  });

  it('reports a run its policy keeps waiting for a person, and posts the plan with its approval', async () => {
    const { orchestrator, sender, router } = setup([serviceDown]);

    const [outcome] = await router.route([alert()]);

    expect(outcome).toMatchObject({ runbook: 'service-down', runId: 'run-1', action: 'awaiting_approval' });
    expect(orchestrator.runs.get('run-1')?.approvalId).toBe('appr1');
    expect(sender.posts.at(-1)?.reply.text).toBe('plan of service-down (approve appr1)');
  });

  it('starts one run per alert and runbook: repeats update the same thread, counting notifications', async () => {
    const { orchestrator, sender, router } = setup([serviceDown]);

    const first = await router.route([alert()]);
    const second = await router.route([alert()]);
    const third = await router.route([alert({ startsAt: '2025-01-01T10:05:00.000Z' })]);

    expect([...first, ...second, ...third].map((o) => [o.runId, o.action])).toEqual([
      ['run-1', 'awaiting_approval'],
      ['run-1', 'updated'],
      ['run-1', 'updated'],
    ]);
    expect(orchestrator.runs.size).toBe(1);
    const headline = sender.posts[0]!;
    expect(sender.posts.filter((p) => p.target.channel === 'slack' && !p.target.threadTs)).toHaveLength(1);
    expect(sender.inThread(headline.messageId)).toEqual([
      'plan of service-down (approve appr1)',
      'ServiceDown for payments is still firing (2nd notification); run run-1 is awaiting approval.',
      'ServiceDown for payments is still firing (3rd notification); run run-1 is awaiting approval.',
    ]);
  });

  it('handles the duplicate notifications of an Alertmanager HA pair arriving together as one', async () => {
    const { orchestrator, sender, router } = setup([serviceDown]);

    const [a, b] = await Promise.all([router.route([alert()]), router.route([alert()])]);

    expect([a?.[0]?.action, b?.[0]?.action].sort()).toEqual(['awaiting_approval', 'updated']);
    expect(orchestrator.runs.size).toBe(1);
    expect(sender.posts.filter((p) => p.target.channel === 'slack' && !p.target.threadTs)).toHaveLength(1);
  });

  it('still finds the thread of an alert after a restart', async () => {
    const before = setup([serviceDown]);
    await before.router.route([alert()]);
    const headline = before.sender.posts[0]!;

    const after = setup([serviceDown], { stateDir: before.stateDir, orchestrator: before.orchestrator });
    const [outcome] = await after.router.route([alert()]);

    expect(outcome).toMatchObject({ runId: 'run-1', action: 'updated' });
    expect(after.sender.posts.map((p) => p.target)).toEqual([
      { ...ALERTS_CHANNEL, threadTs: headline.messageId },
    ]);
  });

  it('starts the next run in the same thread when the alert still fires after the previous run ended', async () => {
    const { orchestrator, sender, router } = setup([restartPayments]);
    await router.route([alert()]);
    orchestrator.finish('run-1', 'succeeded');

    const [outcome] = await router.route([alert()]);

    expect(outcome).toMatchObject({ runId: 'run-2', action: 'started' });
    expect(sender.inThread(sender.posts[0]!.messageId)).toEqual([
      'plan of restart-payments',
      'plan of restart-payments',
    ]);
  });

  it('cancels a run still waiting for approval when its alert resolves, and says so in the thread', async () => {
    const { orchestrator, sender, router } = setup([serviceDown]);
    await router.route([alert()]);

    const [outcome] = await router.route([alert({ status: 'resolved', endsAt: '2025-01-01T10:20:00.000Z' })]);

    expect(outcome).toEqual({
      fingerprint: 'a1b2c3d4e5f60718',
      runbook: 'service-down',
      runId: 'run-1',
      action: 'cancelled',
    });
    expect(orchestrator.cancels).toEqual([
      { id: 'run-1', actor: { id: 'alertmanager', roles: [] }, reason: 'alert resolved' },
    ]);
    expect(orchestrator.runs.get('run-1')?.status).toBe('cancelled');
    expect(sender.inThread(sender.posts[0]!.messageId).at(-1)).toBe(
      'ServiceDown for payments resolved; run run-1 was cancelled before it started.',
    );

    // Firing again later is a new incident: a new run in a new thread.
    const [again] = await router.route([alert()]);
    expect(again).toMatchObject({ runId: 'run-2', action: 'awaiting_approval' });
    expect(sender.posts.filter((p) => p.target.channel === 'slack' && !p.target.threadTs)).toHaveLength(2);
  });

  it('finds and cancels a run waiting for approval even when the router lost its record of it', async () => {
    const first = setup([serviceDown]);
    await first.router.route([alert()]);

    const amnesiac = setup([serviceDown], { orchestrator: first.orchestrator });
    const [outcome] = await amnesiac.router.route([alert({ status: 'resolved' })]);

    expect(outcome).toMatchObject({ runId: 'run-1', action: 'cancelled' });
    expect(first.orchestrator.runs.get('run-1')?.status).toBe('cancelled');
    // Its thread is the run's own.
    expect(amnesiac.sender.posts.map((p) => p.target)).toEqual([
      { ...ALERTS_CHANNEL, threadTs: first.sender.posts[0]!.messageId },
    ]);
  });

  it('leaves a running run alone when its alert resolves, and posts the resolution into its thread', async () => {
    const { orchestrator, sender, router } = setup([restartPayments]);
    await router.route([alert()]);

    const [outcome] = await router.route([alert({ status: 'resolved' })]);

    expect(outcome).toMatchObject({ runId: 'run-1', action: 'updated' });
    expect(orchestrator.cancels).toEqual([]);
    expect(orchestrator.runs.get('run-1')?.status).toBe('running');
    expect(sender.inThread(sender.posts[0]!.messageId).at(-1)).toBe(
      'ServiceDown for payments resolved; run run-1 is running.',
    );
  });

  it('ignores a resolved alert it never started anything for', async () => {
    const { sender, router } = setup([serviceDown]);

    expect(await router.route([alert({ status: 'resolved' })])).toEqual([
      { fingerprint: 'a1b2c3d4e5f60718', runbook: 'service-down', action: 'ignored' },
    ]);
    expect(sender.posts).toEqual([]);
  });

  it('starts every runbook whose trigger matches, each with its own dedup key', async () => {
    const { orchestrator, router } = setup([serviceDown, restartPayments]);

    const outcomes = await router.route([alert()]);

    expect(outcomes.map((o) => [o.runbook, o.action])).toEqual([
      ['service-down', 'awaiting_approval'],
      ['restart-payments', 'started'],
    ]);
    expect(orchestrator.starts.map((s) => s.dedupKey)).toEqual([
      'a1b2c3d4e5f60718:service-down',
      'a1b2c3d4e5f60718:restart-payments',
    ]);
  });

  it('suggests runbooks for an alert no trigger matches, once per firing, and never starts one', async () => {
    const suggest = jest.fn(async (): Promise<RunbookSuggestion[]> => [
      { runbookId: 'high-latency', title: 'High latency', score: 0.82 },
    ]);
    const { orchestrator, sender, router } = setup([serviceDown], { suggest });
    const unbound = alert({
      fingerprint: 'ffff000011112222',
      labels: { alertname: 'DiskFull', instance: 'db-1' },
    });

    const outcomes = [
      ...(await router.route([unbound])),
      ...(await router.route([unbound])),
      ...(await router.route([{ ...unbound, status: 'resolved' }])),
    ];

    expect(outcomes).toEqual([
      { fingerprint: 'ffff000011112222', action: 'suggested' },
      { fingerprint: 'ffff000011112222', action: 'suggested' },
      { fingerprint: 'ffff000011112222', action: 'unmatched' },
    ]);
    expect(orchestrator.starts).toEqual([]);
    expect(suggest).toHaveBeenCalledTimes(1);
    expect(sender.posts.map((p) => p.reply.text)).toEqual([
      'No runbook is bound to DiskFull for db-1; these look relevant (nothing was started): High latency (`high-latency`, score 0.82)',
    ]);
  });

  it('reports an alert as unmatched when nothing is bound and nothing looks relevant', async () => {
    const { sender, router } = setup([serviceDown], { suggest: async () => [] });
    const minor = alert({ labels: { alertname: 'ServiceDown', service: 'payments', severity: 'info' } });

    expect(await router.route([minor])).toEqual([{ fingerprint: 'a1b2c3d4e5f60718', action: 'unmatched' }]);
    expect(sender.posts).toEqual([]);
  });

  it('starts the run when chat is down, logging what it could not post', async () => {
    const { orchestrator, sender, router, lines } = setup([restartPayments]);
    sender.failure = new Error('slack is down');

    const [outcome] = await router.route([alert()]);

    expect(outcome).toMatchObject({ runId: 'run-1', action: 'started' });
    expect(orchestrator.starts[0]?.thread).toBeUndefined();
    expect(lines.filter((l) => l.msg === 'could not post an alert notification').length).toBeGreaterThan(0);
  });

  it('reports a runbook that refuses to start for the alert, in the thread and in the outcome', async () => {
    const { orchestrator, sender, router } = setup([serviceDown]);
    orchestrator.refusals.set(
      'service-down',
      new OpsbotError(ErrorCode.InvalidRequest, 'params.service: must be one of payments, orders'),
    );

    const [outcome] = await router.route([alert()]);

    expect(outcome).toEqual({
      fingerprint: 'a1b2c3d4e5f60718',
      runbook: 'service-down',
      action: 'failed',
      error: 'params.service: must be one of payments, orders',
    });
    expect(sender.inThread(sender.posts[0]!.messageId)).toEqual([
      'ServiceDown for payments matched runbook **service-down**, but it could not start: params.service: must be one of payments, orders',
    ]);
  });
});

describe('RunThreadReporter', () => {
  const thread = { channel: 'slack', conversation: 'C0ALERTS', threadTs: '1700000000.000001' } as const;

  function reporterSetup() {
    const orchestrator = new FakeOrchestrator([]);
    const sender = new CapturingSlackSender();
    const notifier = new Notifier();
    notifier.register(sender);
    const { logger, lines } = capturingLogger();
    const reporter = new RunThreadReporter({
      orchestrator,
      notifier,
      renderRun: (run) => textReply(`${run.title} ${run.status}`),
      logger,
    }).start();
    return { orchestrator, sender, reporter, lines };
  }

  function run(overrides: Partial<WorkflowRun> = {}): WorkflowRun {
    return {
      id: 'run-7',
      kind: 'runbook',
      definitionId: 'service-down',
      title: 'Service down',
      params: {},
      status: 'running',
      steps: [
        {
          id: 'check',
          action: 'query',
          mutating: false,
          status: 'succeeded',
          attempts: 2,
          idempotencyKey: 'k1',
        },
        {
          id: 'restart',
          action: 'restart',
          mutating: true,
          status: 'pending',
          attempts: 0,
          idempotencyKey: 'k2',
        },
      ],
      actor: 'alertmanager',
      roles: [],
      trigger: { type: 'alert', ref: 'a1b2c3d4e5f60718' },
      correlationId: 'c',
      createdAt: '2025-01-01T10:00:00.000Z',
      updatedAt: '2025-01-01T10:00:00.000Z',
      thread,
      version: 3,
      ...overrides,
    };
  }

  it('posts step results and the final status into the run thread, one message each, in order', async () => {
    const { orchestrator, sender, reporter } = reporterSetup();
    const running = run();
    const failedRestart = { ...running.steps[1]!, status: 'failed' as const, error: 'timed out' };

    orchestrator.emit({ type: 'started', run: running });
    orchestrator.emit({
      type: 'step.started',
      run: running,
      step: { ...running.steps[1]!, status: 'running' },
    });
    orchestrator.emit({ type: 'step.succeeded', run: running, step: running.steps[0] });
    orchestrator.emit({ type: 'step.failed', run: running, step: failedRestart });
    orchestrator.emit({ type: 'compensating', run: { ...running, status: 'compensating' } });
    orchestrator.emit({ type: 'compensated', run: { ...running, status: 'compensated' } });
    await reporter.settled();

    expect(sender.posts.map((p) => p.target)).toEqual(Array(4).fill(thread));
    expect(sender.posts.map((p) => p.reply.text)).toEqual([
      'Step 1/2 check succeeded after 2 attempts.',
      'Step 2/2 restart failed: timed out.',
      'Service down is undoing its completed step.',
      'Service down compensated',
    ]);
  });

  it('threads under the plan message of a chat-started run, and skips runs without a thread', async () => {
    const { orchestrator, sender, reporter } = reporterSetup();

    orchestrator.emit({
      type: 'succeeded',
      run: run({
        status: 'succeeded',
        thread: { channel: 'slack', conversation: 'C0CHAT', messageId: '1700000001.000100' },
      }),
    });
    orchestrator.emit({
      type: 'succeeded',
      run: run({ id: 'run-8', status: 'succeeded', thread: undefined }),
    });
    await reporter.settled();

    expect(sender.posts.map((p) => p.target)).toEqual([
      { channel: 'slack', conversation: 'C0CHAT', threadTs: '1700000001.000100' },
    ]);
  });

  it('logs a post that fails and stops posting once stopped', async () => {
    const { orchestrator, sender, reporter, lines } = reporterSetup();
    sender.failure = new Error('slack is down');

    orchestrator.emit({ type: 'failed', run: run({ status: 'failed' }) });
    await reporter.stop();
    sender.failure = undefined;
    orchestrator.emit({ type: 'succeeded', run: run({ status: 'succeeded' }) });
    await reporter.settled();

    expect(lines.filter((l) => l.msg === 'could not post run progress into its thread')).toHaveLength(1);
    expect(sender.posts).toEqual([]);
  });
});
