import type { WorkflowDefinition } from '../../engines/orchestrator/workflow';
import type { Slots } from '../dialogue/session';
import type { EntityType } from '../nlu/intents';
import { textReply, type Reply } from '../core/message';
import {
  exampleValue,
  missingParameters,
  missingParametersReply,
  parameterNamed,
  parametersFromText,
  proposeRun,
  type ChatRunDeps,
} from './chat-run';
import type { Skill } from './skill';

/** Words that name no saga in particular: "start the … saga for …". */
const FILLER_WORDS = new Set([
  'a',
  'an',
  'the',
  'of',
  'for',
  'to',
  'and',
  'with',
  'new',
  'saga',
  'sagas',
  'start',
  'run',
  'please',
]);
/** Saga words shorter than this only count when said exactly; longer ones also as a stem ("onboard"). */
const MIN_STEM = 5;
/** Saying a saga's id outweighs any number of title words another saga shares with the text. */
const ID_MENTIONED = 100;
/** The ids the NLU recognises, and the kind of parameter each one is. */
const ENTITY_PARAMETERS: [EntityType, string][] = [
  ['customer_id', 'customer'],
  ['order_id', 'order'],
];

/**
 * Starts a saga from chat: "start the order fulfillment saga for customer cus_9KQ2 sku-7 quantity 2
 * amountCents=2598". The saga is the one whose id or title the words name; its parameters come from the
 * customer and order ids the NLU found and from name=value pairs. What is missing is asked for in one message
 * with a complete example to copy, since sagas take structured parameters rather than a conversation.
 */
export function createStartSagaSkill(deps: ChatRunDeps): Skill {
  return {
    intent: 'start_saga',
    permission: 'saga.start',
    summary: 'Start a saga',
    examples: [
      'start the order fulfillment saga for customer cus_9KQ2 sku-7 quantity 2 amountCents=2598',
      'start the refund saga for pay_3f9c2a1b7d4e5f60',
    ],
    slots: ENTITY_PARAMETERS.map(([entity, thing]) => ({
      entity,
      required: false,
      prompt: `Which ${thing}?`,
    })),
    mutating: false,
    installed: true,
    describe: () => 'start a saga',
    async handle(ctx) {
      const sagas = deps.orchestrator.definitions('saga');
      if (sagas.length === 0) {
        return textReply(
          'No sagas are defined in this opsbot (they are YAML files in orchestrator.sagasDir).',
        );
      }
      const chosen = sagasNamed(ctx.turn.text, sagas);
      const saga = chosen.length === 1 ? chosen[0] : undefined;
      if (!saga) return askWhichSaga(chosen.length > 1 ? chosen : sagas, chosen.length > 1);
      const params = sagaParameters(saga, ctx.turn.text, ctx.slots);
      const missing = missingParameters(saga.parameters, params);
      if (missing.length > 0) return askForParameters(saga, params, missing);
      return proposeRun(deps, ctx, saga, params);
    },
  };
}

/** The sagas the words name best: an id said outright, else the most id and title words said. */
export function sagasNamed(text: string, sagas: readonly WorkflowDefinition[]): WorkflowDefinition[] {
  const lower = text.toLowerCase();
  const said = lower.split(/[^a-z0-9]+/).filter((w) => w !== '' && !FILLER_WORDS.has(w));
  const scores = sagas.map((saga) => {
    const mentioned = new RegExp(`(?<![\\w-])${saga.id}(?![\\w-])`).test(lower) ? ID_MENTIONED : 0;
    const words = new Set(
      [...saga.id.split('-'), ...saga.title.toLowerCase().split(/[^a-z0-9]+/)].filter(
        (w) => w.length > 1 && !FILLER_WORDS.has(w),
      ),
    );
    return mentioned + [...words].filter((word) => said.some((s) => sameWord(s, word))).length;
  });
  const best = Math.max(0, ...scores);
  return best === 0 ? [] : sagas.filter((_, i) => scores[i] === best);
}

function sagaParameters(saga: WorkflowDefinition, text: string, slots: Slots): Record<string, unknown> {
  const params = parametersFromText(text, saga.parameters);
  for (const [entity, thing] of ENTITY_PARAMETERS) {
    const name = parameterNamed(saga.parameters, thing);
    const value = slots[entity];
    if (name !== undefined && value !== undefined && params[name] === undefined) params[name] = value;
  }
  return params;
}

function askWhichSaga(sagas: readonly WorkflowDefinition[], ambiguous: boolean): Reply {
  const heading = ambiguous ? 'Which of these sagas do you mean?' : 'Which saga? These can be started:';
  const items = sagas.map((s) => `${s.id} — ${s.title}${s.description ? `: ${s.description}` : ''}`);
  const first = sagas[0];
  const example = first ? `For example: start the ${first.id} saga ${exampleCommand(first, {})}`.trim() : '';
  return {
    text: [heading, ...items.map((i) => `- ${i}`), example].filter(Boolean).join('\n'),
    blocks: [
      { type: 'section', text: heading },
      { type: 'list', items },
      ...(example ? [{ type: 'section' as const, text: example }] : []),
    ],
  };
}

function askForParameters(
  saga: WorkflowDefinition,
  params: Record<string, unknown>,
  missing: string[],
): Reply {
  return missingParametersReply(
    `To start ${saga.id} (${saga.title}) I also need:`,
    saga.parameters,
    missing,
    'Ask again with everything, for example:',
    `start the ${saga.id} saga ${exampleCommand(saga, params)}`,
  );
}

/** name=value for every required parameter: the given value, else the schema's example. */
function exampleCommand(saga: WorkflowDefinition, params: Record<string, unknown>): string {
  return (saga.parameters.required ?? [])
    .map((name) => {
      const given = params[name];
      const value =
        given === undefined
          ? (exampleValue(saga.parameters, name) ?? '<value>')
          : typeof given === 'string' && /\s/.test(given)
            ? `"${given}"`
            : String(given);
      return `${name}=${value}`;
    })
    .join(' ');
}

function sameWord(said: string, word: string): boolean {
  if (said === word) return true;
  return Math.min(said.length, word.length) >= MIN_STEM && (said.startsWith(word) || word.startsWith(said));
}
