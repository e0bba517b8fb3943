import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HttpHealthProbe } from '../../adapters/http/http-health-probe';
import { ServiceCatalog } from '../../bot/config/catalog';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import { Notifier } from '../../bot/notify/notifier';
import { Platforms } from '../../bot/platform/platforms';
import { createStandardActions } from '../../engines/orchestrator/actions/standard-actions';
import { formatProblem, type LintProblem } from '../../engines/orchestrator/runbooks/lint-problem';
import { lintRunbooks } from '../../engines/orchestrator/runbooks/runbook-lint';
import { fixtureActions } from '../support/orchestrator-actions-fixture';
import { testConfig } from '../support/runtime';

const NOW = new Date('2026-11-21T12:00:00Z');
const REPO_RUNBOOKS = path.resolve(__dirname, '..', '..', 'runbooks');

interface RunbookParts {
  /** Front matter lines after id, title and description. */
  front?: string;
  diagnose?: string;
  remediate?: string;
  rollback?: string;
}

const PARAMETERS = `parameters:
  type: object
  properties:
    service: { type: string, default: payments }`;

/** A runbook that lints clean, with `parts` written into it. */
function runbook(id: string, parts: RunbookParts = {}): string {
  const front = parts.front ?? `owner: team-test\nlast_reviewed: 2026-10-01\n${PARAMETERS}`;
  return `---
id: ${id}
title: Test ${id}
description: A runbook for lint tests.
${front}
---

## Symptoms

Something is wrong.

## Diagnose

${parts.diagnose ?? 'Look around.'}

## Remediate

${parts.remediate ?? 'Fix it.'}

## Verify

It works again.

## Rollback

${parts.rollback ?? 'Undo it by hand.'}
`;
}

const step = (attributes: string, body: string) => `\`\`\`step ${attributes}\n${body}\n\`\`\``;
const undo = (attributes: string, body: string) => `\`\`\`undo ${attributes}\n${body}\n\`\`\``;

interface Expected {
  /** Text on the line the problem points at (its first occurrence). */
  at: string;
  /** What formatProblem prints after `file:line: `. */
  says: string;
}

interface Case {
  name: string;
  text: string;
  expect: Expected[];
}

/** Every problem lint reports about one file, with the line taken from the text it names. */
const CASES: Case[] = [
  {
    name: 'unknown-action',
    text: runbook('unknown-action', { remediate: step('id=restart action=restrat', 'service: payments') }),
    expect: [
      {
        at: 'id=restart',
        says: "step restart: unknown action 'restrat' (known: approval, event, http, notify, query, restart, scale, shell, wait)",
      },
    ],
  },
  {
    name: 'input-wrong-type',
    text: runbook('input-wrong-type', {
      remediate: step('id=scale action=scale undo=back', 'service: payments\nreplicas: many'),
      rollback: undo('id=back action=scale', 'service: payments\nreplicas: 1'),
    }),
    expect: [{ at: 'replicas: many', says: 'step scale: inputs.replicas: must be integer' }],
  },
  {
    name: 'input-missing',
    text: runbook('input-missing', {
      remediate: step('id=restart action=restart', 'environment: production'),
    }),
    expect: [{ at: 'id=restart', says: "step restart: inputs: must have required property 'service'" }],
  },
  {
    name: 'input-unknown',
    text: runbook('input-unknown', {
      remediate: step('id=restart action=restart', 'service: payments\nforce: true'),
    }),
    expect: [{ at: 'id=restart', says: 'step restart: inputs: must NOT have additional properties (force)' }],
  },
  {
    name: 'input-enum',
    text: runbook('input-enum', {
      diagnose: step('id=look action=query', 'query: errors\nservice: payments'),
    }),
    expect: [
      {
        at: 'query: errors',
        says: 'step look: inputs.query: must be equal to one of the allowed values (latency, error_rate, throughput, cpu)',
      },
    ],
  },
  {
    name: 'input-alternatives',
    text: runbook('input-alternatives', {
      diagnose: step('id=probe action=http', 'method: GET\npath: /health'),
    }),
    expect: [
      { at: 'id=probe', says: 'step probe: inputs: one of these must hold: needs url, or needs service' },
      {
        at: 'id=probe',
        says: 'step probe: inputs: must have property service when property path is present',
      },
    ],
  },
  {
    name: 'input-nested-alternatives',
    text: runbook('input-nested-alternatives', {
      diagnose: step('id=wait action=wait', 'until:\n  health: 5\ntimeoutSeconds: 10'),
    }),
    expect: [
      {
        at: 'until:',
        says: 'step wait: inputs.until: one of these must hold: inputs.until.health: must be string, or needs query, service, op, value; inputs.until: must NOT have additional properties (health)',
      },
    ],
  },
  {
    name: 'mutating-lowered',
    text: runbook('mutating-lowered', {
      remediate: step('id=restart action=restart mutating=false', 'service: payments'),
    }),
    expect: [
      {
        at: 'id=restart',
        says: 'step restart: mutating=false: restart changes things; a step may raise mutating, not lower it',
      },
    ],
  },
  {
    name: 'continue-on-error-mutating',
    text: runbook('continue-on-error-mutating', {
      remediate: step('id=restart action=restart continue_on_error=true', 'service: payments'),
    }),
    expect: [
      {
        at: 'id=restart',
        says: 'step restart: continue_on_error=true is for steps that change nothing: a failed change must stop the run and undo what came before',
      },
    ],
  },
  {
    name: 'template-unknown-parameter',
    text: runbook('template-unknown-parameter', {
      remediate: step('id=restart action=restart', 'service: "{{ params.servce }}"'),
    }),
    expect: [
      {
        at: 'params.servce',
        says: 'step restart: {{ params.servce }}: no parameter servce (parameters: service)',
      },
    ],
  },
  {
    name: 'template-later-step',
    text: runbook('template-later-step', {
      diagnose: step('id=announce action=notify', 'text: "took {{ steps.restart.output.ms }} ms"'),
      remediate: step('id=restart action=restart', 'service: payments'),
    }),
    expect: [
      {
        at: 'steps.restart.output',
        says: 'step announce: {{ steps.restart.output.ms }}: step restart has not run yet when this step runs',
      },
    ],
  },
  {
    name: 'template-own-output',
    text: runbook('template-own-output', {
      diagnose: step('id=announce action=notify', 'text: "{{ steps.announce.output }}"'),
    }),
    expect: [
      {
        at: 'steps.announce.output',
        says: 'step announce: {{ steps.announce.output }}: step announce has not run yet when this step runs',
      },
    ],
  },
  {
    name: 'template-unknown-step',
    text: runbook('template-unknown-step', {
      diagnose: step('id=announce action=notify', 'text: "{{ steps.nope.output }}"'),
    }),
    expect: [{ at: 'steps.nope', says: 'step announce: {{ steps.nope.output }}: no step nope' }],
  },
  {
    name: 'template-step-without-output',
    text: runbook('template-step-without-output', {
      diagnose: `${step('id=look action=query', 'query: cpu\nservice: payments')}\n\n${step('id=announce action=notify', 'text: "{{ steps.look.value }}"')}`,
    }),
    expect: [
      {
        at: 'steps.look.value',
        says: 'step announce: {{ steps.look.value }}: a step is referred to as steps.<id>.output.<path>',
      },
    ],
  },
  {
    name: 'template-run-field',
    text: runbook('template-run-field', {
      diagnose: step('id=announce action=notify', 'text: "run {{ run.owner }}"'),
    }),
    expect: [
      {
        at: 'run.owner',
        says: 'step announce: {{ run.owner }}: a run has run.id, run.correlationId, run.actor',
      },
    ],
  },
  {
    name: 'template-unknown-root',
    text: runbook('template-unknown-root', {
      diagnose: step('id=announce action=notify', 'text: "{{ env.HOME }}"'),
    }),
    expect: [
      {
        at: 'env.HOME',
        says: 'step announce: {{ env.HOME }}: templates start with params, steps, run or alert',
      },
    ],
  },
  {
    name: 'template-not-closed',
    text: runbook('template-not-closed', {
      diagnose: step('id=announce action=notify', 'text: "{{ run.id"'),
    }),
    expect: [{ at: 'text:', says: "step announce: '{{ run.id': a template is not closed ({{ name }})" }],
  },
  {
    name: 'template-alert-in-step',
    text: runbook('template-alert-in-step', {
      remediate: step('id=restart action=restart', 'service: "{{ alert.labels.service }}"'),
    }),
    expect: [
      {
        at: 'alert.labels.service',
        says: 'warning: step restart: {{ alert.labels.service }}: has no value when a person starts the run; use a parameter whose default it is',
      },
    ],
  },
  {
    name: 'template-alert-field',
    text: runbook('template-alert-field', {
      front: `owner: team-test\nlast_reviewed: 2026-10-01\nparameters:\n  type: object\n  properties:\n    service: { type: string, default: '{{ alert.service }}' }`,
    }),
    expect: [
      { at: 'default:', says: '{{ alert.service }}: an alert has labels.<name> and annotations.<name>' },
    ],
  },
  {
    name: 'template-default-not-alert',
    text: runbook('template-default-not-alert', {
      front: `owner: team-test\nlast_reviewed: 2026-10-01\nparameters:\n  type: object\n  properties:\n    service: { type: string }\n    env: { type: string, default: '{{ params.service }}' }`,
    }),
    expect: [
      {
        at: 'env:',
        says: '{{ params.service }}: a parameter default may only use the alert: {{ alert.labels.<name> }}',
      },
    ],
  },
  {
    name: 'template-in-undo',
    text: runbook('template-in-undo', {
      remediate: `${step('id=scale action=scale undo=back', 'service: payments\nreplicas: 4')}\n\n${step('id=announce action=notify', 'text: done')}`,
      rollback: undo('id=back action=scale', 'service: payments\nreplicas: "{{ steps.announce.output.n }}"'),
    }),
    expect: [
      {
        at: 'steps.announce.output.n',
        says: 'undo back: {{ steps.announce.output.n }}: step announce runs after the step this undoes',
      },
    ],
  },
  {
    name: 'undo-input',
    text: runbook('undo-input', {
      remediate: step('id=scale action=scale undo=back', 'service: payments\nreplicas: 4'),
      rollback: undo('id=back action=scale', 'service: payments'),
    }),
    expect: [{ at: 'id=back', says: "undo back: inputs: must have required property 'replicas'" }],
  },
  {
    name: 'undo-unknown-action',
    text: runbook('undo-unknown-action', {
      remediate: step('id=scale action=scale undo=back', 'service: payments\nreplicas: 4'),
      rollback: undo('id=back action=unscale', 'service: payments'),
    }),
    expect: [
      {
        at: 'id=back',
        says: "undo back: unknown action 'unscale' (known: approval, event, http, notify, query, restart, scale, shell, wait)",
      },
    ],
  },
  {
    name: 'undo-unused',
    text: runbook('undo-unused', {
      rollback: undo('id=back action=scale', 'service: payments\nreplicas: 1'),
    }),
    expect: [{ at: 'id=back', says: 'warning: undo back: no step names this undo block (undo=back)' }],
  },
  {
    name: 'undo-missing',
    text: runbook('undo-missing', {
      remediate: step('id=scale action=scale undo=scale-back', 'service: payments\nreplicas: 4'),
    }),
    expect: [
      { at: 'id=scale', says: 'step scale: undo=scale-back: no ```undo block has that id (there are none)' },
    ],
  },
  {
    name: 'step-ids',
    text: runbook('step-ids', {
      diagnose: step('id=look action=query', 'query: cpu\nservice: payments'),
      remediate: step('id=look action=query', 'query: latency\nservice: payments'),
    }),
    expect: [
      {
        at: 'id=look action=query\nquery: latency',
        says: "step look: id 'look' is already used by the block on line 19",
      },
    ],
  },
  {
    name: 'step-attributes',
    text: runbook('step-attributes', {
      diagnose: step(
        'id=look action=query timeout=soon retries=0 mutating=maybe colour=red',
        'query: cpu\nservice: payments',
      ),
    }),
    expect: [
      {
        at: 'id=look',
        says: "step look: unknown attribute 'colour' (step blocks take id, action, title, mutating, timeout, retries, undo, continue_on_error)",
      },
      { at: 'id=look', says: 'step look: mutating=maybe: write mutating=true or mutating=false' },
      { at: 'id=look', says: 'step look: timeout=soon: write a duration such as 30s, 2m or 1h' },
      { at: 'id=look', says: 'step look: retries=0: attempts in all, a whole number from 1' },
    ],
  },
  {
    name: 'step-fence',
    text: runbook('step-fence', {
      diagnose: `${step('action=query', 'query: cpu')}\n\n${step('id=Look action=query', 'query: cpu')}\n\n${step('id=x action=query title="unclosed', 'query: cpu')}`,
      remediate: '```step id=open action=restart\nservice: payments\n',
    }),
    expect: [
      {
        at: 'action=query\n',
        says: 'a step block needs id= and action=, as in ```step id=restart action=restart',
      },
      { at: 'id=Look', says: "step Look: id 'Look' may hold only lower-case letters, digits and -" },
      {
        at: 'title="unclosed',
        says: 'cannot read \'title="unclosed\' in the step fence: attributes are name=value or name="a value"',
      },
      { at: 'id=open', says: "the step block's fence is never closed" },
      // The unclosed fence runs to the end of the file, as Markdown reads it.
      { at: '---', says: 'warning: missing sections ## Verify, ## Rollback' },
    ],
  },
  {
    name: 'step-body',
    text: runbook('step-body', {
      diagnose: `${step('id=list action=query', '- cpu')}\n\n${step('id=bad action=query', 'query: [cpu')}\n\n${step('id=raw action=restart', 'service: {{ params.service }}')}`,
    }),
    expect: [
      { at: '- cpu', says: 'step list: the inputs must be a YAML map (name: value)' },
      {
        at: 'query: [cpu',
        says: 'step bad: invalid YAML in the inputs: Flow sequence in block collection must be sufficiently indented and end with a ]',
      },
      {
        at: 'service: {{',
        says: 'step raw: put the templates in the inputs in quotes ("{{ ... }}"): unquoted, YAML reads them as maps',
      },
    ],
  },
  {
    name: 'step-section',
    text: runbook('step-section', {
      rollback: step('id=restart action=restart', 'service: payments'),
    }),
    expect: [
      {
        at: 'id=restart',
        says: 'warning: step restart: is under ## Rollback; steps run in file order and belong in ## Diagnose, ## Remediate, ## Verify',
      },
    ],
  },
  {
    name: 'no-way-back',
    text: runbook('no-way-back', {
      remediate: step('id=restart action=restart', 'service: payments'),
      rollback: '',
    }),
    expect: [
      {
        at: 'id=restart',
        says: 'warning: step restart: changes things, has no undo, and the Rollback section is empty: say how to go back',
      },
    ],
  },
  {
    name: 'sections',
    text: '---\nid: sections\ntitle: Sections\ndescription: Few sections.\nowner: team-test\nlast_reviewed: 2026-10-01\n---\n\n## Symptoms\n\nBad.\n\n## Remediate\n\nFix.\n',
    expect: [{ at: '---', says: 'warning: missing sections ## Diagnose, ## Verify, ## Rollback' }],
  },
  {
    name: 'front-matter-fields',
    text: runbook('front-matter-fields', {
      front: `owner: [a, b]\nlast_reviewed: yesterday\nalerts: [Old]\nsevrity: high`,
    }).replace('title: Test front-matter-fields\n', ''),
    expect: [
      { at: 'id: front', says: 'title: missing' },
      { at: 'owner:', says: 'owner: must be text' },
      { at: 'last_reviewed:', says: "last_reviewed: 'yesterday' is not a date like 2026-03-31" },
      {
        at: 'alerts:',
        says: 'warning: alerts: only search reads this list; alerts start runbooks through triggers.alerts',
      },
      { at: 'sevrity:', says: "warning: unknown front matter field 'sevrity'" },
    ],
  },
  {
    name: 'review',
    text: runbook('review', { front: `last_reviewed: 2025-10-01\n${PARAMETERS}` }),
    expect: [
      { at: 'id: review', says: 'warning: owner: missing; name the team that keeps this runbook' },
      {
        at: 'last_reviewed:',
        says: 'warning: last_reviewed: 2025-10-01 is more than a year ago; check the runbook still holds',
      },
    ],
  },
  {
    name: 'bad-id',
    text: runbook('Bad_Id'),
    expect: [{ at: 'id: Bad_Id', says: "id 'Bad_Id' may hold only lower-case letters, digits and -" }],
  },
  {
    name: 'triggers',
    text: runbook('triggers', {
      front: `owner: team-test
last_reviewed: 2026-10-01
triggers:
  alerts:
    - { alertname: Fine }
    - ['alertname=~"(Broken"']
    - {}
  intents: [restart_everything]
  schedules: ['0 3 * * *', '61 * * * *']
  webhooks: [x]`,
    }),
    expect: [
      { at: 'webhooks', says: "triggers: unknown field 'webhooks' (known: alerts, intents, schedules)" },
      {
        at: '(Broken',
        says: 'triggers.alerts[1]: alertname=~"(Broken": Invalid regular expression: /^(?:(Broken)$/: Unterminated group',
      },
      { at: '- {}', says: 'triggers.alerts[2]: an empty rule would match every alert' },
      { at: 'intents:', says: "triggers.intents: unknown intent 'restart_everything'" },
      {
        at: "'61 * * * *'",
        says: "triggers.schedules[1]: '61 * * * *': minute '61' has '61', not a number from 0 to 59",
      },
    ],
  },
  {
    name: 'policy',
    text: runbook('policy', {
      front: `owner: team-test
last_reviewed: 2026-10-01
policy:
  risk: severe
  auto_run: sometimes
  approval:
    approvers: 0
    ttl: 3600
    self_approval: no
    quorum: 2`,
    }),
    expect: [
      { at: 'risk:', says: 'policy.risk: must be one of low, medium, high' },
      { at: 'auto_run:', says: 'policy.auto_run: must be true or false' },
      { at: 'approvers:', says: 'policy.approval.approvers: must be a whole number from 1' },
      { at: 'ttl:', says: 'policy.approval.ttl: must be a duration in whole seconds, such as 30m or 1h' },
      { at: 'self_approval:', says: 'policy.approval.self_approval: must be true or false' },
      {
        at: 'quorum:',
        says: "policy.approval: unknown field 'quorum' (known: required, approvers, self_approval, ttl, roles)",
      },
    ],
  },
  {
    name: 'parameters-compile',
    text: runbook('parameters-compile', {
      front: `owner: team-test\nlast_reviewed: 2026-10-01\nparameters:\n  type: object\n  properties:\n    service: { type: text }`,
    }),
    expect: [
      {
        at: 'parameters:',
        says: 'parameters: the schema does not compile: schema is invalid: data/properties/service/type must be equal to one of the allowed values, data/properties/service/type must be array, data/properties/service/type must match a schema in anyOf',
      },
    ],
  },
  {
    name: 'parameters-default',
    text: runbook('parameters-default', {
      front: `owner: team-test\nlast_reviewed: 2026-10-01\nparameters:\n  type: object\n  properties:\n    env: { type: string, enum: [production, staging], default: prod }\n  required: [env, region]`,
    }),
    expect: [{ at: 'required:', says: 'parameters.required: region not among the properties' }],
  },
  {
    name: 'parameters-default-enum',
    text: runbook('parameters-default-enum', {
      front: `owner: team-test\nlast_reviewed: 2026-10-01\nparameters:\n  type: object\n  properties:\n    env: { type: string, enum: [production, staging], default: prod }`,
    }),
    expect: [
      {
        at: 'env:',
        says: 'parameters: the default of env: must be equal to one of the allowed values (production, staging)',
      },
    ],
  },
  {
    name: 'yaml',
    text: '---\nid: yaml\ntitle: [unclosed\n---\n',
    expect: [
      {
        at: 'title:',
        says: 'invalid YAML in the front matter: Flow sequence in block collection must be sufficiently indented and end with a ]',
      },
      {
        at: '---',
        says: 'warning: missing sections ## Symptoms, ## Diagnose, ## Remediate, ## Verify, ## Rollback',
      },
    ],
  },
  {
    name: 'no-front-matter',
    text: '# Just a document\n',
    expect: [
      { at: '# Just', says: 'a runbook starts with YAML front matter between --- lines' },
      {
        at: '# Just',
        says: 'warning: missing sections ## Symptoms, ## Diagnose, ## Remediate, ## Verify, ## Rollback',
      },
    ],
  },
];

const CLEAN: Record<string, string> = {
  'clean.md': runbook('clean', {
    front: `owner: team-test
last_reviewed: 2026-10-01
${PARAMETERS}
    replicas: { type: integer, minimum: 1, default: 4 }
    target: { type: string, default: '{{ alert.labels.service }}' }
triggers:
  intents: [scale_service]`,
    diagnose: step(
      'id=look action=query continue_on_error=true',
      'query: cpu\nservice: "{{ params.service }}"',
    ),
    remediate: `${step('id=scale action=scale undo=back', 'service: "{{ params.service }}"\nreplicas: "{{ params.replicas }}"')}\n\n${step('id=wait action=wait', 'until:\n  health: "{{ params.service }}"\ntimeoutSeconds: "{{ params.replicas }}"')}\n\n${step('id=gate action=approval', 'approvers: 1')}`,
    rollback: undo('id=back action=scale', 'service: payments\nreplicas: "{{ steps.scale.output.from }}"'),
  }),
  'intent-twin.md': runbook('intent-twin', {
    front: `owner: team-test\nlast_reviewed: 2026-10-01\ntriggers:\n  intents: [scale_service]`,
  }),
  'nested/duplicate.md': runbook('clean'),
};

describe('runbooks lint', () => {
  let root: string;
  let problems: LintProblem[];
  let definitions: ReturnType<typeof lintRunbooks>['definitions'];

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'opsbot-runbook-lint-'));
    const write = (name: string, text: string) => {
      mkdirSync(path.dirname(path.join(root, 'runbooks', name)), { recursive: true });
      writeFileSync(path.join(root, 'runbooks', name), text);
    };
    for (const c of CASES) write(`${c.name}.md`, c.text);
    for (const [name, text] of Object.entries(CLEAN)) write(name, text);
    write('README.md', '# Not a runbook\n');
    ({ problems, definitions } = lintRunbooks(path.join(root, 'runbooks'), fixtureActions(), root, {
      now: NOW,
    }));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const reported = (file: string) => problems.filter((p) => p.file === file).map(formatProblem);
  const lineIn = (name: string, needle: string) => {
    const text = CLEAN[name] as string;
    return text.slice(0, text.indexOf(needle)).split('\n').length;
  };

  it.each(CASES.map((c) => [c.name, c] as const))('reports %s at its line', (_, c) => {
    const file = `runbooks/${c.name}.md`;
    const expected = c.expect.map(({ at, says }) => {
      expect(c.text).toContain(at);
      const line = c.text.slice(0, c.text.indexOf(at)).split('\n').length;
      return `${file}:${line}: ${says}`;
    });
    expect(reported(file).sort()).toEqual(expected.sort());
  });

  it('takes templates for values of any type and alert labels in parameter defaults', () => {
    expect(reported('runbooks/clean.md')).toEqual([]);
  });

  it('warns when two runbooks start on the same intent, and refuses a runbook id used twice', () => {
    expect(reported('runbooks/intent-twin.md')).toEqual([
      `runbooks/intent-twin.md:${lineIn('intent-twin.md', 'intents:')}: warning: triggers.intents: 'scale_service' already starts clean`,
    ]);
    expect(reported('runbooks/nested/duplicate.md')).toEqual([
      "runbooks/nested/duplicate.md:2: id 'clean' is already the id of runbooks/clean.md",
    ]);
  });

  it('hands out the runbooks with no errors, warnings or not, and lists problems in file and line order', () => {
    const withErrors = new Set(problems.filter((p) => p.severity === 'error').map((p) => p.file));
    const ids = definitions.map((d) => d.source).sort();
    expect(ids).toContain('runbooks/clean.md');
    expect(ids).toContain('runbooks/undo-unused.md');
    expect(ids).toContain('runbooks/intent-twin.md');
    for (const source of ids) expect(withErrors.has(source)).toBe(false);
    expect(ids).not.toContain('runbooks/nested/duplicate.md');
    expect(ids).not.toContain('runbooks/README.md');
    expect(problems.map((p) => `${p.file}:${String(p.line).padStart(4, '0')}`)).toEqual(
      problems.map((p) => `${p.file}:${String(p.line).padStart(4, '0')}`).sort(),
    );
  });

  it('refuses a folder that does not exist', () => {
    expect(() => lintRunbooks(path.join(root, 'missing'), fixtureActions())).toThrow(
      expect.objectContaining({ code: ErrorCode.NotFound }) as OpsbotError,
    );
  });

  it('takes a plain map of action shapes as well as a registry', () => {
    const actions = new Map([
      ['restart', { inputSchema: { type: 'object', required: ['service'] }, mutating: true }],
    ]);
    const result = lintRunbooks(path.join(root, 'runbooks'), actions, root, { now: NOW });
    expect(result.problems.filter((p) => p.file === 'runbooks/clean.md').map(formatProblem)).toEqual([
      `runbooks/clean.md:${lineIn('clean.md', 'id=look')}: step look: unknown action 'query' (known: approval, restart)`,
      `runbooks/clean.md:${lineIn('clean.md', 'id=scale')}: step scale: unknown action 'scale' (known: approval, restart)`,
      `runbooks/clean.md:${lineIn('clean.md', 'id=wait')}: step wait: unknown action 'wait' (known: approval, restart)`,
      `runbooks/clean.md:${lineIn('clean.md', 'id=back')}: undo back: unknown action 'scale' (known: approval, restart)`,
    ]);
  });
});

describe('the shipped runbooks', () => {
  const files = readdirSync(REPO_RUNBOOKS).filter((f) => f.endsWith('.md') && f !== 'README.md');

  it('lint with no errors against the action shapes', () => {
    const { definitions, problems } = lintRunbooks(REPO_RUNBOOKS, fixtureActions());
    expect(problems.filter((p) => p.severity === 'error').map(formatProblem)).toEqual([]);
    expect(definitions.map((d) => d.source).sort()).toEqual(files.map((f) => `runbooks/${f}`).sort());
  });

  it("lint with no errors against the orchestrator's own actions", () => {
    const config = testConfig();
    const actions = createStandardActions({
      catalog: new ServiceCatalog(config),
      platforms: new Platforms({}),
      probe: new HttpHealthProbe(1_000, 0),
      metrics: { description: 'none', query: () => Promise.reject(new Error('lint only')) },
      notifier: new Notifier(),
      publish: async () => [],
      shell: { enabled: false, allow: [] },
      verifyTimeoutMs: 1_000,
    });
    const { problems } = lintRunbooks(REPO_RUNBOOKS, actions);
    expect(problems.filter((p) => p.severity === 'error').map(formatProblem)).toEqual([]);
  });

  it('make service-down a restart with approval that an alert fills in', () => {
    const serviceDown = lintRunbooks(REPO_RUNBOOKS, fixtureActions()).definitions.find(
      (d) => d.id === 'service-down',
    )!;
    expect(serviceDown.triggers.alerts).toEqual([
      [{ name: 'alertname', op: '=', value: 'ServiceDown' }],
      [{ name: 'alertname', op: '=', value: 'KubePodCrashLooping' }],
      [{ name: 'alertname', op: '=', value: 'ServiceHealthCheckFailing' }],
    ]);
    expect(serviceDown.parameters.properties.service!.default).toBe('{{ alert.labels.service }}');
    expect(serviceDown.parameters.properties.environment!.default).toBe('production');
    expect(serviceDown.parameters.required).toEqual(['service']);
    expect(serviceDown.policy).toMatchObject({ approval: { required: true, approvers: 1 }, autoRun: false });
    expect(serviceDown.steps.map((s) => [s.id, s.action, s.mutating])).toEqual([
      ['check-still-down', 'wait', false],
      ['restart', 'restart', true],
      ['wait-healthy', 'wait', false],
      ['announce', 'notify', false],
    ]);
    expect(serviceDown.steps[0]).toMatchObject({ continueOnError: true });
    expect(serviceDown.steps[2]!.with).toMatchObject({ timeoutSeconds: 60 });
  });

  it('undo every scale with a scale back to the count the step found', () => {
    const { definitions } = lintRunbooks(REPO_RUNBOOKS, fixtureActions());
    const scales = definitions.flatMap((d) =>
      d.steps.filter((s) => s.action === 'scale').map((s) => ({ ...s, runbook: d.id })),
    );
    expect(scales.length).toBeGreaterThanOrEqual(5);
    for (const scale of scales) {
      expect(scale.undo).toEqual({
        action: 'scale',
        with: expect.objectContaining({ replicas: `{{ steps.${scale.id}.output.from }}` }),
      });
    }
  });
});
