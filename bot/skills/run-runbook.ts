import type { WorkflowDefinition } from '../../engines/orchestrator/workflow';
import { textReply, type Reply } from '../core/message';
import {
  exampleValue,
  missingParameters,
  missingParametersReply,
  parametersFromText,
  proposeRun,
  type ChatRunDeps,
} from './chat-run';
import type { Skill, SkillContext, SlotSpec } from './skill';

/** How many runbook ids the "which runbook?" question names before it says how many more there are. */
const NAMED_IN_QUESTION = 6;

/**
 * Runs an executable runbook from chat: "run the service-down runbook for payments". The reply is the plan
 * with Approve / Deny buttons; the run waits for that approval, so the dialogue does not confirm first.
 */
export function createRunRunbookSkill(deps: ChatRunDeps): Skill {
  const runbookSlot: SlotSpec = {
    entity: 'runbook',
    required: true,
    // A getter, so the question names the runbooks loaded when it is asked.
    get prompt() {
      return `Which runbook? ${knownRunbooks(deps.orchestrator.definitions('runbook'))}`;
    },
    validate: (value) =>
      deps.orchestrator.definition(String(value), 'runbook') ? undefined : `There is no runbook ${value}.`,
  };
  return {
    intent: 'run_runbook',
    permission: 'runbook.run',
    summary: 'Run a runbook',
    examples: ['run the service-down runbook for payments', 'run payments-high-error-rate in staging'],
    slots: [
      runbookSlot,
      { entity: 'service', required: false, prompt: 'For which service?' },
      { entity: 'environment', required: false, prompt: 'In which environment?' },
    ],
    mutating: false,
    installed: true,
    describe: (s) =>
      `run runbook ${s.runbook ?? ''}${s.service === undefined ? '' : ` for ${s.service}`}${s.environment === undefined ? '' : ` in ${s.environment}`}`.replace(
        /\s+/g,
        ' ',
      ),
    async handle(ctx) {
      const definition = deps.orchestrator.definition(String(ctx.slots.runbook), 'runbook');
      if (!definition) return textReply(`There is no runbook ${ctx.slots.runbook}. Nothing was started.`);
      const { params, notes } = runbookParameters(definition, ctx);
      const missing = missingParameters(definition.parameters, params);
      if (missing.length > 0) return askForParameters(definition, missing, ctx);
      return proposeRun(deps, ctx, definition, params, notes);
    },
  };
}

/**
 * The said service and environment go to the runbook's parameters of those names; other parameters may be
 * written as name=value. An environment the runbook needs and the user did not say is the catalog's default,
 * as for restart and scale.
 */
function runbookParameters(
  definition: WorkflowDefinition,
  ctx: SkillContext,
): { params: Record<string, unknown>; notes: string[] } {
  const { properties } = definition.parameters;
  const params = parametersFromText(ctx.turn.text, definition.parameters);
  const notes: string[] = [];
  for (const name of ['service', 'environment'] as const) {
    const said = ctx.slots[name];
    if (said === undefined) continue;
    if (name in properties) params[name] = said;
    else notes.push(`The ${definition.id} runbook takes no ${name}, so I left ${said} out.`);
  }
  if (
    'environment' in properties &&
    params.environment === undefined &&
    properties.environment?.default === undefined
  ) {
    params.environment = ctx.catalog.defaultEnvironment;
  }
  return { params, notes };
}

function askForParameters(definition: WorkflowDefinition, missing: string[], ctx: SkillContext): Reply {
  const schema = definition.parameters;
  const service = exampleValue(schema, 'service') ?? ctx.catalog.list()[0]?.name ?? '<service>';
  const example = [
    `run the ${definition.id} runbook`,
    ...(missing.includes('service') ? [`for ${service}`] : []),
    ...missing
      .filter((name) => name !== 'service')
      .map((name) => `${name}=${exampleValue(schema, name) ?? '<value>'}`),
  ].join(' ');
  return missingParametersReply(
    `The ${definition.id} runbook needs ${missing.length === 1 ? 'one more parameter' : 'more parameters'}:`,
    schema,
    missing,
    'Ask again with them, for example:',
    example,
  );
}

function knownRunbooks(runbooks: readonly WorkflowDefinition[]): string {
  if (runbooks.length === 0) return 'No executable runbooks are loaded.';
  const named = runbooks.slice(0, NAMED_IN_QUESTION).map((r) => r.id);
  const more = runbooks.length - named.length;
  return `For example ${named.join(', ')}${more > 0 ? ` (and ${more} more)` : ''}.`;
}
