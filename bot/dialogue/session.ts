import type { Entity, EntityType, Intent } from '../nlu/intents';
import type { EnvironmentName } from '../config/schema';

export type SlotValue = string | number;
export type Slots = Partial<Record<EntityType, SlotValue>>;

/** A request the dialogue is still completing: waiting for a missing entity or for a yes/no. */
export interface PendingAction {
  intent: Intent;
  slots: Slots;
  awaiting: { kind: 'slot'; slot: EntityType; attempts: number } | { kind: 'confirmation' };
  /** Which of the skill's requests this is, for skills that read one intent two ways (see Skill.variantOf). */
  variant?: string;
  /** Only the person who asked may answer or confirm. */
  requestedBy: string;
  /** Epoch milliseconds after which the pending request is void. */
  expiresAt: number;
}

/** A "did you mean … or …?" the dialogue asked: the utterance it was about and the intents offered. */
export interface PendingClarification {
  text: string;
  entities: Entity[];
  options: Intent[];
  requestedBy: string;
  expiresAt: number;
}

/** Per-conversation state. Stored as JSON, so keep it plain data. */
export interface SessionState {
  lastService?: string;
  lastEnvironment?: EnvironmentName;
  lastIntent?: Intent;
  pending?: PendingAction;
  clarifying?: PendingClarification;
  turns: number;
}

export function newSession(): SessionState {
  return { turns: 0 };
}

/** The port the dialogue keeps conversations in. Implementations expire sessions after the configured TTL. */
export interface SessionStore {
  readonly kind: string;
  get(key: string): Promise<SessionState | undefined>;
  set(key: string, state: SessionState): Promise<void>;
  delete(key: string): Promise<void>;
  /** Cheap liveness check for /readyz and system status. Throws when the store cannot serve. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
