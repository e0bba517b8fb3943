import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testConfig, testServer } from '../support/runtime';

/**
 * A team routes "restart <service>" through its own runbook (`triggers.intents: [restart_service]`): the chat
 * then answers with that runbook's plan and approval buttons instead of the built-in restart confirmation,
 * with the service said filling the runbook's parameter.
 */
const RUNBOOK = `---
id: careful-restart
title: Careful restart
description: Restart a service only after its owner's approval, then check it answers healthy.
owner: team-platform
last_reviewed: 2026-11-01
triggers:
  intents: [restart_service]
parameters:
  type: object
  properties:
    service: { type: string, enum: [payments, orders] }
    environment: { type: string, enum: [production, staging], default: production }
  required: [service]
  additionalProperties: false
policy:
  approval: { required: true, approvers: 1, self_approval: false, ttl: 30m }
  risk: medium
---

## Symptoms

Anything that needs a restart.

## Diagnose

Look at the service's health first.

## Remediate

\`\`\`step id=restart action=restart timeout=3m
service: "{{ params.service }}"
environment: "{{ params.environment }}"
\`\`\`

## Verify

\`\`\`step id=healthy action=wait timeout=90s
until:
  health: "{{ params.service }}"
timeoutSeconds: 60
\`\`\`

## Rollback

Nothing to roll back: a restart changes no configuration.
`;

const OPERATOR_KEY = 'intent-operator-key-0123456789abcdef';

describe('an intent claimed by a runbook', () => {
  let server: Awaited<ReturnType<typeof testServer>>;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-intent-runbooks-'));
    writeFileSync(path.join(dir, 'careful-restart.md'), RUNBOOK);
    server = await testServer(
      testConfig((raw) => {
        raw.orchestrator = { runbooksDir: dir };
        raw.auth = { apiKeys: [{ id: 'op', key: OPERATOR_KEY, user: { id: 'olivia', name: 'Olivia' } }] };
        raw.policy.users['api:olivia'] = ['operator'];
      }),
    );
  });
  afterAll(() => server.close());

  it('"restart payments" proposes the runbook, with the service filled in, waiting for someone else', async () => {
    const res = await fetch(`${server.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_KEY}` },
      body: JSON.stringify({ text: 'restart payments', conversation: 'intent-1' }),
    });
    const { reply, nlu } = await res.json();
    expect(nlu.intent).toBe('restart_service');
    expect(reply.text).toMatch(/^Your team routes "restart a service" through the careful-restart runbook\./);
    expect(reply.text).toMatch(/Plan: runbook careful-restart/);
    expect(reply.text).toMatch(/service=payments, environment=production/);
    const buttons = reply.blocks.find((b: any) => b.type === 'buttons').buttons;
    expect(buttons.map((b: any) => b.actionId)).toEqual(['orchestrator.approve', 'orchestrator.deny']);
    const [run] = await server.runtime.orchestrator!.service.list({ definitionId: 'careful-restart' });
    expect(run).toMatchObject({
      status: 'awaiting_approval',
      actor: 'api:olivia',
      params: { service: 'payments' },
    });
    // Nothing was asked to confirm in the dialogue: the plan's approval is the confirmation.
    expect(reply.text).not.toMatch(/Please confirm/);
  });
});
