import { createHash } from 'node:crypto';
import { EVENT_ID, EVENT_TYPE, toEvent, type EventInput } from '../../eventbus/envelope';
import { PermanentActionError, type Action } from '../action';

/** Who the orchestrator's events say emitted them. */
export const ORCHESTRATOR_EVENT_SOURCE = 'opsbot/orchestrator';

/** How the action publishes: the runtime passes the bus's `publish`, tests a capture. */
export type PublishEvent = (input: EventInput) => Promise<unknown>;

export interface EventInputs {
  type: string;
  data: unknown;
  subject?: string;
  /** The schema version of `type` the data follows, when the bus has schemas for it. */
  dataversion?: number;
}

export interface EventOutput {
  id: string;
}

/**
 * The event id for a step's idempotency key: the key itself when it is a valid id, otherwise its SHA-256.
 * Hashed rather than stripped of what the id alphabet refuses, so two keys never share an id.
 */
export function eventIdFor(idempotencyKey: string): string {
  if (EVENT_ID.test(idempotencyKey)) return idempotencyKey;
  return `sha256-${createHash('sha256').update(idempotencyKey).digest('hex')}`;
}

/**
 * Publishes an event on the bus, its id derived from the step's idempotency key: a retry or a resumed run
 * publishes the same id, which the bus's consumers deduplicate, so it resumes `by-key`. The run's
 * correlation id goes with it. An envelope the bus would refuse, or an event its schema sends to the dead
 * letter queue, fails the step for good; anything else the bus throws is retried.
 */
export function createEventAction(deps: { publish: PublishEvent }): Action<EventInputs, EventOutput> {
  return {
    name: 'event',
    summary: 'Publish an event on the event bus, deduplicated across retries by the step key',
    inputSchema: {
      type: 'object',
      properties: {
        type: { type: 'string', pattern: EVENT_TYPE.source, maxLength: 256 },
        data: true,
        subject: { type: 'string', minLength: 1, maxLength: 256 },
        dataversion: { type: 'integer', minimum: 1 },
      },
      required: ['type', 'data'],
      additionalProperties: false,
    },
    mutating: true,
    resume: 'by-key',
    describe(inputs) {
      const about = inputs.subject === undefined ? '' : ` about ${inputs.subject}`;
      return { summary: `publish ${inputs.type}${about}`, services: [] };
    },
    async execute(inputs, ctx) {
      const input: EventInput = {
        id: eventIdFor(ctx.idempotencyKey),
        type: inputs.type,
        source: ORCHESTRATOR_EVENT_SOURCE,
        ...(inputs.subject === undefined ? {} : { subject: inputs.subject }),
        ...(ctx.run.correlationId ? { correlationid: ctx.run.correlationId } : {}),
        ...(inputs.dataversion === undefined ? {} : { dataversion: inputs.dataversion }),
        data: inputs.data,
      };
      // Checked here, before the bus, so a bad envelope is told apart from a bus that is down.
      const envelope = toEvent(input);
      if ('invalid' in envelope)
        throw new PermanentActionError(`invalid event: ${envelope.invalid.join('; ')}`);
      const results = await deps.publish(input);
      const refused = deadLettered(results);
      if (refused) throw new PermanentActionError(`${inputs.type} failed its schema: ${refused}`);
      return { id: envelope.id };
    },
  };
}

/** The schema errors when the bus's results say the event went to the dead letter queue. */
function deadLettered(results: unknown): string | undefined {
  if (!Array.isArray(results)) return undefined;
  for (const result of results as { status?: unknown; errors?: unknown }[]) {
    if (result?.status === 'dead_lettered')
      return Array.isArray(result.errors) ? result.errors.join('; ') : 'dead-lettered';
  }
  return undefined;
}
