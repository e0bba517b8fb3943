/** The intent set the NLU recognises. Later classifiers must keep exactly these names: tests and skills key on them. */
export const INTENTS = [
  'greeting',
  'help',
  'out_of_scope',
  'confirm',
  'deny',
  'system_status',
  'metrics',
  'troubleshoot',
  'run_runbook',
  'restart_service',
  'scale_service',
  'capacity_forecast',
  'saga_status',
  'start_saga',
  'query_events',
  'alert_status',
  'silence_alert',
  'data_quality',
  'schedule_maintenance',
  'predict_failures',
] as const;
export type Intent = (typeof INTENTS)[number];

export const ENTITY_TYPES = [
  'service',
  'environment',
  'replicas',
  'duration',
  'saga_id',
  'runbook',
  'alertname',
  'event_type',
  'time_range',
  'order_id',
  'customer_id',
] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

export interface Entity {
  type: EntityType;
  /**
   * Normalised value: catalog service name, canonical environment, integer replicas, whole seconds, an ISO
   * start (and "/end") for a time range, "order-<digits>" and "cus_<id>" for order and customer ids, …
   */
  value: string | number;
  /** The span of the input that produced it. */
  text: string;
  /** UTF-16 offsets into the input text, end exclusive. */
  start: number;
  end: number;
}

export interface NluResult {
  text: string;
  intent: Intent;
  confidence: number;
  entities: Entity[];
  /** Set when the engine could not choose between requests ("restart or scale?"): the dialogue asks. */
  alternatives?: { intent: Intent; confidence: number }[];
}

/**
 * The port the dialogue depends on. The rule engine answers at once; the hybrid engine awaits a sentence
 * embedding when rules are not sure, so callers always await.
 */
export interface NluEngine {
  parse(text: string): NluResult | Promise<NluResult>;
  /** Reads one entity of a known type from a bare answer ("5", "prod", "2h") when the dialogue asked for it. */
  extractSlot(type: EntityType, text: string): Entity | undefined;
}
