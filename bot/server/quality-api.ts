import { Router } from 'express';
import type { Policy } from '../policy/policy';
import type { PiiFirewall } from '../../engines/quality/firewall/pii-firewall';
import type { QualityMonitor } from '../../engines/quality/quality-monitor';
import { authorisedCaller, type Authenticator } from './authenticator';

export const QUALITY_READ = 'quality.read';

/**
 * GET /api/v1/quality[?type=order]: the quality engine's report as JSON — per event type routed to it, the
 * validation counts, latest violations (event ids and fields, never values) and anomalies with their
 * explanations — and the PII firewall's finding counts per path and type since start.
 */
export function qualityApi(deps: {
  monitor: QualityMonitor;
  firewall: PiiFirewall;
  authenticator: Authenticator;
  policy: Policy;
}): Router {
  const router = Router();
  router.get('/api/v1/quality', (req, res) => {
    authorisedCaller(deps.authenticator, deps.policy, req.get('authorization'), QUALITY_READ, 'api');
    const type = typeof req.query.type === 'string' && req.query.type !== '' ? req.query.type : undefined;
    res.json({ eventTypes: deps.monitor.report(type), pii: deps.firewall.findingCounts() });
  });
  return router;
}
