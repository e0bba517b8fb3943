import { readFileSync } from 'node:fs';
import path from 'node:path';
import { formatProblem } from '../../engines/orchestrator/runbooks/lint-problem';
import { parseDuration, parseRunbook, readRunbook } from '../../engines/orchestrator/runbooks/runbook-parser';
import {
  DEFAULT_POLICY,
  DEFAULT_STEP_RETRY,
  DEFAULT_STEP_TIMEOUT_MS,
  type WorkflowDefinition,
} from '../../engines/orchestrator/workflow';
import { splitFrontMatter } from '../../rag/documents/front-matter';
import { fixtureActions } from '../support/orchestrator-actions-fixture';

const FILE = 'runbooks/restart-payments.md';

const RUNBOOK = `---
id: restart-payments
title: Restart payments
description: Payments is hung; restart it.
owner: team-payments
last_reviewed: 2026-10-01
services: [payments]
tags: [availability]
triggers:
  alerts:
    - { alertname: PaymentsDown, severity: critical }
    - ['alertname=~"Payments.*"', 'severity!="info"']
    - '{alertname="PaymentsHung"}'
  intents: [restart_service]
  schedules: ['0 3 * * *']
parameters:
  type: object
  properties:
    service: { type: string, default: '{{ alert.labels.service }}' }
    replicas: { type: integer, minimum: 1, default: 4 }
  required: [service]
policy:
  roles: [operator]
  approval: { approvers: 2, self_approval: false, ttl: 90m, roles: [operator, admin] }
  auto_run: true
  risk: high
---

# Restart payments

## Diagnose

\`\`\`step id=check action=query continue_on_error=true
query: error_rate
service: "{{ params.service }}"
\`\`\`

## Remediate

1. Restart it:

   \`\`\`step id=restart action=restart timeout=2m retries=5 title="Restart the service"
   service: "{{ params.service }}"
   \`\`\`

2. Scale it:

~~~step id=scale action=scale undo=scale-back title='Scale it out'
service: payments
replicas: "{{ params.replicas }}"
~~~

\`\`\`step id=gate action=approval
approvers: 1
\`\`\`

## Verify

\`\`\`step id=look action=query mutating=true
query: latency
service: payments
\`\`\`

## Rollback

\`\`\`undo id=scale-back action=scale
service: payments
replicas: "{{ steps.scale.output.from }}"
\`\`\`
`;

const lineOf = (text: string, needle: string) =>
  text.split('\n').findIndex((line) => line.includes(needle)) + 1;

describe('the runbook parser', () => {
  let definition: WorkflowDefinition;

  beforeAll(() => {
    const parsed = parseRunbook(RUNBOOK, FILE, fixtureActions());
    expect(parsed.problems).toEqual([]);
    definition = parsed.definition!;
  });

  it('reads the front matter into a runbook definition', () => {
    expect(definition).toMatchObject({
      kind: 'runbook',
      id: 'restart-payments',
      title: 'Restart payments',
      description: 'Payments is hung; restart it.',
      owner: 'team-payments',
      lastReviewed: '2026-10-01',
      source: FILE,
    });
    expect(definition.parameters).toEqual({
      type: 'object',
      properties: {
        service: { type: 'string', default: '{{ alert.labels.service }}' },
        replicas: { type: 'integer', minimum: 1, default: 4 },
      },
      required: ['service'],
    });
  });

  it('reads the policy, a duration ttl in seconds, and approval required once an approval section is written', () => {
    expect(definition.policy).toEqual({
      roles: ['operator'],
      approval: {
        required: true,
        approvers: 2,
        selfApproval: false,
        ttlSeconds: 5_400,
        roles: ['operator', 'admin'],
      },
      autoRun: true,
      risk: 'high',
    });
  });

  it('reads every alert rule spelling into matchers, and intents and schedules as written', () => {
    expect(definition.triggers).toEqual({
      alerts: [
        [
          { name: 'alertname', op: '=', value: 'PaymentsDown' },
          { name: 'severity', op: '=', value: 'critical' },
        ],
        [
          { name: 'alertname', op: '=~', value: 'Payments.*' },
          { name: 'severity', op: '!=', value: 'info' },
        ],
        [{ name: 'alertname', op: '=', value: 'PaymentsHung' }],
      ],
      intents: ['restart_service'],
      schedules: ['0 3 * * *'],
    });
  });

  it('reads steps in file order, with the line of each fence and their inputs as YAML gives them', () => {
    expect(definition.steps.map((s) => [s.id, s.action, s.line])).toEqual([
      ['check', 'query', lineOf(RUNBOOK, 'id=check')],
      ['restart', 'restart', lineOf(RUNBOOK, 'id=restart')],
      ['scale', 'scale', lineOf(RUNBOOK, 'id=scale ')],
      ['gate', 'approval', lineOf(RUNBOOK, 'id=gate')],
      ['look', 'query', lineOf(RUNBOOK, 'id=look')],
    ]);
    expect(definition.steps[0]!.with).toEqual({ query: 'error_rate', service: '{{ params.service }}' });
  });

  it('strips the indentation of a step written in a list item', () => {
    expect(definition.steps[1]!.with).toEqual({ service: '{{ params.service }}' });
  });

  it('takes timeout, retries (attempts in all), title and continue_on_error from the fence', () => {
    const [check, restart, scale] = definition.steps;
    expect(restart).toMatchObject({
      title: 'Restart the service',
      timeoutMs: 120_000,
      retry: { ...DEFAULT_STEP_RETRY, maxAttempts: 5 },
    });
    expect(scale!.title).toBe('Scale it out');
    expect(check).toMatchObject({
      continueOnError: true,
      timeoutMs: DEFAULT_STEP_TIMEOUT_MS,
      retry: DEFAULT_STEP_RETRY,
    });
    expect(restart).not.toHaveProperty('continueOnError');
  });

  it("defaults mutating to the action's, lets a step raise it, and knows the approval step changes nothing", () => {
    expect(Object.fromEntries(definition.steps.map((s) => [s.id, s.mutating]))).toEqual({
      check: false,
      restart: true,
      scale: true,
      gate: false,
      look: true,
    });
  });

  it('counts a step of an action it does not know as mutating', () => {
    const steps = parseRunbook(RUNBOOK, FILE).definition!.steps;
    expect(steps.find((s) => s.id === 'check')!.mutating).toBe(true);
    expect(steps.find((s) => s.id === 'gate')!.mutating).toBe(false);
  });

  it('attaches the undo block a step names, as an action call; undo blocks are not steps', () => {
    expect(definition.steps.find((s) => s.id === 'scale')!.undo).toEqual({
      action: 'scale',
      with: { service: 'payments', replicas: '{{ steps.scale.output.from }}' },
    });
    expect(definition.steps.map((s) => s.id)).not.toContain('scale-back');
  });

  it('records sections, with whether anything is written under them', () => {
    const source = readRunbook(RUNBOOK.replace(/## Rollback[\s\S]*$/, '## Rollback\n\n'), FILE);
    expect(source.sections.map((s) => [s.title, s.line, s.empty])).toEqual([
      ['Diagnose', lineOf(RUNBOOK, '## Diagnose'), false],
      ['Remediate', lineOf(RUNBOOK, '## Remediate'), false],
      ['Verify', lineOf(RUNBOOK, '## Verify'), false],
      ['Rollback', lineOf(RUNBOOK, '## Rollback'), true],
    ]);
  });

  it('fills in defaults for what a runbook leaves out', () => {
    const text =
      '---\nid: bare\ntitle: Bare\ndescription: Nothing more.\n---\n\n```step id=only action=notify\ntext: hi\n```\n';
    const { definition: bare, problems } = parseRunbook(text, 'runbooks/bare.md', fixtureActions());
    expect(problems).toEqual([]);
    expect(bare).toMatchObject({
      parameters: { type: 'object', properties: {} },
      policy: DEFAULT_POLICY,
      triggers: { alerts: [], intents: [], schedules: [] },
      steps: [{ id: 'only', timeoutMs: DEFAULT_STEP_TIMEOUT_MS, retry: DEFAULT_STEP_RETRY, mutating: false }],
    });
    expect(bare).not.toHaveProperty('owner');
  });

  it('reads a runbook without steps as a definition without steps', () => {
    const text =
      '---\nid: doc-only\ntitle: Read me\ndescription: Prose only.\n---\n\n## Diagnose\n\n```sh\nkubectl get pods\n```\n';
    expect(parseRunbook(text, 'runbooks/doc-only.md').definition?.steps).toEqual([]);
  });

  it('ignores step blocks shown inside a longer fence, as documentation examples', () => {
    const text =
      '---\nid: docs\ntitle: Docs\ndescription: Shows the syntax.\n---\n\n````markdown\n```step id=example action=restart\nservice: x\n```\n````\n';
    expect(parseRunbook(text, 'runbooks/docs.md').definition?.steps).toEqual([]);
  });

  it('leaves the definition out when anything is an error, and says where', () => {
    const broken = RUNBOOK.replace('timeout=2m', 'timeout=soon');
    const { definition: none, problems } = parseRunbook(broken, FILE, fixtureActions());
    expect(none).toBeUndefined();
    expect(problems.map(formatProblem)).toEqual([
      `${FILE}:${lineOf(broken, 'id=restart')}: step restart: timeout=soon: write a duration such as 30s, 2m or 1h`,
    ]);
  });

  it('never throws, whatever the file holds', () => {
    const inputs = [
      '',
      '---',
      '---\n---\n',
      '---\n: : :\n---\n',
      '---\n[1, 2]\n---\n',
      '\u0000\u0001binary',
      '---\nid: x\n---\n```step\n```\n',
      '---\nid: x\ntitle: y\ndescription: z\nparameters: 7\npolicy: []\ntriggers: yes\n---\n```undo id=u\n```',
      RUNBOOK.slice(0, RUNBOOK.length / 2),
    ];
    for (const text of inputs) {
      const result = parseRunbook(text, 'runbooks/odd.md');
      expect(result.definition).toBeUndefined();
      expect(result.problems.some((p) => p.severity === 'error')).toBe(true);
    }
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
  ])('reads %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['30', '0s', '1.5m', '2 m', 'm', '1w'])('refuses %s', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});

describe('the front matter as search reads it', () => {
  it("names the alerts of the triggers' alertname equality matchers", () => {
    expect(splitFrontMatter(RUNBOOK, FILE).meta.alerts).toEqual(['PaymentsDown', 'PaymentsHung']);
    const shipped = readFileSync(path.resolve(__dirname, '..', '..', 'runbooks', 'service-down.md'), 'utf8');
    expect(splitFrontMatter(shipped, 'runbooks/service-down.md').meta.alerts).toEqual([
      'ServiceDown',
      'KubePodCrashLooping',
      'ServiceHealthCheckFailing',
    ]);
  });

  it('still reads a plain alerts list, and skips a trigger that does not parse', () => {
    const text = `---\nalerts: [DiskFull]\ntriggers:\n  alerts:\n    - ['alertname=~"(broken"']\n    - { alertname: DiskFull }\n    - { alertname: NodeDown }\n---\n`;
    expect(splitFrontMatter(text, 'runbooks/disk.md').meta.alerts).toEqual(['DiskFull', 'NodeDown']);
  });
});
