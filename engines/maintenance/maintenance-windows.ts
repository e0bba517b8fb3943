import { randomBytes } from 'node:crypto';
import type { AuditPhase, AuditTrail } from '../../bot/core/audit-trail';
import { ErrorCode, isOpsbotError, OpsbotError } from '../../bot/core/errors';
import type { RecordStore } from '../../bot/core/record-store';
import type { ServiceCatalog } from '../../bot/config/catalog';
import type { EnvironmentName } from '../../bot/config/schema';
import type { SilenceMatcher, Silences } from '../orchestrator/alerts/silences';

/** A maintenance window: while it is open, self-healing leaves the service alone and its alerts are silenced. */
export interface MaintenanceWindow {
  /** 8 hex digits, short enough to say: "cancel maintenance window 3f9c2a1b". */
  id: string;
  service: string;
  environment: EnvironmentName;
  /** ISO 8601. */
  startsAt: string;
  endsAt: string;
  reason: string;
  /** The identity that scheduled it ("slack:U0123", "api:ci"). */
  createdBy: string;
  /** The silence that quiets the service's alerts during the window. */
  silenceId?: string;
  /** ISO 8601; set when someone cancelled the window before its end. */
  cancelledAt?: string;
  cancelledBy?: string;
}

export interface WindowLimits {
  minSeconds: number;
  maxSeconds: number;
  /** How far ahead a window may start. */
  maxLeadSeconds: number;
}

/** A window shorter than a minute is a typo; one longer than a week is an outage nobody is watching. */
export const DEFAULT_WINDOW_LIMITS: WindowLimits = {
  minSeconds: 60,
  maxSeconds: 7 * 86_400,
  maxLeadSeconds: 30 * 86_400,
};
/** "Now" from a client whose clock runs a little behind is still now. */
export const START_TOLERANCE_MS = 60_000;
/** Ended and cancelled windows stay listed in the store this long (for audit questions), then go. */
export const ENDED_WINDOW_RETENTION_MS = 7 * 86_400_000;
export const MAX_REASON_CHARS = 500;
export const DEFAULT_REASON = 'scheduled maintenance';
export const MAINTENANCE_SCHEDULE = 'maintenance.schedule';
export const MAINTENANCE_CANCEL = 'maintenance.cancel';

export interface WindowRequest {
  /** A catalog service name or alias. */
  service: string;
  /** An environment name or alias; the catalog's default when absent. */
  environment?: string;
  /** ISO 8601; now when absent. */
  startsAt?: string;
  /** Exactly one of `endsAt` (ISO 8601) and `durationSeconds`. */
  endsAt?: string;
  durationSeconds?: number;
  reason?: string;
}

/** Who asks, for the window's record and the audit trail; from the caller's credential, never a body. */
export interface Requester {
  id: string;
  roles: readonly string[];
  correlationId: string;
}

export interface MaintenanceWindowsDeps {
  store: RecordStore<MaintenanceWindow>;
  catalog: ServiceCatalog;
  /** Alertmanager's silences when one is configured, opsbot's own otherwise. */
  silences: Silences;
  audit: AuditTrail;
  limits?: WindowLimits;
  now?: () => number;
}

/**
 * Maintenance windows: scheduled, listed, cancelled, and asked by the maintenance controller before it heals
 * a service (`suppressedBy`). A window silences its service's alerts for its time through the Silences port.
 *
 * All or nothing: a window whose silence cannot be created is not created (the error says why and that
 * nothing was scheduled), and a window whose silence cannot be expired is not cancelled. A window that
 * suppressed healing but let every alert page, or one cancelled while its alerts stay silenced, would be
 * worse than a clear "try again". Windows end on their own at `endsAt` (the silence ends then too); ended and
 * cancelled ones are forgotten after ENDED_WINDOW_RETENTION_MS.
 */
export class MaintenanceWindows {
  private readonly limits: WindowLimits;
  private readonly now: () => number;

  constructor(private readonly deps: MaintenanceWindowsDeps) {
    this.limits = deps.limits ?? DEFAULT_WINDOW_LIMITS;
    this.now = deps.now ?? Date.now;
  }

  /** Where the windows' silences go, for replies: "Alertmanager at http://…". */
  get silencesDescription(): string {
    return this.deps.silences.description;
  }

  async create(request: WindowRequest, by: Requester): Promise<MaintenanceWindow> {
    const now = this.now();
    const { service, environment } = this.placeOf(request);
    const { startsAt, endsAt } = this.timesOf(request, now);
    const reason = reasonOf(request.reason);
    const overlapping = (await this.list({ service, environment })).find(
      (w) => Date.parse(w.startsAt) < endsAt && startsAt < Date.parse(w.endsAt),
    );
    if (overlapping) {
      throw invalid(
        `${service} in ${environment} already has maintenance window ${overlapping.id} from ${overlapping.startsAt} to ${overlapping.endsAt}; cancel it first or choose another time`,
      );
    }
    await this.forgetEnded(now);

    const window: MaintenanceWindow = {
      id: await this.newId(),
      service,
      environment,
      startsAt: new Date(startsAt).toISOString(),
      endsAt: new Date(endsAt).toISOString(),
      reason,
      createdBy: by.id,
    };
    const audit = (phase: AuditPhase, details: Record<string, unknown>) =>
      this.audit(MAINTENANCE_SCHEDULE, phase, window, by, details);
    try {
      window.silenceId = await this.deps.silences.create({
        matchers: windowMatchers(window, this.deps.catalog.defaultEnvironment),
        startsAt: window.startsAt,
        endsAt: window.endsAt,
        createdBy: by.id,
        comment: `opsbot maintenance window ${window.id}: ${reason}`,
      });
    } catch (err) {
      const message = `could not silence the alerts of ${service} in ${environment} (${this.deps.silences.description}): ${(err as Error).message}. No maintenance window was scheduled.`;
      audit('failed', { error: message });
      throw new OpsbotError(isOpsbotError(err) ? err.code : ErrorCode.Internal, message, { cause: err });
    }
    try {
      await this.deps.store.put(window.id, window);
    } catch (err) {
      // The window is not kept, so its silence must not outlive it.
      await this.deps.silences.expire(window.silenceId).catch(() => undefined);
      audit('failed', { error: (err as Error).message });
      throw err;
    }
    audit('succeeded', {});
    return window;
  }

  /** Open and upcoming windows, soonest first; cancelled and ended ones are left out. */
  async list(filter: { service?: string; environment?: string } = {}): Promise<MaintenanceWindow[]> {
    const now = this.now();
    return (await this.deps.store.list())
      .map(({ value }) => value)
      .filter(
        (w) =>
          w.cancelledAt === undefined &&
          Date.parse(w.endsAt) > now &&
          (filter.service === undefined || w.service === filter.service) &&
          (filter.environment === undefined || w.environment === filter.environment),
      )
      .sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));
  }

  async get(id: string): Promise<MaintenanceWindow | undefined> {
    return this.deps.store.get(id);
  }

  /** Ends a window now and expires its silence; the window is returned as it is stored afterwards. */
  async cancel(id: string, by: Requester): Promise<MaintenanceWindow> {
    const window = await this.deps.store.get(id);
    if (!window) throw new OpsbotError(ErrorCode.NotFound, `there is no maintenance window ${id}`);
    if (window.cancelledAt !== undefined)
      throw invalid(`maintenance window ${id} was already cancelled at ${window.cancelledAt}`);
    if (Date.parse(window.endsAt) <= this.now())
      throw invalid(`maintenance window ${id} already ended at ${window.endsAt}`);
    const audit = (phase: AuditPhase, details: Record<string, unknown>) =>
      this.audit(MAINTENANCE_CANCEL, phase, window, by, details);
    if (window.silenceId !== undefined) {
      try {
        await this.deps.silences.expire(window.silenceId);
      } catch (err) {
        const message = `could not expire the silence ${window.silenceId} of maintenance window ${id} (${this.deps.silences.description}): ${(err as Error).message}. The window stays scheduled.`;
        audit('failed', { error: message });
        throw new OpsbotError(isOpsbotError(err) ? err.code : ErrorCode.Internal, message, { cause: err });
      }
    }
    const cancelled: MaintenanceWindow = {
      ...window,
      cancelledAt: new Date(this.now()).toISOString(),
      cancelledBy: by.id,
    };
    await this.deps.store.put(id, cancelled);
    audit('succeeded', {});
    return cancelled;
  }

  /**
   * The maintenance controller's question before it heals: the open window that covers the service in the
   * environment at `at` (now by default), described for its log and replies; undefined when none does.
   */
  async suppressedBy(service: string, environment: string, at?: number): Promise<string | undefined> {
    const when = at ?? this.now();
    const open = (await this.list({ service, environment })).find((w) => Date.parse(w.startsAt) <= when);
    return open && `maintenance window ${open.id} (${open.reason}) until ${open.endsAt}`;
  }

  private placeOf(request: WindowRequest): { service: string; environment: EnvironmentName } {
    const { catalog } = this.deps;
    const service = typeof request.service === 'string' ? catalog.resolveService(request.service) : undefined;
    if (!service) {
      throw invalid(
        `service: ${JSON.stringify(request.service)} is not in the catalog (${catalog
          .list()
          .map((s) => s.name)
          .join(', ')})`,
      );
    }
    const environment =
      request.environment === undefined
        ? catalog.defaultEnvironment
        : catalog.resolveEnvironment(String(request.environment));
    if (!environment)
      throw invalid(`environment: ${JSON.stringify(request.environment)} is not an environment`);
    const runsIn = Object.keys(catalog.get(service)?.environments ?? {});
    if (!runsIn.includes(environment))
      throw invalid(`${service} does not run in ${environment} (it runs in ${runsIn.join(', ')})`);
    return { service, environment };
  }

  private timesOf(request: WindowRequest, now: number): { startsAt: number; endsAt: number } {
    const startsAt = request.startsAt === undefined ? now : Date.parse(request.startsAt);
    if (Number.isNaN(startsAt)) throw invalid('startsAt: an ISO 8601 time such as 2026-03-01T22:00:00Z');
    if (startsAt < now - START_TOLERANCE_MS)
      throw invalid(`startsAt: ${request.startsAt} has passed; a window starts now or later`);
    if (startsAt > now + this.limits.maxLeadSeconds * 1000)
      throw invalid(`startsAt: a window may start at most ${days(this.limits.maxLeadSeconds)} ahead`);
    const start = Math.max(startsAt, now);
    if ((request.endsAt === undefined) === (request.durationSeconds === undefined))
      throw invalid('give the window an end: either endsAt or durationSeconds');
    const endsAt =
      request.endsAt !== undefined
        ? Date.parse(request.endsAt)
        : start + Number(request.durationSeconds) * 1000;
    if (Number.isNaN(endsAt))
      throw invalid(
        request.endsAt !== undefined
          ? 'endsAt: an ISO 8601 time such as 2026-03-01T23:00:00Z'
          : 'durationSeconds: a number of seconds',
      );
    const seconds = (endsAt - start) / 1000;
    if (seconds < this.limits.minSeconds || seconds > this.limits.maxSeconds) {
      throw invalid(
        `a maintenance window lasts from ${this.limits.minSeconds / 60} minute${this.limits.minSeconds === 60 ? '' : 's'} to ${days(this.limits.maxSeconds)}`,
      );
    }
    return { startsAt: start, endsAt };
  }

  private async newId(): Promise<string> {
    for (;;) {
      const id = randomBytes(4).toString('hex');
      if (!(await this.deps.store.get(id))) return id;
    }
  }

  private async forgetEnded(now: number): Promise<void> {
    for (const { key, value } of await this.deps.store.list()) {
      const ended = Date.parse(value.cancelledAt ?? value.endsAt);
      if (ended + ENDED_WINDOW_RETENTION_MS <= now) await this.deps.store.delete(key);
    }
  }

  private audit(
    action: string,
    phase: AuditPhase,
    window: MaintenanceWindow,
    by: Requester,
    details: Record<string, unknown>,
  ): void {
    this.deps.audit.record({
      action,
      phase,
      actor: by.id,
      roles: by.roles,
      service: window.service,
      environment: window.environment,
      details: {
        windowId: window.id,
        startsAt: window.startsAt,
        endsAt: window.endsAt,
        reason: window.reason,
        ...(window.silenceId === undefined ? {} : { silenceId: window.silenceId }),
        ...details,
      },
      correlationId: by.correlationId,
    });
  }
}

/**
 * The silence of a window: its service, and its environment. Alerts often carry no environment label; such an
 * alert is read as the default environment's (as the runbooks' `environment` parameter defaults), so a window
 * there also matches alerts without the label (`environment=~"production|"`: a missing label is "").
 */
export function windowMatchers(
  window: Pick<MaintenanceWindow, 'service' | 'environment'>,
  defaultEnvironment: EnvironmentName,
): SilenceMatcher[] {
  const environment: SilenceMatcher =
    window.environment === defaultEnvironment
      ? { name: 'environment', value: `${window.environment}|`, isRegex: true, isEqual: true }
      : { name: 'environment', value: window.environment, isRegex: false, isEqual: true };
  return [{ name: 'service', value: window.service, isRegex: false, isEqual: true }, environment];
}

function reasonOf(reason: unknown): string {
  if (reason === undefined) return DEFAULT_REASON;
  if (typeof reason !== 'string') throw invalid('reason: a short sentence saying why');
  const trimmed = reason.trim().replace(/\s+/g, ' ');
  if (trimmed.length > MAX_REASON_CHARS) throw invalid(`reason: at most ${MAX_REASON_CHARS} characters`);
  return trimmed === '' ? DEFAULT_REASON : trimmed;
}

function days(seconds: number): string {
  const d = seconds / 86_400;
  return `${d} day${d === 1 ? '' : 's'}`;
}

function invalid(message: string): OpsbotError {
  return new OpsbotError(ErrorCode.InvalidRequest, message);
}
