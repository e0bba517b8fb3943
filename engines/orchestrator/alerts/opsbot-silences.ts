import { randomUUID } from 'node:crypto';
import { ErrorCode, OpsbotError } from '../../../bot/core/errors';
import type { RecordStore } from '../../../bot/core/record-store';
import { parseMatcher } from '../runbooks/label-matchers';
import {
  formatSilenceMatcher,
  type NewSilence,
  type Silence,
  type Silences,
  silenceMatches,
  silenceStateAt,
} from './silences';

/** A silence as opsbot keeps it; its state follows from the times. */
export type SilenceRecord = Omit<Silence, 'state'>;

/** As long as Alertmanager keeps an expired silence by default (`--data.retention=120h`), then forgotten. */
export const EXPIRED_SILENCE_RETENTION_MS = 120 * 3_600_000;

export interface OpsbotSilencesDeps {
  store: RecordStore<SilenceRecord>;
  now?: () => number;
}

/**
 * opsbot's own silences, for when no Alertmanager is configured: label matchers and an end time in a durable
 * store, with Alertmanager's semantics (a missing label is the empty string, regular expressions are
 * anchored, expiring ends a silence now). The alert router asks `silencedBy` before it acts on an alert.
 * Expired silences are forgotten after EXPIRED_SILENCE_RETENTION_MS, so the store stays small.
 */
export class OpsbotSilences implements Silences {
  readonly description = "opsbot's own silences (no Alertmanager is configured)";
  private readonly now: () => number;

  constructor(private readonly deps: OpsbotSilencesDeps) {
    this.now = deps.now ?? Date.now;
  }

  async create(silence: NewSilence): Promise<string> {
    const now = this.now();
    checkSilence(silence, now);
    await this.forgetOldExpired(now);
    const id = randomUUID();
    await this.deps.store.put(id, {
      id,
      matchers: silence.matchers.map((m) => ({ ...m })),
      startsAt: silence.startsAt,
      endsAt: silence.endsAt,
      createdBy: silence.createdBy,
      comment: silence.comment,
    });
    return id;
  }

  async expire(id: string): Promise<void> {
    const record = await this.deps.store.get(id);
    const now = this.now();
    if (!record || silenceStateAt(record, now) === 'expired') return;
    const ended = new Date(now).toISOString();
    // A pending silence that is expired never starts: both ends become now, as in Alertmanager.
    const startsAt = Date.parse(record.startsAt) > now ? ended : record.startsAt;
    await this.deps.store.put(id, { ...record, startsAt, endsAt: ended });
  }

  async list(): Promise<Silence[]> {
    const now = this.now();
    return (await this.deps.store.list())
      .map(({ value }) => ({ ...value, state: silenceStateAt(value, now) }))
      .filter((s) => s.state !== 'expired')
      .sort((a, b) => Date.parse(a.endsAt) - Date.parse(b.endsAt));
  }

  /** The id of an active silence whose matchers all hold for the alert's labels. */
  async silencedBy(alert: { labels: Readonly<Record<string, string>> }): Promise<string | undefined> {
    const now = this.now();
    for (const { value } of await this.deps.store.list()) {
      if (silenceStateAt(value, now) === 'active' && silenceMatches(value.matchers, alert.labels))
        return value.id;
    }
    return undefined;
  }

  private async forgetOldExpired(now: number): Promise<void> {
    for (const { key, value } of await this.deps.store.list()) {
      if (Date.parse(value.endsAt) + EXPIRED_SILENCE_RETENTION_MS <= now) await this.deps.store.delete(key);
    }
  }
}

/** What Alertmanager refuses, refused the same way: no matchers, a bad matcher, no author, an end not ahead. */
function checkSilence(silence: NewSilence, now: number): void {
  if (silence.matchers.length === 0) throw invalid('a silence needs at least one label matcher');
  for (const matcher of silence.matchers) {
    try {
      // Checks the label name and compiles a regular expression, as the router will use it.
      parseMatcher(formatSilenceMatcher(matcher));
    } catch (err) {
      throw invalid((err as Error).message);
    }
  }
  const starts = Date.parse(silence.startsAt);
  const ends = Date.parse(silence.endsAt);
  if (Number.isNaN(starts) || Number.isNaN(ends))
    throw invalid('a silence needs ISO 8601 start and end times');
  if (ends <= starts) throw invalid('a silence must end after it starts');
  if (ends <= now) throw invalid('a silence must end in the future');
  if (silence.createdBy.trim() === '') throw invalid('a silence needs its author (createdBy)');
  if (silence.comment.trim() === '') throw invalid('a silence needs a comment saying why');
}

function invalid(message: string): OpsbotError {
  return new OpsbotError(ErrorCode.InvalidRequest, message);
}
