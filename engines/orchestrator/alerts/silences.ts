import type { LabelMatcher } from '../workflow';
import { formatMatcher, matchesAll } from '../runbooks/label-matchers';

/** A label matcher as Alertmanager spells it in a silence: `isEqual: false` negates (`!=`, `!~`). */
export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

/** `pending`: starts later; `expired`: its end has passed, or it was expired early. */
export type SilenceState = 'pending' | 'active' | 'expired';

export interface Silence {
  id: string;
  matchers: SilenceMatcher[];
  /** ISO 8601. */
  startsAt: string;
  endsAt: string;
  /** Who asked: a chat or API identity ("slack:U0123"). */
  createdBy: string;
  comment: string;
  state: SilenceState;
}

export interface NewSilence {
  matchers: SilenceMatcher[];
  /** ISO 8601. */
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/**
 * Where silences live: Alertmanager's, when one is configured, or opsbot's own. Alerts a silence matches
 * start nothing while it is active.
 */
export interface Silences {
  /** "Alertmanager at http://alertmanager:9093/", "opsbot's own silences": for replies. */
  readonly description: string;
  /** The new silence's id. Throws when the silence is refused (no matchers, its end already past, …). */
  create(silence: NewSilence): Promise<string>;
  /** Ends a silence now. One already expired, or unknown to the store, is left as it is. */
  expire(id: string): Promise<void>;
  /** Pending and active silences; expired ones are left out. */
  list(): Promise<Silence[]>;
}

/** `service="payments"`, `environment=~"production|"`: the matcher as Alertmanager and amtool write it. */
export function formatSilenceMatcher(matcher: SilenceMatcher): string {
  return formatMatcher(labelMatcherOf(matcher));
}

/** Every matcher holds for the labels; a label the alert lacks counts as the empty string, as in Alertmanager. */
export function silenceMatches(
  matchers: readonly SilenceMatcher[],
  labels: Readonly<Record<string, string>>,
): boolean {
  return matchers.length > 0 && matchesAll(matchers.map(labelMatcherOf), labels);
}

export function labelMatcherOf(matcher: SilenceMatcher): LabelMatcher {
  const op = matcher.isRegex ? (matcher.isEqual ? '=~' : '!~') : matcher.isEqual ? '=' : '!=';
  return { name: matcher.name, op, value: matcher.value };
}

/** Whether a silence covers `at` (epoch ms): `pending` before its start, `expired` from its end. */
export function silenceStateAt(silence: { startsAt: string; endsAt: string }, at: number): SilenceState {
  if (Date.parse(silence.endsAt) <= at) return 'expired';
  return Date.parse(silence.startsAt) > at ? 'pending' : 'active';
}
