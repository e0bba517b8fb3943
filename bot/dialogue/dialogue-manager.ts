import type { Logger } from 'pino';
import type { ServiceCatalog } from '../config/catalog';
import { textReply, type Block, type InboundTurn, type Reply } from '../core/message';
import type { Entity, EntityType, Intent, NluEngine, NluResult } from '../nlu/intents';
import type { Permission, Policy } from '../policy/policy';
import type { Skill, SkillRegistry } from '../skills/skill';
import type { PendingAction, PendingClarification, SessionState, Slots } from './session';

/** How long a "please confirm" stays answerable: long enough to read it, short enough to not surprise anyone. */
export const CONFIRMATION_TTL_MS = 5 * 60_000;
export const SLOT_QUESTION_TTL_MS = 10 * 60_000;
/** A question asked this many times without an answer is dropped rather than asked forever. */
export const MAX_SLOT_ATTEMPTS = 3;
/** Below this, an unexpected answer to a question is treated as a failed answer, not as a new request. */
export const NEW_REQUEST_CONFIDENCE = 0.6;

export const CONFIRM_ACTION_ID = 'dialogue.confirm';
export const DENY_ACTION_ID = 'dialogue.deny';
/** A button of a "did you mean … or …?" question; its value is the intent chosen. */
export const CLARIFY_ACTION_ID = 'dialogue.clarify';
export const CLARIFICATION_TTL_MS = 10 * 60_000;

/** "it", "that service", … refer to the last service mentioned in the conversation. */
const SERVICE_REFERENCE =
  /\b(it|its|that service|this service|the service|same service|that one|this one)\b/i;

const ENTITY_WORDS: Record<EntityType, string> = {
  service: 'a service name from the catalog',
  environment: 'an environment (production, staging or development)',
  replicas: 'a whole number of replicas',
  duration: 'a duration such as 30m or 2 hours',
  saga_id: 'a saga id such as saga-0042',
  runbook: 'a runbook id',
  alertname: 'an alert name such as KubePodCrashLooping',
  event_type: 'an event type such as order.created',
  time_range: 'a time such as "until tomorrow 9am" or "since 14:00"',
  order_id: 'an order id such as order-55102',
  customer_id: 'a customer id such as cus_9KQ2',
};

/**
 * `recorded`: a decision that leaves its question open for others (one approval of two): adapters keep the
 * buttons. `refused`: not this person's to answer: adapters keep the buttons and tell only them.
 */
export type TurnOutcomeKind =
  | 'answered'
  | 'asked_slot'
  | 'asked_confirmation'
  | 'asked_clarification'
  | 'cancelled'
  | 'refused'
  | 'recorded';

/** What a TurnInterceptor answered, and how adapters should treat the message that was clicked. */
export interface InterceptedTurn {
  reply: Reply;
  kind: Extract<TurnOutcomeKind, 'answered' | 'refused' | 'recorded'>;
}

export interface TurnOutcome {
  reply: Reply;
  nlu: NluResult;
  session: SessionState;
  kind: TurnOutcomeKind;
}

/**
 * A turn that is a command to an engine rather than a request to understand: an Approve click on a posted
 * plan, "approve 3f9c2a1b". It is answered before the NLU sees it, with the speaker's roles from policy.
 */
export interface TurnInterceptor {
  matches(turn: InboundTurn): boolean;
  handle(turn: InboundTurn, actor: { id: string; roles: string[] }): Promise<InterceptedTurn>;
}

export interface DialogueDeps {
  nlu: NluEngine;
  skills: SkillRegistry;
  policy: Policy;
  catalog: ServiceCatalog;
  logger: Logger;
  interceptors?: readonly TurnInterceptor[];
  now?: () => number;
}

/**
 * Decides what a turn means in its conversation: an answer to a question the bot asked, a yes/no to a
 * pending action, or a new request — then authorises it (policy) and runs the skill. State lives in the
 * SessionState it is given and returns; the caller stores it.
 */
export class DialogueManager {
  private readonly now: () => number;

  constructor(private readonly deps: DialogueDeps) {
    this.now = deps.now ?? Date.now;
  }

  async respond(turn: InboundTurn, session: SessionState, correlationId = ''): Promise<TurnOutcome> {
    const state: SessionState = { ...session, turns: session.turns + 1 };
    const clarifying = state.clarifying;
    // In a shared channel others talk between a "did you mean …?" and its answer: only the requester's own
    // next turn (a choice or a new request) closes it.
    if (clarifying && (clarifying.expiresAt <= this.now() || clarifying.requestedBy === turn.user.id)) {
      delete state.clarifying;
    }
    const interceptor = this.deps.interceptors?.find((i) => i.matches(turn));
    if (interceptor) {
      const { reply, kind } = await interceptor.handle(turn, {
        id: turn.user.id,
        roles: this.deps.policy.rolesFor(turn.user),
      });
      const nluOfCommand: NluResult = { text: turn.text, intent: 'confirm', confidence: 1, entities: [] };
      return new TurnContext(turn, nluOfCommand, state, correlationId).done(kind, reply);
    }
    let nlu: NluResult;
    if (turn.action?.actionId === CLARIFY_ACTION_ID) {
      const choice = this.clarificationChoice(turn, state, clarifying);
      if (!isNluResult(choice)) return choice;
      nlu = choice;
    } else {
      nlu = await this.understand(turn);
    }
    const turnCtx = new TurnContext(turn, nlu, state, correlationId);

    const pending = state.pending;
    if (pending) {
      delete state.pending;
      if (pending.expiresAt <= this.now()) {
        if (nlu.intent === 'confirm' || nlu.intent === 'deny') {
          return turnCtx.done(
            'cancelled',
            textReply(
              'That request expired before you answered. Nothing was changed; ask again if you still need it.',
            ),
          );
        }
      } else if (pending.requestedBy !== turn.user.id) {
        state.pending = pending; // someone else's question stays open for them
        if (nlu.intent === 'confirm' || nlu.intent === 'deny') {
          return turnCtx.done('refused', textReply('Only the person who made the request can answer that.'));
        }
      } else {
        const resolved = await this.continuePending(turnCtx, pending);
        if (resolved) return resolved;
      }
    }
    if (nlu.alternatives && nlu.alternatives.length >= 2) return this.askWhichOne(turnCtx, nlu.alternatives);
    return this.startRequest(turnCtx);
  }

  /**
   * The request a clarification button chose, with the entities of the utterance it clarified; or the reply
   * when the click answers no open question of its user's (expired, replaced, or an option never offered).
   */
  private clarificationChoice(
    turn: InboundTurn,
    state: SessionState,
    clarifying: PendingClarification | undefined,
  ): NluResult | TurnOutcome {
    const clicked = turn.action?.value ?? '';
    const noRequest: NluResult = {
      text: turn.text || clicked,
      intent: 'out_of_scope',
      confidence: 1,
      entities: [],
    };
    const open = clarifying && clarifying.expiresAt > this.now() ? clarifying : undefined;
    if (open && open.requestedBy !== turn.user.id) {
      return new TurnContext(turn, noRequest, state, '').done(
        'refused',
        textReply('Only the person who made the request can answer that.'),
      );
    }
    const intent = open?.options.find((option) => option === clicked);
    if (!open || !intent) {
      return new TurnContext(turn, noRequest, state, '').done(
        'cancelled',
        textReply('That question has expired. Nothing was changed; ask again if you still need it.'),
      );
    }
    return { text: open.text, intent, confidence: 1, entities: open.entities };
  }

  private askWhichOne(ctx: TurnContext, alternatives: NonNullable<NluResult['alternatives']>): TurnOutcome {
    const options = alternatives
      .map((a) => this.deps.skills.get(a.intent))
      .filter((skill): skill is Skill => skill !== undefined);
    ctx.state.clarifying = {
      text: ctx.nlu.text,
      entities: ctx.nlu.entities,
      options: options.map((skill) => skill.intent),
      requestedBy: ctx.turn.user.id,
      expiresAt: this.now() + CLARIFICATION_TTL_MS,
    };
    const question = `Did you mean: ${options.map((skill) => skill.summary.toLowerCase()).join(', or ')}?`;
    return ctx.done('asked_clarification', {
      text: question,
      blocks: [
        { type: 'section', text: question },
        {
          type: 'buttons',
          buttons: options.map((skill) => ({
            actionId: CLARIFY_ACTION_ID,
            label: skill.summary,
            value: skill.intent,
          })),
        },
      ],
    });
  }

  /** Button clicks arrive as actions: the confirmation buttons map to confirm/deny, others carry an utterance. */
  private async understand(turn: InboundTurn): Promise<NluResult> {
    const action = turn.action;
    if (action?.actionId === CONFIRM_ACTION_ID || action?.actionId === DENY_ACTION_ID) {
      const intent: Intent = action.actionId === CONFIRM_ACTION_ID ? 'confirm' : 'deny';
      return { text: turn.text || action.value, intent, confidence: 1, entities: [] };
    }
    return this.deps.nlu.parse(action ? action.value : turn.text);
  }

  /** Returns an outcome when the turn answered the pending action; undefined when it is a new request. */
  private async continuePending(ctx: TurnContext, pending: PendingAction): Promise<TurnOutcome | undefined> {
    const skill = this.deps.skills.get(pending.intent);
    if (!skill) return undefined;
    const { nlu } = ctx;
    const what = describe(skill, pending.slots, pending.variant);

    if (pending.awaiting.kind === 'confirmation') {
      if (nlu.intent === 'confirm') return this.execute(ctx, skill, pending.slots, pending.variant);
      if (nlu.intent === 'deny')
        return ctx.done('cancelled', textReply(`Cancelled: ${what}. Nothing was changed.`));
      ctx.note(`(I dropped the unconfirmed request to ${what}.)`);
      return undefined;
    }

    if (nlu.intent === 'deny') return ctx.done('cancelled', textReply(`OK, I won't ${what}.`));
    const slotName = pending.awaiting.slot;
    // "Yes" is not an answer to "which alert?", though a bare capitalised word would read as an alert name.
    const answer =
      nlu.intent === 'confirm'
        ? undefined
        : (findEntity(nlu.entities, slotName) ?? this.deps.nlu.extractSlot(slotName, nlu.text));
    if (answer) {
      pending.slots[slotName] = answer.value;
      return this.advance(ctx, skill, pending.slots, pending.variant);
    }
    if (
      nlu.intent !== 'out_of_scope' &&
      nlu.intent !== 'confirm' &&
      nlu.confidence >= NEW_REQUEST_CONFIDENCE
    ) {
      ctx.note(`(I dropped the request to ${what}.)`);
      return undefined;
    }
    const attempts = pending.awaiting.attempts + 1;
    if (attempts >= MAX_SLOT_ATTEMPTS) {
      return ctx.done(
        'cancelled',
        textReply(`I still don't have ${ENTITY_WORDS[slotName]}, so I've dropped the request to ${what}.`),
      );
    }
    const spec = skill.slots.find((s) => s.entity === slotName);
    ctx.state.pending = { ...pending, awaiting: { kind: 'slot', slot: slotName, attempts } };
    return ctx.done(
      'asked_slot',
      textReply(`Sorry, I need ${ENTITY_WORDS[slotName]}. ${spec?.prompt ?? ''}`.trim()),
    );
  }

  private async startRequest(ctx: TurnContext): Promise<TurnOutcome> {
    const skill = this.deps.skills.get(ctx.nlu.intent) ?? this.deps.skills.get('out_of_scope');
    if (!skill) throw new Error('no out_of_scope skill is registered');
    const slots: Slots = {};
    for (const spec of skill.slots) {
      const entity = findEntity(ctx.nlu.entities, spec.entity);
      if (entity) slots[spec.entity] = entity.value;
    }
    const wantsService = skill.slots.some((s) => s.entity === 'service');
    if (
      wantsService &&
      slots.service === undefined &&
      ctx.state.lastService &&
      SERVICE_REFERENCE.test(ctx.nlu.text)
    ) {
      slots.service = ctx.state.lastService;
    }
    return this.advance(ctx, skill, slots, skill.variantOf?.(ctx.nlu.text));
  }

  /** Authorise, fill what is missing, confirm what mutates, then run. */
  private async advance(
    ctx: TurnContext,
    skill: Skill,
    slots: Slots,
    variant: string | undefined,
  ): Promise<TurnOutcome> {
    const { user } = ctx.turn;
    const permission = permissionFor(skill, variant);
    const decision = this.deps.policy.decide(user, permission);
    if (!decision.allowed) {
      this.deps.logger.warn(
        {
          event: 'policy.denied',
          user: user.id,
          intent: skill.intent,
          permission,
          roles: decision.roles,
        },
        'request refused by policy',
      );
      return ctx.done(
        'refused',
        textReply(
          `Sorry, I can't do that for you: ${decision.reason}. Ask someone with that permission, or an admin to grant it.`,
        ),
      );
    }

    const { catalog } = this.deps;
    for (const spec of skill.slots) {
      if (slots[spec.entity] === undefined && spec.fallback) slots[spec.entity] = spec.fallback(catalog);
      const value = slots[spec.entity];
      const problem = value === undefined ? undefined : spec.validate?.(value, slots, catalog);
      if (value !== undefined && !problem) continue;
      if (!spec.required && !spec.requiredFor?.(variant) && !problem) continue;
      delete slots[spec.entity];
      ctx.state.pending = {
        intent: skill.intent,
        slots,
        awaiting: { kind: 'slot', slot: spec.entity, attempts: 0 },
        ...(variant === undefined ? {} : { variant }),
        requestedBy: user.id,
        expiresAt: this.now() + SLOT_QUESTION_TTL_MS,
      };
      return ctx.done('asked_slot', textReply(problem ? `${problem} ${spec.prompt}` : spec.prompt));
    }

    const mutating =
      skill.mutating || (variant !== undefined && skill.mutatingVariant?.(variant) !== undefined);
    if (mutating) return this.askConfirmation(ctx, skill, slots, variant);
    return this.execute(ctx, skill, slots, variant);
  }

  private askConfirmation(
    ctx: TurnContext,
    skill: Skill,
    slots: Slots,
    variant: string | undefined,
  ): TurnOutcome {
    ctx.state.pending = {
      intent: skill.intent,
      slots,
      awaiting: { kind: 'confirmation' },
      ...(variant === undefined ? {} : { variant }),
      requestedBy: ctx.turn.user.id,
      expiresAt: this.now() + CONFIRMATION_TTL_MS,
    };
    const what = describe(skill, slots, variant);
    const question = `Please confirm: ${what}.`;
    const caveat = skill.installed
      ? ''
      : ' Note: this capability is not installed in this build, so confirming will not change anything yet.';
    const blocks: Block[] = [{ type: 'section', text: question + caveat }];
    if (!skill.installed)
      blocks.push({
        type: 'status',
        badges: [{ label: skill.summary, state: 'unknown', detail: 'not installed' }],
      });
    blocks.push({
      type: 'buttons',
      buttons: [
        { actionId: CONFIRM_ACTION_ID, label: 'Confirm', value: 'yes', style: 'danger' },
        { actionId: DENY_ACTION_ID, label: 'Cancel', value: 'no' },
      ],
    });
    return ctx.done('asked_confirmation', { text: `${question}${caveat} Reply yes or no.`, blocks });
  }

  private async execute(
    ctx: TurnContext,
    skill: Skill,
    slots: Slots,
    variant: string | undefined,
  ): Promise<TurnOutcome> {
    const { user } = ctx.turn;
    // Roles can change between the question and the "yes": authorise again at the moment of acting.
    const permission = permissionFor(skill, variant);
    const decision = this.deps.policy.decide(user, permission);
    if (!decision.allowed) {
      this.deps.logger.warn(
        { event: 'policy.denied', user: user.id, intent: skill.intent, permission },
        'request refused by policy',
      );
      return ctx.done('refused', textReply(`Sorry, I can't do that for you: ${decision.reason}.`));
    }
    const reply = await skill.handle({
      turn: ctx.turn,
      user,
      roles: decision.roles,
      slots,
      session: ctx.state,
      catalog: this.deps.catalog,
      can: (permission) => this.deps.policy.allows(user, permission),
      skills: this.deps.skills.all(),
      correlationId: ctx.correlationId,
      ...(variant === undefined ? {} : { variant }),
    });
    if (typeof slots.service === 'string') ctx.state.lastService = slots.service;
    if (typeof slots.environment === 'string')
      ctx.state.lastEnvironment = slots.environment as SessionState['lastEnvironment'];
    ctx.state.lastIntent = skill.intent;
    return ctx.done('answered', reply);
  }
}

/** What one turn accumulates on its way through the dialogue: notes to prepend and the state to save. */
class TurnContext {
  private readonly notes: string[] = [];

  constructor(
    readonly turn: InboundTurn,
    readonly nlu: NluResult,
    readonly state: SessionState,
    readonly correlationId: string,
  ) {}

  note(text: string): void {
    this.notes.push(text);
  }

  done(kind: TurnOutcomeKind, reply: Reply): TurnOutcome {
    if (this.notes.length === 0) return { reply, nlu: this.nlu, session: this.state, kind };
    const prefix = this.notes.join(' ');
    return {
      reply: {
        text: `${prefix}\n${reply.text}`,
        blocks: [{ type: 'section', text: prefix }, ...reply.blocks],
      },
      nlu: this.nlu,
      session: this.state,
      kind,
    };
  }
}

function isNluResult(value: NluResult | TurnOutcome): value is NluResult {
  return 'intent' in value;
}

function findEntity(entities: Entity[], type: EntityType): Entity | undefined {
  return entities.find((e) => e.type === type);
}

function describe(skill: Skill, slots: Slots, variant?: string): string {
  return skill.describe ? skill.describe(slots, variant) : skill.summary.toLowerCase();
}

/** A mutating variant needs its own permission; otherwise the skill's. */
function permissionFor(skill: Skill, variant: string | undefined): Permission | null {
  return (variant === undefined ? undefined : skill.mutatingVariant?.(variant)) ?? skill.permission;
}
