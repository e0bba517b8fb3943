import { REDACTED } from '../../eventbus/routing/transforms';
import type { PiiFirewall } from './pii-firewall';

/**
 * The redactor behind a routing rule's `redact` transform. Each finding in a listed field is rewritten with
 * the events path's modes, so `hash` mode gives downstream consumers stable pseudonyms they can still join
 * on. Listing a field means it never passes as it is: one in which the firewall finds nothing (a customer
 * name, a street address) is replaced whole, as it is without the engine.
 */
export function eventFieldRedactor(firewall: PiiFirewall): (value: unknown, path: string) => unknown {
  return (value) => {
    // With the events path off nothing is found, so the field is replaced whole.
    const redacted = firewall.redactValue(value, 'events');
    return redacted === value ? REDACTED : redacted;
  };
}
