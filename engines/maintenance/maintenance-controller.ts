import { ConfigError } from '../../bot/core/errors';
import type { Logger } from '../../bot/core/logger';
import { type Alert, labelsFingerprint } from '../orchestrator/alerts/alert';
import type { AlertOutcome } from '../orchestrator/alerts/alert-router';
import { type Clock, systemClock, type TimerHandle } from './clock';
import type { CheckResult, HealthCheck } from './health-check';
import { type CheckRecord, HealthHistory, type HealthSeries, type Streak } from './health-history';

export const DEFAULT_INTERVAL_MS = 1_000;
/**
 * Failed rounds in a row before a service counts as failing: one lost connection or pause is not an outage,
 * two in a row at the 1 s default is, and a crash is then known about 2 s after it happened.
 */
export const DEFAULT_FAILURE_THRESHOLD = 2;
/** Passing rounds in a row before a failing service counts as healthy again: one good answer may be luck. */
export const DEFAULT_RECOVERY_THRESHOLD = 2;
/** Heals started per service and environment in any hour; past it a crash loop is left to people. */
export const DEFAULT_MAX_HEALS_PER_HOUR = 3;
/**
 * While a service stays failing its alert is sent again this often, as Alertmanager repeats a firing alert:
 * the router then starts a new heal run if the previous one has ended, or just counts the repeat.
 */
export const DEFAULT_REPEAT_INTERVAL_MS = 60_000;
/** An alert that could not be raised (the router threw), or that a silence matched, is tried again this soon. */
const RAISE_RETRY_MS = 5_000;
const HOUR_MS = 3_600_000;

/** The alert a sustained failure raises; runbooks/service-self-heal.md is the runbook it triggers. */
export const UNHEALTHY_ALERTNAME = 'ServiceUnhealthy';
/** The `source` label of opsbot's own alerts, and the actor of the runs they start. */
export const MAINTENANCE_ALERT_SOURCE = 'opsbot-maintenance';
const ALERT_SEVERITY = 'critical';

/**
 * A watched service's state: `unknown` until its first verdict, `failing` once its checks failed
 * `failureThreshold` rounds in a row, `healing` once an alert it raised started a runbook run (running or
 * awaiting approval), `healthy` after `recoveryThreshold` passing rounds in a row.
 */
export type WatchState = 'unknown' | 'healthy' | 'failing' | 'healing';

/** One service in one environment and the checks it must pass, all of them, every round. */
export interface WatchTarget {
  service: string;
  environment: string;
  checks: readonly HealthCheck[];
}

export interface WatchTransition {
  service: string;
  environment: string;
  from: WatchState;
  to: WatchState;
  /** Epoch milliseconds it was decided: when the deciding round ended, or the alert was answered. */
  at: number;
  /** Why, for people: "2 failed rounds in a row: http …: connection refused". */
  detail: string;
  /** The runs healing it, on a transition to `healing`. */
  runIds?: string[];
}

/**
 * Why a failing service is not being healed now: a maintenance window is open or a silence matches its alert
 * (`suppressed`), it was healed `maxHealsPerHour` times in the last hour (`limited`), no runbook took its
 * alert (`unbound`), or the alert or the window lookup failed (`failed`).
 */
export interface HealSkipped {
  service: string;
  environment: string;
  at: number;
  reason: 'suppressed' | 'limited' | 'unbound' | 'failed';
  detail: string;
}

export interface WatchStatus {
  service: string;
  environment: string;
  state: WatchState;
  /** Epoch milliseconds of the transition into `state` (of start() while unknown). */
  since: number;
  /** The latest round's results. */
  lastRound: CheckRecord[];
  streak?: Streak;
  /** Rounds run since start(). */
  rounds: number;
  healsLastHour: number;
  /** The runs started to heal the current failure, oldest first. */
  healingRuns: string[];
  /** Why the current failure is not being healed, when it is not. */
  skipped?: HealSkipped;
}

export interface MaintenanceControllerDeps {
  targets: readonly WatchTarget[];
  /**
   * Raises alerts and says what became of them: the alert router's `route`, which starts the runbooks their
   * labels trigger under each runbook's policy (auto-run, or a plan waiting for approval).
   */
  raise: (alerts: readonly Alert[]) => Promise<readonly AlertOutcome[]>;
  /**
   * The description of a maintenance window open for the service ("maintenance window 12 (db migration) until
   * …"), which suppresses healing it; undefined when none is.
   */
  suppressedBy?: (service: string, environment: string) => Promise<string | undefined>;
  logger: Logger;
  history?: HealthHistory;
  clock?: Clock;
}

export interface MaintenanceSettings {
  intervalMs?: number;
  failureThreshold?: number;
  recoveryThreshold?: number;
  maxHealsPerHour?: number;
  repeatIntervalMs?: number;
}

/** A failure from the round it became sustained until the service is healthy again. */
interface Episode {
  /** When its first failed round started: the alert's startsAt. */
  startedAt: number;
  /** What the failed checks said in the latest round. */
  detail: string;
  failedRounds: number;
  /** A firing alert went out, so a resolved one must follow. */
  raised: boolean;
  /** When healing may be tried (again): at once, after a repeat interval, after a failed raise. */
  nextAttemptAt: number;
  runIds: string[];
  skipped?: HealSkipped;
}

interface Watch {
  target: WatchTarget;
  series: HealthSeries;
  state: WatchState;
  since: number;
  rounds: number;
  lastRound: CheckRecord[];
  /** Epoch milliseconds of the heals started, the last hour's only. */
  heals: number[];
  episode?: Episode;
  timer?: TimerHandle;
  inFlight?: Promise<void>;
}

/**
 * Watches services' health and heals a sustained failure through a runbook. Every `intervalMs` each watched
 * service runs all its checks in parallel, each bounded by its own timeout; a service's next round starts
 * an interval after its previous one started, or as soon as it ended if it took longer, so its rounds never
 * overlap. Results go into the health history.
 *
 * After `failureThreshold` failed rounds in a row the service is failing, and the controller raises a
 * `ServiceUnhealthy` alert (labels service, environment, severity, source=opsbot-maintenance) through
 * `raise`: the runbook it triggers heals it under that runbook's policy. Before raising it asks
 * `suppressedBy`; inside a maintenance window it only records that healing was suppressed. At most
 * `maxHealsPerHour` runs are started per service and environment in any hour, so a crash loop is not
 * restarted forever; past that it stops raising and says so. While the failure lasts the alert is sent again
 * every `repeatIntervalMs`, so a heal run that ended without healing is followed by another (within the
 * limit). Once the service passes `recoveryThreshold` rounds in a row it is healthy and the alert resolved.
 */
export class MaintenanceController {
  private readonly watches: Watch[];
  private readonly clock: Clock;
  private readonly historyStore: HealthHistory;
  private readonly intervalMs: number;
  private readonly failureThreshold: number;
  private readonly recoveryThreshold: number;
  private readonly maxHealsPerHour: number;
  private readonly repeatIntervalMs: number;
  private readonly transitionListeners = new Set<(transition: WatchTransition) => void>();
  private readonly skipListeners = new Set<(skipped: HealSkipped) => void>();
  private running = false;

  constructor(
    private readonly deps: MaintenanceControllerDeps,
    settings: MaintenanceSettings = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    this.historyStore = deps.history ?? new HealthHistory();
    this.intervalMs = positive('intervalMs', settings.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.failureThreshold = positive(
      'failureThreshold',
      settings.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD,
    );
    this.recoveryThreshold = positive(
      'recoveryThreshold',
      settings.recoveryThreshold ?? DEFAULT_RECOVERY_THRESHOLD,
    );
    this.maxHealsPerHour = settings.maxHealsPerHour ?? DEFAULT_MAX_HEALS_PER_HOUR;
    if (!Number.isInteger(this.maxHealsPerHour) || this.maxHealsPerHour < 0) {
      throw new ConfigError(`maxHealsPerHour must be a whole number from 0, not ${this.maxHealsPerHour}`);
    }
    this.repeatIntervalMs = positive(
      'repeatIntervalMs',
      settings.repeatIntervalMs ?? DEFAULT_REPEAT_INTERVAL_MS,
    );

    const seen = new Set<string>();
    const now = this.clock.now();
    this.watches = deps.targets.map((target) => {
      const key = `${target.environment}/${target.service}`;
      if (seen.has(key)) throw new ConfigError(`${target.service} in ${target.environment} is watched twice`);
      if (target.checks.length === 0) {
        throw new ConfigError(`${target.service} in ${target.environment} has no health checks to watch`);
      }
      seen.add(key);
      return {
        target,
        series: this.historyStore.of(target.service, target.environment, target.checks.length),
        state: 'unknown',
        since: now,
        rounds: 0,
        lastRound: [],
        heals: [],
      };
    });
  }

  /**
   * Starts watching. The services' first rounds are spread over one interval rather than all run at once, so
   * the checks, and the CPU they take, are spread too.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    const now = this.clock.now();
    this.watches.forEach((watch, i) => {
      if (watch.state === 'unknown') watch.since = now;
      // A round still in flight from before a stop() schedules the next one itself when it ends.
      if (!watch.inFlight) this.schedule(watch, Math.floor((i * this.intervalMs) / this.watches.length));
    });
  }

  /** Stops watching; resolves once the rounds in flight (their alerts included) have ended. */
  async stop(): Promise<void> {
    this.running = false;
    for (const watch of this.watches) {
      if (watch.timer !== undefined) this.clock.clearTimeout(watch.timer);
      watch.timer = undefined;
    }
    await Promise.all(this.watches.map((watch) => watch.inFlight));
  }

  status(): WatchStatus[] {
    const now = this.clock.now();
    return this.watches.map((watch) => ({
      service: watch.target.service,
      environment: watch.target.environment,
      state: watch.state,
      since: watch.since,
      lastRound: [...watch.lastRound],
      ...(watch.series.streak() ? { streak: watch.series.streak() } : {}),
      rounds: watch.rounds,
      healsLastHour: watch.heals.filter((at) => at > now - HOUR_MS).length,
      healingRuns: [...(watch.episode?.runIds ?? [])],
      ...(watch.episode?.skipped ? { skipped: { ...watch.episode.skipped } } : {}),
    }));
  }

  /**
   * One line for system status: "watching 8 services every 1 s: 7 healthy, payments in production failing
   * (healing suppressed: maintenance window …)"; a failure that is not being healed says why.
   */
  describe(): string {
    const statuses = this.status();
    const healthy = statuses.filter((s) => s.state === 'healthy').length;
    const unknown = statuses.filter((s) => s.state === 'unknown').length;
    const troubled = statuses
      .filter((s) => s.state === 'failing' || s.state === 'healing')
      .map((s) => `${s.service} in ${s.environment} ${s.state}${s.skipped ? ` (${s.skipped.detail})` : ''}`);
    const parts = [`${healthy} healthy`, ...(unknown > 0 ? [`${unknown} not checked yet`] : []), ...troubled];
    const count = `${statuses.length} service${statuses.length === 1 ? '' : 's'}`;
    return `${this.running ? 'watching' : 'stopped;'} ${count} every ${this.intervalMs / 1000} s: ${parts.join(', ')}`;
  }

  /** True while any watched service is failing or being healed. */
  troubled(): boolean {
    return this.watches.some((watch) => watch.state === 'failing' || watch.state === 'healing');
  }

  /** The check history of a watched service, for chat and failure prediction. */
  history(service: string, environment: string): HealthSeries | undefined {
    return this.historyStore.find(service, environment);
  }

  onTransition(listener: (transition: WatchTransition) => void): () => void {
    this.transitionListeners.add(listener);
    return () => this.transitionListeners.delete(listener);
  }

  onHealSkipped(listener: (skipped: HealSkipped) => void): () => void {
    this.skipListeners.add(listener);
    return () => this.skipListeners.delete(listener);
  }

  private schedule(watch: Watch, delayMs: number): void {
    watch.timer = this.clock.setTimeout(() => {
      watch.timer = undefined;
      const began = this.clock.now();
      watch.inFlight = this.round(watch)
        .catch((err: unknown) =>
          this.deps.logger.error({ err, service: watch.target.service }, 'a health watch round failed'),
        )
        .finally(() => {
          watch.inFlight = undefined;
          if (this.running) this.schedule(watch, Math.max(0, began + this.intervalMs - this.clock.now()));
        });
    }, delayMs);
  }

  private async round(watch: Watch): Promise<void> {
    const t = this.clock.now();
    const { checks } = watch.target;
    const results = await Promise.all(checks.map((check) => this.runCheck(check)));
    const records = results.map((result, i) => ({ t, ...result, check: (checks[i] as HealthCheck).name }));
    watch.series.recordRound(t, records);
    watch.rounds += 1;
    watch.lastRound = records;
    const streak = watch.series.streak() as Streak;
    if (streak.ok) await this.passed(watch, streak);
    else await this.failed(watch, streak, describeFailures(records));
  }

  /** A check bounded by its timeout; one that throws or overruns is a failed check, never a failed round. */
  private runCheck(check: HealthCheck): Promise<CheckResult> {
    const started = this.clock.now();
    const abort = new AbortController();
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        abort.abort();
        resolve({ ok: false, latencyMs: check.timeoutMs, detail: `timed out after ${check.timeoutMs} ms` });
      }, check.timeoutMs);
      // Called inside then(): a check that throws before returning its promise is a failed check too.
      Promise.resolve()
        .then(() => check.run(abort.signal))
        .then(
          (result) => {
            this.clock.clearTimeout(timer);
            resolve(result);
          },
          (err: unknown) => {
            this.clock.clearTimeout(timer);
            resolve({
              ok: false,
              latencyMs: this.clock.now() - started,
              detail: `the check failed: ${messageOf(err)}`,
            });
          },
        );
    });
  }

  private async passed(watch: Watch, streak: Streak): Promise<void> {
    if (watch.state === 'unknown') {
      this.transition(watch, 'healthy', 'passes its health checks');
      return;
    }
    if (watch.state === 'healthy' || streak.rounds < this.recoveryThreshold) return;
    const episode = watch.episode as Episode;
    watch.episode = undefined;
    const healedBy = episode.runIds.length > 0 ? ` (healing runs: ${episode.runIds.join(', ')})` : '';
    const lasted = Math.round((this.clock.now() - episode.startedAt) / 1000);
    this.transition(
      watch,
      'healthy',
      `passes its health checks again, ${streak.rounds} rounds in a row, after failing for ${lasted} s${healedBy}`,
    );
    if (!episode.raised) return;
    try {
      await this.deps.raise([this.alert(watch, episode, 'resolved')]);
    } catch (err) {
      this.deps.logger.warn(
        { err, service: watch.target.service, environment: watch.target.environment },
        'could not resolve the alert of a service that is healthy again',
      );
    }
  }

  private async failed(watch: Watch, streak: Streak, detail: string): Promise<void> {
    if (watch.state === 'unknown' || watch.state === 'healthy') {
      if (streak.rounds < this.failureThreshold) return;
      watch.episode = {
        startedAt: streak.since,
        detail,
        failedRounds: streak.rounds,
        raised: false,
        nextAttemptAt: this.clock.now(),
        runIds: [],
      };
      this.transition(watch, 'failing', `${streak.rounds} failed rounds in a row: ${detail}`);
    }
    // Failing or healing: after a flap below the recovery threshold the episode is the one already open.
    const episode = watch.episode as Episode;
    episode.detail = detail;
    episode.failedRounds = streak.rounds;
    if (this.clock.now() >= episode.nextAttemptAt) await this.heal(watch, episode);
  }

  /** Raises the alert that starts the healing runbook, unless a window, the limit or an error stops it. */
  private async heal(watch: Watch, episode: Episode): Promise<void> {
    const { service, environment } = watch.target;
    let window: string | undefined;
    try {
      window = await this.deps.suppressedBy?.(service, environment);
    } catch (err) {
      episode.nextAttemptAt = this.clock.now() + RAISE_RETRY_MS;
      this.skip(watch, episode, 'failed', `could not look up maintenance windows: ${messageOf(err)}`);
      return;
    }
    // Asked again every round while suppressed, so healing starts in the round after the window closes.
    if (window !== undefined) {
      this.skip(watch, episode, 'suppressed', `healing suppressed: ${window}`);
      return;
    }
    const now = this.clock.now();
    watch.heals = watch.heals.filter((at) => at > now - HOUR_MS);
    if (watch.heals.length >= this.maxHealsPerHour) {
      this.skip(
        watch,
        episode,
        'limited',
        `not healed again: ${watch.heals.length} heal runs started in the last hour, the most allowed (${this.maxHealsPerHour} an hour); it needs a person`,
      );
      return;
    }

    let outcomes: readonly AlertOutcome[];
    try {
      outcomes = await this.deps.raise([this.alert(watch, episode, 'firing')]);
    } catch (err) {
      episode.nextAttemptAt = this.clock.now() + RAISE_RETRY_MS;
      this.skip(watch, episode, 'failed', `could not raise ${UNHEALTHY_ALERTNAME}: ${messageOf(err)}`);
      return;
    }
    episode.raised = true;
    episode.nextAttemptAt = this.clock.now() + this.repeatIntervalMs;
    const started = outcomes.filter(
      (o): o is AlertOutcome & { runId: string } =>
        (o.action === 'started' || o.action === 'awaiting_approval') && o.runId !== undefined,
    );
    if (started.length > 0) {
      for (const outcome of started) {
        watch.heals.push(now);
        episode.runIds.push(outcome.runId);
      }
      episode.skipped = undefined;
      const runs = started
        .map(
          (o) =>
            `run ${o.runId} of ${o.runbook}${o.action === 'awaiting_approval' ? ' (awaiting approval)' : ''}`,
        )
        .join(', ');
      if (watch.state === 'healing') {
        this.deps.logger.info(
          { event: 'maintenance.healing', service, environment, runIds: episode.runIds },
          `${service} in ${environment}: still failing, healing again through ${runs}`,
        );
      } else {
        this.transition(
          watch,
          'healing',
          `healing through ${runs}`,
          started.map((o) => o.runId),
        );
      }
      return;
    }
    // A repeat while the run it started is still going: nothing new.
    if (outcomes.some((o) => o.action === 'updated')) return;
    const silenced = outcomes.find((o) => o.action === 'silenced');
    if (silenced) {
      // Looked at again soon rather than at the next repeat, so healing follows the silence's end closely.
      episode.nextAttemptAt = this.clock.now() + RAISE_RETRY_MS;
      this.skip(
        watch,
        episode,
        'suppressed',
        `healing suppressed: ${UNHEALTHY_ALERTNAME} is silenced (silence ${silenced.silenceId ?? 'unknown'})`,
      );
      return;
    }
    const failures = outcomes.filter((o) => o.action === 'failed');
    if (failures.length > 0) {
      const why = failures.map((o) => `${o.runbook}: ${o.error ?? 'refused'}`).join('; ');
      this.skip(watch, episode, 'failed', `the healing runbook did not start: ${why}`);
    } else {
      this.skip(
        watch,
        episode,
        'unbound',
        `no runbook is triggered by ${UNHEALTHY_ALERTNAME}; nothing heals it`,
      );
    }
  }

  private alert(watch: Watch, episode: Episode, status: Alert['status']): Alert {
    const { service, environment } = watch.target;
    const labels = {
      alertname: UNHEALTHY_ALERTNAME,
      service,
      environment,
      severity: ALERT_SEVERITY,
      source: MAINTENANCE_ALERT_SOURCE,
    };
    return {
      source: MAINTENANCE_ALERT_SOURCE,
      fingerprint: labelsFingerprint(labels),
      status,
      labels,
      annotations: {
        // The alert's thread opens with the summary: what failed belongs in it, not only in the description.
        summary: `${service} in ${environment} failed its health checks ${episode.failedRounds} rounds in a row: ${episode.detail}`,
        description: episode.detail,
      },
      startsAt: new Date(episode.startedAt).toISOString(),
      ...(status === 'resolved' ? { endsAt: new Date(this.clock.now()).toISOString() } : {}),
    };
  }

  /** Records why healing is not going ahead; said once per reason and detail, not every round. */
  private skip(watch: Watch, episode: Episode, reason: HealSkipped['reason'], detail: string): void {
    if (episode.skipped?.reason === reason && episode.skipped.detail === detail) return;
    const { service, environment } = watch.target;
    const skipped: HealSkipped = { service, environment, at: this.clock.now(), reason, detail };
    episode.skipped = skipped;
    this.deps.logger.warn({ event: 'maintenance.heal_skipped', service, environment, reason }, detail);
    for (const listener of this.skipListeners) {
      try {
        listener(skipped);
      } catch (err) {
        this.deps.logger.warn({ err }, 'a heal-skipped listener failed');
      }
    }
  }

  private transition(watch: Watch, to: WatchState, detail: string, runIds?: string[]): void {
    const { service, environment } = watch.target;
    const transition: WatchTransition = {
      service,
      environment,
      from: watch.state,
      to,
      at: this.clock.now(),
      detail,
      ...(runIds ? { runIds } : {}),
    };
    watch.state = to;
    watch.since = transition.at;
    this.deps.logger.info(
      { event: 'maintenance.transition', service, environment, from: transition.from, to, runIds },
      `${service} in ${environment}: ${transition.from} → ${to}: ${detail}`,
    );
    for (const listener of this.transitionListeners) {
      try {
        listener(transition);
      } catch (err) {
        this.deps.logger.warn({ err }, 'a health transition listener failed');
      }
    }
  }
}

/** "http …/health: connection refused; tcp db:5432: timed out after 1000 ms": the checks that failed. */
function describeFailures(records: readonly CheckRecord[]): string {
  return records
    .filter((record) => !record.ok)
    .map((record) => `${record.check}: ${record.detail}`)
    .join('; ');
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new ConfigError(`${name} must be more than 0, not ${value}`);
  return value;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
