import type { Entity, EntityType } from '../intents';

/**
 * The word each entity becomes before the classifier reads the utterance. "is CheckoutLatencyHigh still going
 * off" and "stop ServiceDown from paging me for half an hour" are about an alert whichever alert it is, and
 * "billing 3x please" is a scale request whichever service it names; with the values swapped for their kind,
 * the classifier learns the sentence shape instead of memorising the catalog. Plain English words, because
 * the sentence encoder has never seen placeholder tokens. Time ranges stay as written: "tomorrow" and "last
 * night" tell a forecast from a post-mortem.
 */
const PLACEHOLDERS: Readonly<Record<EntityType, string | undefined>> = {
  service: 'service',
  environment: 'environment',
  replicas: '5',
  duration: 'an hour',
  time_range: undefined,
  saga_id: 'saga',
  runbook: 'runbook',
  alertname: 'alert',
  event_type: 'events',
  order_id: 'order',
  customer_id: 'customer',
};

/** The utterance with each entity span replaced by the word for its type. Entities are from the extractor. */
export function delexicalise(text: string, entities: readonly Entity[]): string {
  let out = '';
  let at = 0;
  for (const entity of [...entities].sort((a, b) => a.start - b.start)) {
    const placeholder = PLACEHOLDERS[entity.type];
    if (placeholder === undefined || entity.start < at) continue;
    out += text.slice(at, entity.start) + placeholder;
    at = entity.end;
  }
  return out + text.slice(at);
}
