import type { InboundTurn, Principal, Reply } from '../core/message';
import type { ServiceCatalog } from '../config/catalog';
import type { EntityType, Intent } from '../nlu/intents';
import type { Permission } from '../policy/policy';
import type { SessionState, Slots, SlotValue } from '../dialogue/session';

/** An entity the skill needs. Required slots the user did not give are asked for, one at a time. */
export interface SlotSpec {
  entity: EntityType;
  required: boolean;
  /** Required for these variants only (Skill.variantOf), when `required` is false: a window to schedule needs a service, a list does not. */
  requiredFor?: (variant: string | undefined) => boolean;
  /** The question asked when the slot is missing. */
  prompt: string;
  /** A value used when the user gave none (e.g. the catalog's default environment). */
  fallback?: (catalog: ServiceCatalog) => SlotValue;
  /** Rejects a value with a message that tells the user why ("payments allows 1–10 replicas"). */
  validate?: (value: SlotValue, slots: Slots, catalog: ServiceCatalog) => string | undefined;
}

export interface SkillContext {
  turn: InboundTurn;
  user: Principal;
  roles: string[];
  slots: Slots;
  session: Readonly<SessionState>;
  catalog: ServiceCatalog;
  /** True when this user's roles grant the permission. */
  can(permission: Permission | null): boolean;
  /** Every registered skill, for help. */
  skills: readonly Skill[];
  /** The turn's correlation id: log lines and audit records of this turn carry it. */
  correlationId: string;
  /** The request's variant, when the skill has them (Skill.variantOf). */
  variant?: string;
}

/** One handler per intent. Its metadata (grammar, permission, slots) stays apart from `handle`, StackStorm-style. */
export interface Skill {
  intent: Intent;
  /** null: anyone may use it (greeting, help, …). */
  permission: Permission | null;
  /** One line for help, as an imperative: "Check the health of services and of opsbot itself". */
  summary: string;
  examples: string[];
  slots: SlotSpec[];
  /** Mutating skills ask for confirmation first. */
  mutating: boolean;
  /** False when the engine behind this skill is not part of this build; help lists it apart. */
  installed: boolean;
  /**
   * The confirmation question's description of what will happen: "restart payments in production". Also used
   * while slots are still missing ("I dropped the request to restart payments"), so it leaves those out.
   */
  describe?(slots: Slots, variant?: string): string;
  /**
   * For an intent that reads or acts depending on the words ("show the dead letters" / "replay the dead
   * letters"): the variant the text asks for, decided once when the request is made.
   */
  variantOf?(text: string): string | undefined;
  /** The permission a variant that changes something needs; it is then confirmed like a mutating skill. */
  mutatingVariant?(variant: string): Permission | undefined;
  handle(ctx: SkillContext): Promise<Reply>;
}

export class SkillRegistry {
  private readonly skills = new Map<Intent, Skill>();

  register(skill: Skill): this {
    if (this.skills.has(skill.intent)) throw new Error(`a skill for ${skill.intent} is already registered`);
    this.skills.set(skill.intent, skill);
    return this;
  }

  /** Replaces the skill for an intent: how a process without an engine answers for it elsewhere. */
  replace(skill: Skill): this {
    this.skills.set(skill.intent, skill);
    return this;
  }

  get(intent: Intent): Skill | undefined {
    return this.skills.get(intent);
  }

  all(): readonly Skill[] {
    return [...this.skills.values()];
  }
}
