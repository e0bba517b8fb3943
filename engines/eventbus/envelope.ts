import { randomUUID } from 'node:crypto';

/**
 * An event as opsbot carries it: a CloudEvents 1.0 envelope in its JSON form. `correlationid` and
 * `dataversion` are CloudEvents extension attributes (lower-case alphanumeric names, as the spec requires).
 */
export interface OpsEvent<T = unknown> {
  specversion: '1.0';
  /** Unique per event; the dedup key for idempotent handling. */
  id: string;
  /** Reverse-DNS-ish dotted name: "order.created", "ops.saga.step_failed". */
  type: string;
  /** Who emitted it, a URI reference: "/services/orders", "opsbot/orchestrator". */
  source: string;
  /** RFC 3339, UTC. */
  time: string;
  /** What it is about within the source: "order/1234". */
  subject?: string;
  /** Ties the events of one business transaction or chat turn together; the default partition key. */
  correlationid?: string;
  /** The schema the data conforms to, as a URI: "opsbot:schemas/order.created/2". */
  dataschema?: string;
  /** The schema version of `type` the data was written against. */
  dataversion?: number;
  datacontenttype: 'application/json';
  data: T;
  /**
   * Set on a dead letter replayed for one consumer group: only that group handles it again, the others
   * (which handled the original) pass it by.
   */
  replayfor?: string;
}

/** What a publisher gives; the bus fills in the rest. */
export interface EventInput<T = unknown> {
  id?: string;
  type: string;
  source: string;
  time?: string;
  subject?: string;
  correlationid?: string;
  dataversion?: number;
  data: T;
}

export const EVENT_TYPE = /^[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*$/;
export const EVENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_ATTRIBUTE_CHARS = 256;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** The envelope for `input`, or the reasons it cannot be one. */
export function toEvent<T>(
  input: EventInput<T>,
  now: () => Date = () => new Date(),
): OpsEvent<T> | { invalid: string[] } {
  const problems: string[] = [];
  const text = (name: string, value: unknown, required: boolean): void => {
    if (value === undefined && !required) return;
    if (typeof value !== 'string' || value.length === 0) problems.push(`${name}: must be a non-empty string`);
    else if (value.length > MAX_ATTRIBUTE_CHARS)
      problems.push(`${name}: longer than ${MAX_ATTRIBUTE_CHARS} characters`);
  };
  text('type', input.type, true);
  if (typeof input.type === 'string' && input.type && !EVENT_TYPE.test(input.type))
    problems.push('type: must be dotted lower-case words, like "order.created"');
  text('source', input.source, true);
  text('subject', input.subject, false);
  text('correlationid', input.correlationid, false);
  if (input.id !== undefined && (typeof input.id !== 'string' || !EVENT_ID.test(input.id)))
    problems.push('id: 1-128 characters of A-Z a-z 0-9 . _ : -');
  if (
    input.time !== undefined &&
    (typeof input.time !== 'string' || !RFC3339.test(input.time) || Number.isNaN(Date.parse(input.time)))
  )
    problems.push('time: must be an RFC 3339 timestamp');
  if (input.dataversion !== undefined && (!Number.isInteger(input.dataversion) || input.dataversion < 1))
    problems.push('dataversion: must be a positive integer');
  if (input.data === undefined) problems.push('data: is required (use null for none)');
  if (problems.length > 0) return { invalid: problems };
  return {
    specversion: '1.0',
    id: input.id ?? randomUUID(),
    type: input.type,
    source: input.source,
    time: input.time ? new Date(input.time).toISOString() : now().toISOString(),
    ...(input.subject !== undefined ? { subject: input.subject } : {}),
    ...(input.correlationid !== undefined ? { correlationid: input.correlationid } : {}),
    ...(input.dataversion !== undefined
      ? { dataversion: input.dataversion, dataschema: `opsbot:schemas/${input.type}/${input.dataversion}` }
      : {}),
    datacontenttype: 'application/json',
    data: input.data,
  };
}
