import type { OpsbotConfig } from '../../bot/config/schema';
import { testConfig } from './runtime';

/**
 * A test server's configuration with the event bus as integrations meet it: an operator API key (user
 * "ops-ci") and a viewer key ("dash"), fast retries so dead letters arrive quickly, and one routing rule
 * ("big-orders": order.created over 100 → topic finance.orders).
 */
export function eventBusTestConfig(keys: { operator: string; viewer: string }): OpsbotConfig {
  return testConfig((raw) => {
    raw.auth = {
      apiKeys: [
        { id: 'op', key: keys.operator, user: { id: 'ops-ci', name: 'Ops CI' } },
        { id: 'view', key: keys.viewer, user: { id: 'dash', name: 'Dashboard' } },
      ],
    };
    raw.policy.users['api:ops-ci'] = ['operator'];
    raw.eventbus = {
      retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 5 },
      rules: [
        {
          id: 'big-orders',
          match: { type: 'order.created', data: [{ field: 'total', gt: 100 }] },
          targets: [{ topic: 'finance.orders' }],
        },
      ],
    };
  });
}
