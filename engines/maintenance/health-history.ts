/** One check's result in one round, as kept in history. */
export interface CheckRecord {
  /** Epoch milliseconds the round started: every check of one round has the same `t`. */
  t: number;
  ok: boolean;
  latencyMs: number;
  detail: string;
  /** The check's name ("http http://127.0.0.1:7101/health"). */
  check: string;
}

/** The rounds in a row that all passed, or that each had a failed check, up to the latest. */
export interface Streak {
  ok: boolean;
  rounds: number;
  /** When its first round started. */
  since: number;
}

/**
 * Rounds kept per service and environment: an hour at the 1 s default interval, what failure prediction reads.
 * A series keeps that many records per check. A record is a few numbers and a short detail string, the check
 * name shared by every record of one check: about 150 bytes on node 20 (measured with a full series), so a
 * service with one check holds about 0.5 MB at most, and the demo's eight services about 4 MB.
 */
export const DEFAULT_ROUNDS_KEPT = 3_600;
/** A detail longer than this is cut: an odd error message must not grow history past its bound. */
export const MAX_DETAIL_CHARS = 200;

/**
 * The check results of one service in one environment, newest last, bounded: once full, each record
 * replaces the oldest. The streak is counted as rounds are recorded, so it stays right when it is longer
 * than what is kept.
 */
export class HealthSeries {
  private readonly records: CheckRecord[] = [];
  /** Where the next record goes once the buffer is full: the oldest record's slot. */
  private next = 0;
  private current?: Streak;
  /** When the latest change between passing and failing happened; none until one has. */
  private changedAt?: number;

  constructor(
    readonly service: string,
    readonly environment: string,
    /** Records kept: rounds kept times checks per round. */
    readonly capacity: number = DEFAULT_ROUNDS_KEPT,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`a health series keeps at least 1 record, not ${capacity}`);
    }
  }

  /** Adds one round: a round passes when every one of its checks did. */
  recordRound(t: number, results: readonly Omit<CheckRecord, 't'>[]): void {
    for (const result of results) {
      const detail =
        result.detail.length > MAX_DETAIL_CHARS
          ? `${result.detail.slice(0, MAX_DETAIL_CHARS - 1)}…`
          : result.detail;
      this.push({ t, ok: result.ok, latencyMs: result.latencyMs, detail, check: result.check });
    }
    const ok = results.every((result) => result.ok);
    if (this.current?.ok === ok) {
      this.current.rounds += 1;
    } else {
      if (this.current) this.changedAt = t;
      this.current = { ok, rounds: 1, since: t };
    }
  }

  /** Records kept now. */
  get size(): number {
    return this.records.length;
  }

  /** The latest `count` records, oldest first. */
  last(count: number): CheckRecord[] {
    return this.slice(this.size - Math.max(0, Math.min(count, this.size)));
  }

  /** The records of rounds that started at `t` or later, oldest first. */
  since(t: number): CheckRecord[] {
    let first = this.size;
    while (first > 0 && this.at(first - 1).t >= t) first -= 1;
    return this.slice(first);
  }

  /** The share of rounds since `t` (of all kept when left out) with a failed check; undefined with none. */
  failureRatio(t = Number.NEGATIVE_INFINITY): number | undefined {
    let rounds = 0;
    let failed = 0;
    let roundT: number | undefined;
    let roundFailed = false;
    for (const record of this.since(t)) {
      if (record.t !== roundT) {
        if (roundT !== undefined && roundFailed) failed += 1;
        rounds += 1;
        roundT = record.t;
        roundFailed = false;
      }
      if (!record.ok) roundFailed = true;
    }
    if (roundFailed) failed += 1;
    return rounds === 0 ? undefined : failed / rounds;
  }

  /** The current streak; undefined before the first round. */
  streak(): Streak | undefined {
    return this.current && { ...this.current };
  }

  /** The latest change between passing and failing: when, and to which. Undefined until one happened. */
  lastTransition(): { t: number; ok: boolean } | undefined {
    return this.changedAt === undefined || !this.current
      ? undefined
      : { t: this.changedAt, ok: this.current.ok };
  }

  private push(record: CheckRecord): void {
    if (this.records.length < this.capacity) {
      this.records.push(record);
      return;
    }
    this.records[this.next] = record;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The record `index` places after the oldest kept. */
  private at(index: number): CheckRecord {
    // Until the buffer is full `next` stays 0, so this reads the array in order.
    return this.records[(this.next + index) % this.records.length] as CheckRecord;
  }

  /** The records from `index` after the oldest to the newest, oldest first. */
  private slice(index: number): CheckRecord[] {
    const out: CheckRecord[] = [];
    for (let i = index; i < this.size; i++) out.push(this.at(i));
    return out;
  }
}

/**
 * The health history of every watched service and environment: what the maintenance controller saw, for
 * chat ("how has payments been?") and failure prediction. In memory, bounded per series to `roundsKept`
 * rounds; a restart starts it empty.
 */
export class HealthHistory {
  private readonly series = new Map<string, HealthSeries>();

  constructor(readonly roundsKept: number = DEFAULT_ROUNDS_KEPT) {}

  /**
   * The series of a service in an environment, started empty the first time it is asked for, with room for
   * `roundsKept` rounds of `checksPerRound` checks.
   */
  of(service: string, environment: string, checksPerRound = 1): HealthSeries {
    const key = `${environment}/${service}`;
    let series = this.series.get(key);
    if (!series) {
      series = new HealthSeries(service, environment, this.roundsKept * checksPerRound);
      this.series.set(key, series);
    }
    return series;
  }

  /** The series recorded so far, or undefined for a service and environment never recorded. */
  find(service: string, environment: string): HealthSeries | undefined {
    return this.series.get(`${environment}/${service}`);
  }

  all(): HealthSeries[] {
    return [...this.series.values()];
  }
}
