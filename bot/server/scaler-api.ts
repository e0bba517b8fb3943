import { Router } from 'express';
import { ErrorCode } from '../core/errors';
import type { Policy } from '../policy/policy';
import type { PredictiveScaler } from '../../engines/scaler/predictive-scaler';
import { authorisedCaller, type Authenticator } from './authenticator';
import { sendError } from './http-errors';

export const CAPACITY_READ = 'capacity.read';

/**
 * The predictive scaler over HTTP (permission capacity.read):
 * - GET /api/v1/scaler: the mode, every policy and the recent decisions, newest first;
 * - GET /api/v1/scaler/forecast/:service: that service's history, forecast, backtest scores and replica plan.
 */
export function scalerApi(deps: {
  scaler: PredictiveScaler;
  authenticator: Authenticator;
  policy: Policy;
}): Router {
  const router = Router();
  router.get('/api/v1/scaler', (req, res) => {
    authorisedCaller(deps.authenticator, deps.policy, req.get('authorization'), CAPACITY_READ, 'api');
    res.json({
      mode: deps.scaler.mode,
      policies: deps.scaler.policies(),
      decisions: deps.scaler.decisions(),
    });
  });
  router.get('/api/v1/scaler/forecast/:service', async (req, res) => {
    authorisedCaller(deps.authenticator, deps.policy, req.get('authorization'), CAPACITY_READ, 'api');
    const forecast = await deps.scaler.forecast(req.params.service);
    if (!forecast) {
      sendError(res, 404, ErrorCode.NotFound, `${req.params.service} is not under a scaling policy`);
      return;
    }
    res.json(forecast);
  });
  return router;
}
