import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import { seededRandom } from '../../bot/core/seeded-random';
import {
  planReplicas,
  replicaCost,
  type ForecastPoint,
  type LoadPoint,
  type PlanInput,
  type ScalingPolicy,
} from '../../engines/scaler/replica-planner';

/** One replica serves 10 units at 100%, so 5 at the 50% target and 9 at the 90% ceiling. */
const POLICY: ScalingPolicy = {
  minReplicas: 2,
  maxReplicas: 20,
  targetUtilisation: 0.5,
  utilisationCeiling: 0.9,
  capacityPerReplica: 10,
  scaleUpCooldownSeconds: 30,
  scaleDownCooldownSeconds: 300,
  startupSeconds: 60,
  intervalSeconds: 15,
};
const NOW = 1_000_000;

/** Samples every 15 s over the last five minutes, all at `v`. */
function steadyObserved(v: number, now = NOW): LoadPoint[] {
  return Array.from({ length: 21 }, (_, i) => ({ t: now - 300 + i * 15, v }));
}

function input(overrides: Partial<PlanInput> = {}): PlanInput {
  return { now: NOW, replicas: 4, observed: steadyObserved(20), forecast: [], ...overrides };
}

describe('planReplicas', () => {
  describe('scaling up', () => {
    // Load is 20 (4 replicas at the target) until RISE, then 50 (10 replicas).
    const RISE = NOW + 600;
    const forecast: ForecastPoint[] = [
      { t: NOW - 300, v: 20 },
      { t: RISE, v: 50 },
    ];

    it('asks for the replicas a forecast rise needs one start-up time (plus an interval) before it', () => {
      const lead = POLICY.startupSeconds + POLICY.intervalSeconds;
      const early = planReplicas(POLICY, input({ now: RISE - lead - 15, forecast }));
      expect(early).toMatchObject({ desired: 4, direction: 'hold', reason: 'steady' });

      const inTime = planReplicas(POLICY, input({ now: RISE - lead, forecast }));
      expect(inTime).toMatchObject({
        desired: 10,
        current: 4,
        direction: 'up',
        reason: 'forecast',
        driver: { t: RISE, v: 50 },
        limit: 'target',
      });
      expect(inTime.utilisationAt).toBeCloseTo(0.5);
    });

    it('follows observed load above the forecast', () => {
      const plan = planReplicas(POLICY, input({ observed: [{ t: NOW, v: 31 }], forecast }));
      expect(plan).toMatchObject({
        desired: 7,
        direction: 'up',
        reason: 'observed',
        driver: { t: NOW, v: 31 },
      });
    });

    it("keeps a forecast's upper band under the utilisation ceiling", () => {
      const plan = planReplicas(POLICY, input({ forecast: [{ t: NOW, v: 20, upper: 45 }] }));
      // 20 needs 4 replicas at the 50% target; the upper band 45 needs 5 at the 90% ceiling.
      expect(plan).toMatchObject({ desired: 5, limit: 'ceiling', reason: 'forecast' });
    });

    it('waits out the scale-up cooldown', () => {
      const plan = planReplicas(POLICY, input({ observed: [{ t: NOW, v: 31 }], lastScaleUpAt: NOW - 20 }));
      expect(plan).toMatchObject({ desired: 4, direction: 'hold', reason: 'cooldown' });
      const later = planReplicas(POLICY, input({ observed: [{ t: NOW, v: 31 }], lastScaleUpAt: NOW - 30 }));
      expect(later).toMatchObject({ desired: 7, direction: 'up' });
    });

    it('stops at maxReplicas', () => {
      const plan = planReplicas(POLICY, input({ observed: [{ t: NOW, v: 500 }] }));
      expect(plan).toMatchObject({ desired: 20, direction: 'up', reason: 'max' });
      expect(planReplicas(POLICY, input({ replicas: 20, observed: [{ t: NOW, v: 500 }] }))).toMatchObject({
        desired: 20,
        direction: 'hold',
        reason: 'max',
      });
    });

    it('brings a service below minReplicas up to it, cooldown or not', () => {
      const plan = planReplicas(
        POLICY,
        input({ replicas: 1, observed: [{ t: NOW, v: 1 }], lastScaleUpAt: NOW }),
      );
      expect(plan).toMatchObject({ desired: 2, direction: 'up', reason: 'min' });
    });
  });

  describe('scaling down', () => {
    // 17 fits 4 replicas with the 10% margin a scale-down keeps (4 × 5 × 0.9 = 18).
    const quietObserved = steadyObserved(17);

    it('waits out the scale-down cooldown after any scale event', () => {
      const quiet = input({ replicas: 8, observed: quietObserved });
      expect(planReplicas(POLICY, { ...quiet, lastScaleUpAt: NOW - 299 })).toMatchObject({
        desired: 8,
        direction: 'hold',
        reason: 'cooldown',
      });
      expect(planReplicas(POLICY, { ...quiet, lastScaleDownAt: NOW - 100 })).toMatchObject({
        reason: 'cooldown',
      });
      expect(planReplicas(POLICY, { ...quiet, lastScaleUpAt: NOW - 300 })).toMatchObject({
        desired: 4,
        direction: 'down',
        reason: 'observed',
      });
    });

    it('keeps the replicas the last cooldown window needed, not just the current load', () => {
      const observed = [...quietObserved];
      observed[3] = { t: NOW - 255, v: 40 };
      const plan = planReplicas(POLICY, input({ replicas: 8, observed }));
      expect(plan).toMatchObject({ desired: 8, direction: 'hold', reason: 'steady', driver: { v: 40 } });
      // Once that peak is older than the cooldown, the replicas it needed can go.
      const later = planReplicas(POLICY, input({ now: NOW + 60, replicas: 8, observed }));
      expect(later).toMatchObject({ desired: 4, direction: 'down' });
    });

    it('only as far as the forecast over the look-ahead window needs, with room to spare', () => {
      const forecast = [
        { t: NOW - 300, v: 17 },
        { t: NOW + 60, v: 26 },
      ];
      expect(planReplicas(POLICY, input({ replicas: 8, observed: quietObserved, forecast }))).toMatchObject({
        desired: 6,
        direction: 'down',
        reason: 'forecast',
        driver: { t: NOW + 60 },
      });
    });

    it('not below minReplicas', () => {
      expect(planReplicas(POLICY, input({ replicas: 8, observed: steadyObserved(0) }))).toMatchObject({
        desired: 2,
        direction: 'down',
        reason: 'min',
      });
      expect(planReplicas(POLICY, input({ replicas: 2, observed: steadyObserved(0) }))).toMatchObject({
        desired: 2,
        direction: 'hold',
        reason: 'min',
      });
    });
  });

  it('does not flap on noise around a replica boundary', () => {
    // 19 ± 8% straddles 20, the most 4 replicas serve at the target.
    const random = seededRandom(7);
    const directions: string[] = [];
    let replicas = 4;
    let lastScaleUpAt: number | undefined;
    let lastScaleDownAt: number | undefined;
    const observed: LoadPoint[] = [];
    for (let now = NOW; now < NOW + 2 * 3600; now += POLICY.intervalSeconds) {
      observed.push({ t: now, v: 19 * (1 + (random() * 2 - 1) * 0.08) });
      const plan = planReplicas(POLICY, {
        now,
        replicas,
        observed: observed.slice(-21),
        forecast: [{ t: NOW, v: 19 }],
        lastScaleUpAt,
        lastScaleDownAt,
      });
      if (plan.direction === 'up') lastScaleUpAt = now;
      if (plan.direction === 'down') lastScaleDownAt = now;
      if (plan.direction !== 'hold') directions.push(plan.direction);
      replicas = plan.desired;
    }
    expect(directions).toEqual(['up']);
    expect(replicas).toBe(5);
  });

  it('rejects a policy it cannot follow, and a plan with nothing observed', () => {
    const bad = { ...POLICY, minReplicas: 0, targetUtilisation: 0.95 };
    expect(() => planReplicas(bad, input())).toThrow(
      expect.objectContaining({ code: ErrorCode.ConfigInvalid }) as unknown as OpsbotError,
    );
    expect(() => planReplicas(bad, input())).toThrow(/minReplicas.*utilisationCeiling/);
    expect(() => planReplicas(POLICY, input({ observed: [] }))).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidRequest }) as unknown as OpsbotError,
    );
  });
});

describe('replicaCost', () => {
  it('is replicas × hours × the hourly price', () => {
    expect(replicaCost(4, 1800, 0.1)).toBeCloseTo(0.2);
    expect(replicaCost(0, 3600, 0.1)).toBe(0);
  });
});
