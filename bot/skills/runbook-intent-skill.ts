import type { WorkflowDefinition } from '../../engines/orchestrator/workflow';
import { missingParameters, parametersFromText, proposeRun, type ChatRunDeps } from './chat-run';
import type { Skill } from './skill';

/**
 * A chat intent a runbook claims with `triggers.intents`: "restart payments" then proposes that runbook — its
 * plan, approval policy and verification — instead of the built-in skill. The grammar stays the built-in
 * skill's (its slots are asked for the same way), and what the user said fills the runbook's parameters of the
 * same names (service, environment, replicas, …). The dialogue does not confirm first: the plan's Approve is
 * the confirmation.
 */
export function createRunbookIntentSkill(
  builtIn: Skill,
  runbook: WorkflowDefinition,
  deps: ChatRunDeps,
): Skill {
  return {
    intent: builtIn.intent,
    permission: 'runbook.run',
    summary: `${builtIn.summary} (through the ${runbook.id} runbook)`,
    examples: builtIn.examples,
    slots: builtIn.slots,
    mutating: false,
    installed: true,
    describe: builtIn.describe,
    async handle(ctx) {
      const { properties } = runbook.parameters;
      const params = parametersFromText(ctx.turn.text, runbook.parameters);
      for (const [name, value] of Object.entries(ctx.slots)) {
        if (value !== undefined && name in properties && params[name] === undefined) params[name] = value;
      }
      const notes = [
        `Your team routes "${builtIn.summary.toLowerCase()}" through the ${runbook.id} runbook.`,
      ];
      const missing = missingParameters(runbook.parameters, params);
      if (missing.length > 0) {
        notes.push(`It also needs ${missing.join(', ')}: add them as name=value.`);
      }
      return proposeRun(deps, ctx, runbook, params, notes);
    },
  };
}

/**
 * Replaces the built-in skill of every intent a runbook claims. Two runbooks claiming one intent, or an intent
 * with no skill, is reported and the first claim wins.
 */
export function routeIntentsThroughRunbooks(
  skills: { get(intent: Skill['intent']): Skill | undefined; replace(skill: Skill): unknown },
  runbooks: readonly WorkflowDefinition[],
  deps: ChatRunDeps,
  warn: (message: string) => void,
): void {
  const claimed = new Map<string, string>();
  for (const runbook of runbooks) {
    if (runbook.kind !== 'runbook' || runbook.steps.length === 0) continue;
    for (const intent of runbook.triggers.intents) {
      const owner = claimed.get(intent);
      if (owner) {
        warn(`runbooks ${owner} and ${runbook.id} both claim the intent ${intent}; ${owner} keeps it`);
        continue;
      }
      const builtIn = skills.get(intent as Skill['intent']);
      if (!builtIn) {
        warn(`runbook ${runbook.id} claims the intent ${intent}, which no skill answers`);
        continue;
      }
      claimed.set(intent, runbook.id);
      skills.replace(createRunbookIntentSkill(builtIn, runbook, deps));
    }
  }
}
