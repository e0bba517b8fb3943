import { ServiceCatalog } from '../../bot/config/catalog';
import type { EnvironmentName } from '../../bot/config/schema';
import type { Block, Principal, Reply } from '../../bot/core/message';
import { newSession, type Slots } from '../../bot/dialogue/session';
import { createPredictFailuresSkill } from '../../bot/skills/predict-failures';
import type { SkillContext } from '../../bot/skills/skill';
import type {
  FailurePrediction,
  ServiceRisk,
  ServiceRiskPredictor,
} from '../../engines/maintenance/failure-prediction/service-failure-predictor';
import type { ServiceSignals } from '../../engines/maintenance/failure-prediction/service-signals';
import { testConfig } from '../support/runtime';
import { serviceSignals } from './service-signals-fixture';

const alice: Principal = { id: 'web:alice', name: 'Alice', authenticated: true };
const catalog = new ServiceCatalog(testConfig());

function context(slots: Slots = {}): SkillContext {
  return {
    turn: {
      channel: 'web',
      user: alice,
      conversationId: 'conv-1',
      text: 'which services are likely to fail?',
    },
    user: alice,
    roles: ['operator'],
    slots,
    session: newSession(),
    catalog,
    can: () => true,
    skills: [],
    correlationId: 'corr-1',
  };
}

function block<T extends Block['type']>(reply: Reply, type: T): Extract<Block, { type: T }> | undefined {
  return reply.blocks.find((b): b is Extract<Block, { type: T }> => b.type === type);
}

/** Answers the risks it is given, for the services it is asked about, highest first; records what it saw. */
class FakePredictor implements ServiceRiskPredictor {
  readonly description = 'service-failure@test';
  readonly asked: string[][] = [];
  constructor(private readonly risks: Record<string, Omit<ServiceRisk, 'service' | 'environment'>>) {}

  async predict(signals: readonly ServiceSignals[]): Promise<ServiceRisk[]> {
    this.asked.push(signals.map((s) => s.service));
    return signals
      .map((s): ServiceRisk => {
        const risk = this.risks[s.service];
        if (!risk) throw new Error(`no risk given for ${s.service}`);
        return { service: s.service, environment: s.environment, ...risk };
      })
      .sort((a, b) => b.risk - a.risk);
  }
}

const RISKS = {
  checkout: {
    risk: 0.82,
    level: 'high' as const,
    reasons: ['p95 latency 4× its usual (600 ms vs 150 ms)', '4 replica restarts in the last hour'],
  },
  orders: { risk: 0.31, level: 'medium' as const, reasons: ['health checks failed 6 of the last 60 (10%)'] },
  payments: { risk: 0.03, level: 'low' as const, reasons: [] },
};

function skillWith(prediction: FailurePrediction, watched: ServiceSignals[]) {
  const environments: EnvironmentName[] = [];
  const skill = createPredictFailuresSkill({
    prediction: () => prediction,
    signals: async (environment) => {
      environments.push(environment);
      return watched;
    },
  });
  return { skill, environments };
}

const FULL_HOUR = [
  serviceSignals({ service: 'payments' }),
  serviceSignals({ service: 'checkout' }),
  serviceSignals({ service: 'orders' }),
];

describe('predict_failures', () => {
  it('is the read-only skill of failures.read', () => {
    const { skill } = skillWith({ on: false, reason: 'x' }, []);
    expect(skill).toMatchObject({
      intent: 'predict_failures',
      permission: 'failures.read',
      mutating: false,
      installed: true,
    });
    expect(skill.slots.map((s) => [s.entity, s.required])).toEqual([
      ['service', false],
      ['environment', false],
    ]);
  });

  it('says plainly that prediction is off, and why', async () => {
    const { skill, environments } = skillWith(
      { on: false, reason: 'the failure model could not be loaded: cannot read model metadata x.json' },
      FULL_HOUR,
    );
    const reply = await skill.handle(context());
    expect(reply.text).toBe(
      'Failure prediction is off: the failure model could not be loaded: cannot read model metadata x.json.',
    );
    expect(block(reply, 'status')?.badges).toEqual([
      { label: 'failure prediction', state: 'unknown', detail: 'off' },
    ]);
    expect(environments).toEqual([]);
  });

  it('waits for enough history instead of guessing', async () => {
    const predictor = new FakePredictor(RISKS);
    const { skill } = skillWith({ on: true, predictor }, [
      serviceSignals({ service: 'payments', minutes: 4 }),
      serviceSignals({ service: 'checkout', minutes: 6 }),
    ]);
    const reply = await skill.handle(context());
    expect(reply.text).toBe(
      'Not enough history yet to predict failures in production: the maintenance controller has checked them for 5 min, ' +
        'and a prediction needs 15 min of health checks. Ask again in a few minutes.',
    );
    expect(predictor.asked).toEqual([]);
  });

  it('ranks the services by risk, with level and reasons, in the default environment', async () => {
    const predictor = new FakePredictor(RISKS);
    const { skill, environments } = skillWith({ on: true, predictor }, FULL_HOUR);
    const reply = await skill.handle(context());
    expect(environments).toEqual(['production']);
    expect(reply.text).toBe(
      [
        '1 of 3 services in production are at high risk of failing within the next hour: checkout (82%).',
        '1. checkout 82% (high): p95 latency 4× its usual (600 ms vs 150 ms); 4 replica restarts in the last hour',
        '2. orders 31% (medium): health checks failed 6 of the last 60 (10%)',
        '3. payments 3% (low): nothing stands out',
      ].join('\n'),
    );
    expect(block(reply, 'status')?.badges).toEqual([
      { label: 'checkout', state: 'critical', detail: '82% high' },
      { label: 'orders', state: 'warning', detail: '31% medium' },
      { label: 'payments', state: 'ok', detail: '3% low' },
    ]);
    expect(block(reply, 'list')?.ordered).toBe(true);
    expect(block(reply, 'fields')?.fields).toEqual([{ label: 'Model', value: 'service-failure@test' }]);
  });

  it('names the riskiest service when none is at high risk', async () => {
    const predictor = new FakePredictor(RISKS);
    const { skill } = skillWith({ on: true, predictor }, [FULL_HOUR[0], FULL_HOUR[2]] as ServiceSignals[]);
    const reply = await skill.handle(context({ environment: 'staging' }));
    expect(reply.text.split('\n')[0]).toBe(
      'No service in staging is at high risk of failing within the next hour; the riskiest is orders (31%, medium).',
    );
  });

  it('answers about the service asked for, and leaves out services too new to predict', async () => {
    const predictor = new FakePredictor(RISKS);
    const watched = [...FULL_HOUR, serviceSignals({ service: 'search', minutes: 3 })];
    const { skill } = skillWith({ on: true, predictor }, watched);

    const one = await skill.handle(context({ service: 'orders' }));
    expect(predictor.asked).toEqual([['orders']]);
    expect(one.text.split('\n')[0]).toBe(
      'orders (production) has a 31% chance of failing within the next hour: medium risk.',
    );

    const all = await skill.handle(context());
    expect(predictor.asked[1]).toEqual(['payments', 'checkout', 'orders']);
    expect(all.text).toMatch(/\nToo new to predict \(watched for less than 15 min\): search\.$/);

    const tooNew = await skill.handle(context({ service: 'search' }));
    expect(tooNew.text).toMatch(/^Not enough history yet .* has checked search for 2 min,/);
  });

  it('says when it has no history of the service asked about', async () => {
    const { skill } = skillWith({ on: true, predictor: new FakePredictor(RISKS) }, FULL_HOUR);
    const reply = await skill.handle(context({ service: 'inventory' }));
    expect(reply.text).toBe(
      "The maintenance controller has no health history for inventory in production, so I can't predict whether it will fail.",
    );
  });

  it('reports a failing history read or prediction instead of throwing', async () => {
    const broken = createPredictFailuresSkill({
      prediction: () => ({ on: true, predictor: new FakePredictor(RISKS) }),
      signals: async () => {
        throw new Error('health history unavailable');
      },
    });
    expect((await broken.handle(context())).text).toBe(
      'I could not read the health history of production: health history unavailable.',
    );
    const failing: ServiceRiskPredictor = {
      description: 'broken',
      predict: async () => {
        throw new Error('model was released');
      },
    };
    const { skill } = skillWith({ on: true, predictor: failing }, FULL_HOUR);
    expect((await skill.handle(context())).text).toBe('Failure prediction failed: model was released.');
  });
});
