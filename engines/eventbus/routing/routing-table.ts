import type { OpsEvent } from '../envelope';
import type { EventPredicate } from './conditions';
import type { RoutingRule } from './routing-rule';
import type { DataTransform } from './transforms';

export type Target =
  | { kind: 'topic'; topic: string }
  | { kind: 'webhook'; url: string; timeoutMs: number; headers?: Readonly<Record<string, string>> }
  | { kind: 'engine'; engine: string };

/** One delivery to make: `event` is the copy the rule's transforms produced, shared by the rule's targets. */
export interface RoutedEvent {
  readonly ruleId: string;
  readonly target: Target;
  readonly event: OpsEvent;
}

export interface RoutingTable {
  /** Every rule, disabled ones too, as validated and in order: what the REST API returns. */
  readonly rules: readonly RoutingRule[];
  /**
   * Where `event` goes: for each enabled rule it matches, in rule order, one entry per target. An event nothing
   * matches gets one shared, frozen empty list, so that case allocates nothing.
   */
  route(event: OpsEvent): RoutedEvent[];
}

/** An enabled rule, ready for the hot path. */
export interface CompiledRule {
  readonly id: string;
  readonly matches: EventPredicate;
  readonly transform: DataTransform | undefined;
  readonly targets: readonly Target[];
}

const NO_ROUTES: RoutedEvent[] = Object.freeze([]) as unknown as RoutedEvent[];

export function routingTable(rules: readonly RoutingRule[], compiled: readonly CompiledRule[]): RoutingTable {
  return {
    rules,
    route(event) {
      let routed: RoutedEvent[] | undefined;
      for (let i = 0; i < compiled.length; i++) {
        const rule = compiled[i] as CompiledRule;
        if (!rule.matches(event)) continue;
        const out = rule.transform ? transformed(event, rule.transform(event.data)) : event;
        routed ??= [];
        for (let t = 0; t < rule.targets.length; t++)
          routed.push({ ruleId: rule.id, target: rule.targets[t] as Target, event: out });
      }
      return routed ?? NO_ROUTES;
    },
  };
}

/**
 * The event with its new data. `dataschema` and `dataversion` are left out: they name the schema the data was
 * published against, which reshaped data no longer claims to follow.
 */
function transformed(event: OpsEvent, data: unknown): OpsEvent {
  if (data === event.data) return event;
  const copy: OpsEvent = {
    specversion: event.specversion,
    id: event.id,
    type: event.type,
    source: event.source,
    time: event.time,
    datacontenttype: event.datacontenttype,
    data,
  };
  if (event.subject !== undefined) copy.subject = event.subject;
  if (event.correlationid !== undefined) copy.correlationid = event.correlationid;
  return copy;
}
