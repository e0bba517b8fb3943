/** The demo fleet's services, the same names as the catalog in opsbot.config.yaml. */
export const SERVICE_NAMES = [
  'payments',
  'orders',
  'inventory',
  'checkout',
  'notifications',
  'users',
  'search',
  'gateway',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export function isServiceName(value: unknown): value is ServiceName {
  return typeof value === 'string' && (SERVICE_NAMES as readonly string[]).includes(value);
}
