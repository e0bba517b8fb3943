import type { OpsEvent } from './envelope';

/** Which attribute keeps related events in order: they share a partition when they share this value. */
export type PartitionKeySpec = 'correlationid' | 'subject' | 'source' | 'type' | `data.${string}`;

/** The key function, built once. Events without the attribute fall back to their id (no ordering needed). */
export function partitionKeyOf(spec: PartitionKeySpec): (event: OpsEvent) => string {
  if (spec.startsWith('data.')) {
    const path = spec.slice('data.'.length).split('.');
    return (event) => {
      let value: unknown = event.data;
      for (const segment of path) {
        if (value === null || typeof value !== 'object') return event.id;
        value = (value as Record<string, unknown>)[segment];
      }
      return typeof value === 'string' || typeof value === 'number' ? String(value) : event.id;
    };
  }
  const attribute = spec as 'correlationid' | 'subject' | 'source' | 'type';
  return (event) => event[attribute] ?? event.id;
}
