import { Router, type Request } from 'express';
import { ErrorCode, RequestError } from '../core/errors';
import type { AuditTrail } from '../core/audit-trail';
import type { Logger } from '../core/logger';
import type { Principal } from '../core/message';
import type { Policy } from '../policy/policy';
import type { DeadLetterFilter, DeadLetterReason } from '../../engines/eventbus/dead-letters';
import type { EventInput } from '../../engines/eventbus/envelope';
import type { EventBus } from '../../engines/eventbus/event-bus';
import type { EventQuery } from '../../engines/eventbus/event-store';
import type { RoutingRules } from '../../engines/eventbus/routing-rules';
import { typePatternProblem } from '../../engines/eventbus/routing/event-type-pattern';
import { authorisedCaller, type Authenticator } from './authenticator';
import { readJsonBody } from './json-body';

/** A batch of events may be larger than a chat message; still bounded so one request cannot exhaust memory. */
export const MAX_EVENTS_BODY_BYTES = 1024 * 1024;
export const MAX_EVENTS_PER_REQUEST = 1000;

export const EVENTS_READ = 'events.read';
export const EVENTS_PUBLISH = 'events.publish';
export const EVENTS_REPLAY = 'events.replay';
export const ROUTING_MANAGE = 'routing.manage';

const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = ['invalid', 'handler_failed', 'route_failed'];

/**
 * The event bus over HTTP, as in the seed design: /api/v1/events (publish, query, get one),
 * /api/v1/routing/rules (list, add, remove) and /api/v1/dlq (list, inspect, replay). Callers authenticate
 * like every API caller (API key or signed token) and need the permission of each operation.
 */
export function eventsApi(deps: {
  bus: EventBus;
  rules: RoutingRules;
  authenticator: Authenticator;
  policy: Policy;
  logger: Logger;
  /** Rule changes and replays are recorded here (the hash-chained audit log in the server). */
  audit: AuditTrail;
}): Router {
  const router = Router();
  const roles = (user: Principal) => deps.policy.rolesFor(user);

  const authorise = (req: Request, permission: string) =>
    authorisedCaller(deps.authenticator, deps.policy, req.get('authorization'), permission, 'api');

  router.post('/api/v1/events', async (req, res) => {
    const user = authorise(req, EVENTS_PUBLISH);
    const body = await readJsonBody(req, MAX_EVENTS_BODY_BYTES);
    const inputs = eventInputs(body);
    const results = await deps.bus.publish(inputs);
    deps.logger.info(
      { event: 'bus.publish', user: user.id, count: inputs.length, correlationId: req.correlationId },
      'events published',
    );
    res.status(202).json({ results });
  });

  router.get('/api/v1/events', async (req, res) => {
    authorise(req, EVENTS_READ);
    res.json({ events: await deps.bus.queryEvents(eventQuery(req.query)) });
  });

  router.get('/api/v1/events/:id', async (req, res) => {
    authorise(req, EVENTS_READ);
    const event = await deps.bus.getEvent(String(req.params.id));
    if (!event)
      throw new RequestError(ErrorCode.NotFound, `no event ${req.params.id} among the recent events`);
    res.json(event);
  });

  router.get('/api/v1/routing/rules', async (req, res) => {
    authorise(req, EVENTS_READ);
    res.json({ rules: await deps.rules.list() });
  });

  router.post('/api/v1/routing/rules', async (req, res) => {
    const user = authorise(req, ROUTING_MANAGE);
    const rule = await deps.rules.add(await readJsonBody(req, MAX_EVENTS_BODY_BYTES));
    deps.audit.record({
      action: 'routing.rule_added',
      phase: 'succeeded',
      actor: user.id,
      roles: roles(user),
      correlationId: req.correlationId,
      details: { rule: rule.id },
    });
    res.status(201).json({ rule });
  });

  router.delete('/api/v1/routing/rules/:id', async (req, res) => {
    const user = authorise(req, ROUTING_MANAGE);
    await deps.rules.remove(String(req.params.id));
    deps.audit.record({
      action: 'routing.rule_removed',
      phase: 'succeeded',
      actor: user.id,
      roles: roles(user),
      correlationId: req.correlationId,
      details: { rule: String(req.params.id) },
    });
    res.status(204).end();
  });

  router.get('/api/v1/dlq', async (req, res) => {
    authorise(req, EVENTS_READ);
    res.json({ deadLetters: await deps.bus.listDeadLetters(deadLetterFilter(req.query)) });
  });

  router.get('/api/v1/dlq/:id', async (req, res) => {
    authorise(req, EVENTS_READ);
    const letter = await deps.bus.getDeadLetter(String(req.params.id));
    if (!letter) throw new RequestError(ErrorCode.NotFound, `no dead letter ${req.params.id}`);
    res.json(letter);
  });

  router.post('/api/v1/dlq/replay', async (req, res) => {
    const user = authorise(req, EVENTS_REPLAY);
    const body = await readJsonBody(req, MAX_EVENTS_BODY_BYTES);
    const result = await deps.bus.replay(replayFilter(body));
    deps.audit.record({
      action: 'events.replay',
      phase: result.failed.length > 0 ? 'failed' : 'succeeded',
      actor: user.id,
      roles: roles(user),
      correlationId: req.correlationId,
      details: { replayed: result.replayed.length, failed: result.failed.length },
    });
    res.json(result);
  });

  return router;
}

/** One event, `[...]`, or `{"events": [...]}`. */
function eventInputs(body: unknown): EventInput[] {
  const list = Array.isArray(body)
    ? body
    : isObject(body) && Array.isArray(body.events)
      ? body.events
      : [body];
  if (list.length === 0)
    throw new RequestError(
      ErrorCode.InvalidRequest,
      'no events: send one event, a list, or {"events": [...]}',
    );
  if (list.length > MAX_EVENTS_PER_REQUEST)
    throw new RequestError(ErrorCode.InvalidRequest, `at most ${MAX_EVENTS_PER_REQUEST} events per request`);
  list.forEach((item, i) => {
    if (!isObject(item))
      throw new RequestError(ErrorCode.InvalidRequest, `event ${i}: must be a JSON object`);
  });
  return list as EventInput[];
}

function eventQuery(query: Request['query']): EventQuery {
  const text = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length === 0 || value.length > 256)
      throw new RequestError(ErrorCode.InvalidRequest, `${name}: must be given once, 1-256 characters`);
    return value;
  };
  const time = (name: string): Date | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const date = new Date(value);
    if (Number.isNaN(date.getTime()))
      throw new RequestError(ErrorCode.InvalidRequest, `${name}: not a timestamp`);
    return date;
  };
  const type = text('type');
  const typeProblem = type === undefined ? undefined : typePatternProblem(type);
  if (typeProblem) throw new RequestError(ErrorCode.InvalidRequest, `type: ${typeProblem}`);
  return {
    type,
    source: text('source'),
    correlationid: text('correlationid'),
    subject: text('subject'),
    mentions: text('mentions'),
    since: time('since'),
    until: time('until'),
    limit: limitOf(text('limit')),
  };
}

function deadLetterFilter(query: Request['query']): DeadLetterFilter {
  const reason = query.reason;
  if (reason !== undefined && !DEAD_LETTER_REASONS.includes(reason as DeadLetterReason))
    throw new RequestError(ErrorCode.InvalidRequest, `reason: one of ${DEAD_LETTER_REASONS.join(', ')}`);
  return {
    type: typeof query.type === 'string' ? query.type : undefined,
    group: typeof query.group === 'string' ? query.group : undefined,
    reason: reason as DeadLetterReason | undefined,
    limit: limitOf(typeof query.limit === 'string' ? query.limit : undefined),
  };
}

/** `{"id": "…"}`, `{"type": "order.created"}` or `{"all": true}`: replaying everything is never the default. */
function replayFilter(body: unknown): { id: string } | DeadLetterFilter {
  if (isObject(body) && typeof body.id === 'string' && body.id) return { id: body.id };
  if (isObject(body) && typeof body.type === 'string' && body.type) return { type: body.type };
  if (isObject(body) && body.all === true) return {};
  throw new RequestError(
    ErrorCode.InvalidRequest,
    'say what to replay: {"id": "…"}, {"type": "…"} or {"all": true}',
  );
}

function limitOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new RequestError(ErrorCode.InvalidRequest, 'limit: a whole number from 1 to 1000');
  return n;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
