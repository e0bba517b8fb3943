import { ServiceCatalog } from '../../bot/config/catalog';
import { loadConfig } from '../../bot/config/load';
import { INTENTS, type Entity, type EntityType, type Intent, type NluResult } from '../../bot/nlu/intents';
import { RuleNlu } from '../../bot/nlu/rule-nlu';

const catalog = new ServiceCatalog(loadConfig({ OPSBOT_CONFIG: 'opsbot.config.yaml' }).config);
const nlu = new RuleNlu(catalog, {
  runbookIds: ['restart-payments', 'high-error-rate', 'dlq-replay', 'failover-db'],
  alertNames: ['Watchdog', 'disk_full'],
});

/** The labelled corpus: every intent, terse and polite, with slang and typos rules can reasonably catch. */
const LABELLED: Array<[string, Intent]> = [
  // How-to questions about an engine's domain ask for the procedure: answered from runbooks and docs.
  ['how do I replay dead letters for order.created?', 'troubleshoot'],
  ['how can I see which alerts are firing in grafana?', 'troubleshoot'],
  ['how do we reconcile the customer and inventory datasets?', 'troubleshoot'],
  ['how do I find out why a saga is stuck?', 'troubleshoot'],
  ['hi', 'greeting'],
  ['hello', 'greeting'],
  ['hey there', 'greeting'],
  ['good morning', 'greeting'],
  ['yo', 'greeting'],
  ['hiya opsbot!', 'greeting'],
  ['morning 👋', 'greeting'],
  ['hey team', 'greeting'],
  ['Hello?', 'greeting'],

  ['help', 'help'],
  ['what can you do?', 'help'],
  ['commands', 'help'],
  ['how do I use you', 'help'],
  ['help me', 'help'],
  ['what can I ask you?', 'help'],
  ['show me your commands', 'help'],
  ['??', 'help'],
  ['what can u do', 'help'],
  ['halp', 'help'],

  ['yes', 'confirm'],
  ['yep', 'confirm'],
  ['y', 'confirm'],
  ['sure', 'confirm'],
  ['ok', 'confirm'],
  ['Okay.', 'confirm'],
  ['confirm', 'confirm'],
  ['do it', 'confirm'],
  ['go ahead', 'confirm'],
  ['approve', 'confirm'],
  ['proceed', 'confirm'],
  ['👍', 'confirm'],
  ['yes please', 'confirm'],
  ['yeah go for it', 'confirm'],
  ['lgtm', 'confirm'],

  ['no', 'deny'],
  ['nope', 'deny'],
  ['n', 'deny'],
  ['cancel', 'deny'],
  ['abort', 'deny'],
  ['stop', 'deny'],
  ["don't", 'deny'],
  ['never mind', 'deny'],
  ['nah', 'deny'],
  ['no thanks', 'deny'],
  ['cancel that', 'deny'],
  ["don't restart payments", 'deny'],
  ['do not scale orders', 'deny'],
  ['forget it', 'deny'],

  ['is payments healthy?', 'system_status'],
  ['status of orders in staging', 'system_status'],
  ['is anything down?', 'system_status'],
  ['health check everything', 'system_status'],
  ["how's checkout doing", 'system_status'],
  ['are all services up?', 'system_status'],
  ['status', 'system_status'],
  ['is the gateway up in prod', 'system_status'],
  ['everything ok?', 'system_status'],
  ['payments?', 'system_status'],
  ['system status pls', 'system_status'],
  ['is search down', 'system_status'],
  ['hows prod looking', 'system_status'],
  ['any outages right now', 'system_status'],
  ['staus of inventory', 'system_status'],

  ["what's the p99 of checkout over the last hour", 'metrics'],
  ['show me cpu for payments', 'metrics'],
  ['error rate for orders last 24h', 'metrics'],
  ['latency of the gateway in prod', 'metrics'],
  ['how much memory is search using', 'metrics'],
  ['p95 latency for payment-service over the past 2 hours', 'metrics'],
  ["what's the throughput on orders", 'metrics'],
  ['rps on edge', 'metrics'],
  ['graph memory usage for inventory for the last 30 minutes', 'metrics'],
  ['what are the metrics for checkout', 'metrics'],
  ['latncy of pay in stg', 'metrics'],

  ['checkout is throwing 502s', 'troubleshoot'],
  ['payments timing out', 'troubleshoot'],
  ['why is payments slow', 'troubleshoot'],
  ['how do I fix high error rate on payments', 'troubleshoot'],
  ['how do I restart payments?', 'troubleshoot'],
  ['orders keeps crashing', 'troubleshoot'],
  ['users cant log in', 'troubleshoot'],
  ['why is the error rate high on checkout', 'troubleshoot'],
  ['inventory is broken, help', 'troubleshoot'],
  ['how should we handle a KubePodCrashLooping on orders', 'troubleshoot'],
  ['notifications not working in staging', 'troubleshoot'],
  ['debug the gateway 503s', 'troubleshoot'],
  ['search returning errors', 'troubleshoot'],
  ['what do i do when the DLQ is backed up', 'troubleshoot'],
  ['the inventroy service is slow af', 'troubleshoot'],

  ['run runbook restart-payments', 'run_runbook'],
  ['execute the high-error-rate runbook', 'run_runbook'],
  ['run restart-payments', 'run_runbook'],
  ['please run the dlq-replay playbook', 'run_runbook'],
  ['trigger runbook high-error-rate for checkout', 'run_runbook'],
  ['can you execute runbook: restart-payments', 'run_runbook'],
  ['start the runbook for clearing the cache', 'run_runbook'],
  ['run the failover runbook', 'run_runbook'],
  ['exec failover-db', 'run_runbook'],

  ['restart payments', 'restart_service'],
  ['restart payments in prod', 'restart_service'],
  ['bounce the orders service', 'restart_service'],
  ['please reboot inventory on stg', 'restart_service'],
  ['recycle the checkout pods', 'restart_service'],
  ['kick notifications', 'restart_service'],
  ['restrat payments', 'restart_service'],
  ['can you restart search in dev?', 'restart_service'],
  ['hey, could you bounce gw', 'restart_service'],
  ['rolling restart of users', 'restart_service'],
  ['hi, restart payments', 'restart_service'],
  ['yes, restart paymnets', 'restart_service'],

  ['scale orders to 3', 'scale_service'],
  ['scale payments to 5 replicas', 'scale_service'],
  ['scale up checkout', 'scale_service'],
  ['scale down search in staging to 2', 'scale_service'],
  ['resize inventory to 4 instances', 'scale_service'],
  ['add more pods to the gateway', 'scale_service'],
  ['scale payments 6', 'scale_service'],
  ['bump orders to 8', 'scale_service'],
  ['sclae users to 2', 'scale_service'],
  ['scale checkout x4', 'scale_service'],
  ['increase replicas for notifications to 3', 'scale_service'],
  ['payments to 5 replicas pls', 'scale_service'],

  ['forecast load for payments next week', 'capacity_forecast'],
  ['will we have enough capacity for black friday', 'capacity_forecast'],
  ['how many replicas will we need for checkout', 'capacity_forecast'],
  ['capacity forecast for orders', 'capacity_forecast'],
  ['are we going to run out of headroom on search', 'capacity_forecast'],
  ['predict traffic for the gateway over the next 2 weeks', 'capacity_forecast'],
  ["what's our capacity looking like", 'capacity_forecast'],
  ['do we have enough instances for the holiday peak', 'capacity_forecast'],

  ['status of saga-0042', 'saga_status'],
  ['status of run 3f9c2a1b', 'saga_status'],
  ['what sagas are running', 'saga_status'],
  ['list sagas', 'saga_status'],
  ['where is saga 3f2b8c9e-1d4a-4e6b-9c7d-2a1b3c4d5e6f', 'saga_status'],
  ['show stuck sagas', 'saga_status'],
  ['saga-0042?', 'saga_status'],
  ['is SAGA-0017 done', 'saga_status'],
  ['any failed sagas today', 'saga_status'],

  ['kick off order fulfillment', 'start_saga'],
  ['start a refund for order 1234', 'start_saga'],
  ['begin user onboarding for alice', 'start_saga'],
  ['start a new saga', 'start_saga'],
  ['initiate a refund saga', 'start_saga'],
  ['please create an order fulfilment saga for order 5521', 'start_saga'],
  ['refund order 998', 'start_saga'],
  ['launch the onboarding workflow', 'start_saga'],

  ['show events for order 1234', 'query_events'],
  ["what's in the DLQ", 'query_events'],
  ['list order.created events', 'query_events'],
  ['find payment.refunded', 'query_events'],
  ['events for orders in the last hour', 'query_events'],
  ['show me the dead letter queue', 'query_events'],
  ['what event types do we have', 'query_events'],
  ['what happened to order 4411', 'query_events'],
  ['ops.saga.completed events today', 'query_events'],

  ['what alerts are firing', 'alert_status'],
  ['any alerts?', 'alert_status'],
  ["what's firing", 'alert_status'],
  ['is HighErrorRate firing', 'alert_status'],
  ['show active alerts for payments', 'alert_status'],
  ['alerts in prod', 'alert_status'],
  ['who paged me', 'alert_status'],
  ['pending alrets', 'alert_status'],

  ['silence HighErrorRate for 2h', 'silence_alert'],
  ['mute the payments alert for 30m', 'silence_alert'],
  ['snooze TargetDown for 1 hour', 'silence_alert'],
  ['ack KubePodCrashLooping', 'silence_alert'],
  ['please silence alerts for checkout for half an hour', 'silence_alert'],
  ['shush PaymentsLatencyHigh for a day', 'silence_alert'],
  ['acknowledge the Watchdog alert', 'silence_alert'],
  ['silence it for 15m', 'silence_alert'],

  ['any data quality issues in orders?', 'data_quality'],
  ['show validation failures', 'data_quality'],
  ['are there anomalies in the data for payments', 'data_quality'],
  ['any PII in the users events', 'data_quality'],
  ['run the reconciliation report for payments', 'data_quality'],
  ['schema errors on order.created', 'data_quality'],
  ['duplicate records in inventory', 'data_quality'],
  ['data quality report', 'data_quality'],

  ['schedule maintenance for payments tomorrow at 2am for 1h', 'schedule_maintenance'],
  ['put orders in maintenance', 'schedule_maintenance'],
  ['plan a maintenance window for search on saturday', 'schedule_maintenance'],
  ['schedule a restart of payments for tonight', 'schedule_maintenance'],
  ['book downtime for the gateway next week', 'schedule_maintenance'],
  ['take inventory offline for 2 hours on sunday', 'schedule_maintenance'],
  ['maintenance window for checkout in staging', 'schedule_maintenance'],
  ['schedule downtime', 'schedule_maintenance'],
  ['cancel maintenance window 3f9c2a1b', 'schedule_maintenance'],

  ['which services are likely to fail', 'predict_failures'],
  ['predict failures', 'predict_failures'],
  ["what's at risk this week", 'predict_failures'],
  ['is anything going to break tonight', 'predict_failures'],
  ['failure prediction for payments', 'predict_failures'],
  ['which service will crash next', 'predict_failures'],
  ['risk report', 'predict_failures'],
  ['show me the riskiest services', 'predict_failures'],

  ["what's the weather in Paris", 'out_of_scope'],
  ['tell me a joke', 'out_of_scope'],
  ['order me a pizza', 'out_of_scope'],
  ['search the docs for pizza recipes', 'out_of_scope'],
  ['who won the game last night', 'out_of_scope'],
  ['write me a poem', 'out_of_scope'],
  ['book a flight to london', 'out_of_scope'],
  ['what is the capital of france', 'out_of_scope'],
  ['asdfghjkl', 'out_of_scope'],
  ['5', 'out_of_scope'],
];

function entity(type: EntityType, value: string | number, utterance: string, text: string, from = 0): Entity {
  const start = utterance.indexOf(text, from);
  if (start < 0) throw new Error(`"${text}" is not in "${utterance}"`);
  return { type, value, text, start, end: start + text.length };
}

function typesIn(result: NluResult): EntityType[] {
  return result.entities.map((e) => e.type);
}

describe('RuleNlu intents', () => {
  it('labels at least 150 utterances and every intent at least six times', () => {
    expect(LABELLED.length).toBeGreaterThanOrEqual(150);
    const underRepresented = INTENTS.filter(
      (intent) => LABELLED.filter(([, label]) => label === intent).length < 6,
    );
    expect(underRepresented).toEqual([]);
  });

  it.each(LABELLED)('%j is %s', (utterance, intent) => {
    expect(nlu.parse(utterance).intent).toBe(intent);
  });

  it.each([
    'restart payments',
    'scale orders to 3',
    'silence HighErrorRate for 2h',
    'run runbook restart-payments',
    'bounce the orders service',
    'hi',
    'yes',
    'no',
    'help',
    'status of saga-0042',
    'schedule maintenance for payments tomorrow at 2am for 1h',
  ])('is at least 0.9 confident about the exact command %j', (utterance) => {
    expect(nlu.parse(utterance).confidence).toBeGreaterThanOrEqual(0.9);
  });

  it('is less confident about weak or ambiguous requests than about exact commands', () => {
    const exact = nlu.parse('restart payments').confidence;
    const weak = ['payments?', 'what about the gateway', "what's our capacity looking like", 'any alerts?'];
    for (const utterance of weak) expect(nlu.parse(utterance).confidence).toBeLessThan(exact - 0.2);
    // Two competing verbs: the first leads, but without the certainty of a single command.
    expect(nlu.parse('restart or scale payments?').confidence).toBeLessThan(exact - 0.15);
  });

  it('never claims certainty about out_of_scope when it only found nothing', () => {
    expect(nlu.parse('what is the capital of france')).toMatchObject({
      intent: 'out_of_scope',
      confidence: 0.8,
    });
    expect(nlu.parse('asdfghjkl').confidence).toBeLessThanOrEqual(0.8);
  });

  it('reads a negated, planned or how-to command as something other than the command', () => {
    expect(nlu.parse('do not restart payments').intent).toBe('deny');
    expect(nlu.parse("don't silence HighErrorRate").intent).toBe('deny');
    expect(nlu.parse('schedule a reboot of orders for saturday').intent).toBe('schedule_maintenance');
    expect(nlu.parse('how do I scale checkout').intent).toBe('troubleshoot');
  });

  it('keeps the request behind a greeting or a yes', () => {
    expect(nlu.parse('hey, scale orders to 3').intent).toBe('scale_service');
    expect(nlu.parse('ok silence TargetDown for 1h').intent).toBe('silence_alert');
  });
});

describe('RuleNlu result shape', () => {
  it.each(LABELLED.map(([utterance]) => [utterance]))(
    '%j: text, confidence and entity spans',
    (utterance) => {
      const result = nlu.parse(utterance);
      expect(result.text).toBe(utterance);
      expect(result.confidence).toBeGreaterThanOrEqual(0);
      expect(result.confidence).toBeLessThanOrEqual(1);
      expect(Math.round(result.confidence * 1000) / 1000).toBe(result.confidence);
      let previousEnd = 0;
      for (const e of result.entities) {
        expect(e.start).toBeGreaterThanOrEqual(previousEnd);
        expect(e.end).toBeGreaterThan(e.start);
        expect(utterance.slice(e.start, e.end)).toBe(e.text);
        previousEnd = e.end;
      }
    },
  );

  it('does not change its answer between calls', () => {
    const first = nlu.parse('scale payment-service to 4 replicas in prod for 2h');
    expect(nlu.parse('scale payment-service to 4 replicas in prod for 2h')).toEqual(first);
  });
});

describe('RuleNlu entities', () => {
  it('extracts service, replicas and environment with offsets', () => {
    expect(nlu.parse('scale orders to 3 in prod').entities).toEqual([
      { type: 'service', value: 'orders', text: 'orders', start: 6, end: 12 },
      { type: 'replicas', value: 3, text: '3', start: 16, end: 17 },
      { type: 'environment', value: 'production', text: 'prod', start: 21, end: 25 },
    ]);
  });

  it('counts offsets in UTF-16 code units', () => {
    expect(nlu.parse('🚀 restart payments').entities).toEqual([
      { type: 'service', value: 'payments', text: 'payments', start: 11, end: 19 },
    ]);
  });

  it.each<[string, Array<[EntityType, string | number, string]>]>([
    ['restart the payment-service', [['service', 'payments', 'payment-service']]],
    ['restart payment service', [['service', 'payments', 'payment']]],
    ['is product-search up', [['service', 'search', 'product-search']]],
    [
      'bounce PAYMENTS on STG',
      [
        ['service', 'payments', 'PAYMENTS'],
        ['environment', 'staging', 'STG'],
      ],
    ],
    ['restart payments-api', [['service', 'payments', 'payments']]],
    [
      'kick the api-gateway in dev',
      [
        ['service', 'gateway', 'api-gateway'],
        ['environment', 'development', 'dev'],
      ],
    ],
    ['restart paymnets', [['service', 'payments', 'paymnets']]],
    ['the notifcations service is down', [['service', 'notifications', 'notifcations']]],
    ['restart cart', [['service', 'checkout', 'cart']]],
    ['is the cart service down', [['service', 'checkout', 'cart']]],
    [
      'scale payments to 5 replicas',
      [
        ['service', 'payments', 'payments'],
        ['replicas', 5, '5 replicas'],
      ],
    ],
    [
      'scale checkout to five',
      [
        ['service', 'checkout', 'checkout'],
        ['replicas', 5, 'five'],
      ],
    ],
    [
      'scale search x3',
      [
        ['service', 'search', 'search'],
        ['replicas', 3, 'x3'],
      ],
    ],
    [
      'scale search 3x',
      [
        ['service', 'search', 'search'],
        ['replicas', 3, '3x'],
      ],
    ],
    [
      'scale payments 6',
      [
        ['service', 'payments', 'payments'],
        ['replicas', 6, '6'],
      ],
    ],
    [
      'scale users in dev 2',
      [
        ['service', 'users', 'users'],
        ['environment', 'development', 'dev'],
        ['replicas', 2, '2'],
      ],
    ],
    ['scale to 0 pods', [['replicas', 0, '0 pods']]],
    [
      'scale orders to 3 for 2 hours',
      [
        ['service', 'orders', 'orders'],
        ['replicas', 3, '3'],
        ['duration', 7200, '2 hours'],
      ],
    ],
    [
      'silence HighErrorRate for 2h',
      [
        ['alertname', 'HighErrorRate', 'HighErrorRate'],
        ['duration', 7200, '2h'],
      ],
    ],
    ['mute it for half an hour', [['duration', 1800, 'half an hour']]],
    [
      'snooze TargetDown for 1h30m',
      [
        ['alertname', 'TargetDown', 'TargetDown'],
        ['duration', 5400, '1h30m'],
      ],
    ],
    ['status of SAGA-0042', [['saga_id', 'saga-0042', 'SAGA-0042']]],
    ['status of run 3F9C2A1B', [['saga_id', '3f9c2a1b', '3F9C2A1B']]],
    ['show saga id 3f9c2a1b please', [['saga_id', '3f9c2a1b', '3f9c2a1b']]],
    [
      'where is 3F2B8C9E-1D4A-4E6B-9C7D-2A1B3C4D5E6F',
      [['saga_id', '3f2b8c9e-1d4a-4e6b-9c7d-2a1b3c4d5e6f', '3F2B8C9E-1D4A-4E6B-9C7D-2A1B3C4D5E6F']],
    ],
    ['run runbook restart-payments', [['runbook', 'restart-payments', 'restart-payments']]],
    ['execute the high-error-rate runbook', [['runbook', 'high-error-rate', 'high-error-rate']]],
    ['run the runbook rotate-certs now', [['runbook', 'rotate-certs', 'rotate-certs']]],
    ['exec FAILOVER-DB', [['runbook', 'failover-db', 'FAILOVER-DB']]],
    [
      'KubeAPIDown and CPUThrottlingHigh are firing',
      [
        ['alertname', 'KubeAPIDown', 'KubeAPIDown'],
        ['alertname', 'CPUThrottlingHigh', 'CPUThrottlingHigh'],
      ],
    ],
    ['is PaymentsLatencyHigh firing', [['alertname', 'PaymentsLatencyHigh', 'PaymentsLatencyHigh']]],
    [
      'silence watchdog for 10m',
      [
        ['alertname', 'Watchdog', 'watchdog'],
        ['duration', 600, '10m'],
      ],
    ],
    ['list order.created events', [['event_type', 'order.created', 'order.created']]],
    [
      'schedule maintenance for checkout for 30 minutes',
      [
        ['service', 'checkout', 'checkout'],
        ['duration', 1800, '30 minutes'],
      ],
    ],
    [
      'show ops.saga.completed and payment.refunded',
      [
        ['event_type', 'ops.saga.completed', 'ops.saga.completed'],
        ['event_type', 'payment.refunded', 'payment.refunded'],
      ],
    ],
  ])('%j', (utterance, expected) => {
    const entities = expected.map(([type, value, text]) => entity(type, value, utterance, text));
    expect(nlu.parse(utterance).entities).toEqual(entities);
  });

  it('tags the same word twice at its two positions', () => {
    const utterance = 'restart payments then check payments';
    expect(nlu.parse(utterance).entities).toEqual([
      entity('service', 'payments', utterance, 'payments'),
      entity('service', 'payments', utterance, 'payments', 10),
    ]);
  });
});

describe('RuleNlu false positives', () => {
  it.each([
    'order me a pizza',
    'search the docs for pizza recipes',
    'can you search the logs',
    'in order to fix it',
    'my cart is empty',
    'place an order',
    'edge cases',
    'events for order 1234',
    'the warehouse crew is out of stock',
    'search for 30 minutes of logs',
    'please search for an hour',
  ])('%j names no ordinary word as a service', (utterance) => {
    const services = nlu.parse(utterance).entities.filter((e) => e.type === 'service');
    expect(services.map((e) => e.text)).not.toContain('order');
    expect(services.map((e) => e.text)).not.toContain('search');
    expect(services.map((e) => e.text)).not.toContain('cart');
    expect(services.map((e) => e.text)).not.toContain('edge');
    expect(services.map((e) => e.text)).not.toContain('stock');
  });

  it.each(['at this stage we wait', 'a dev asked', 'what is stage 2 of the deploy'])(
    '%j names no environment',
    (utterance) => {
      expect(typesIn(nlu.parse(utterance))).not.toContain('environment');
    },
  );

  it.each([
    'PostgreSQL is slow',
    'JavaScript and TypeScript errors',
    'GitHub is down',
    'my iPhone app is broken',
    'Restart payments',
    'Please check the payments StatefulSet',
    'PagerDuty woke me up',
  ])('%j has no alertname', (utterance) => {
    expect(typesIn(nlu.parse(utterance))).not.toContain('alertname');
  });

  it.each([
    'read deploy.md and config.yaml',
    'see package.json and index.ts',
    'ping api.internal and example.com',
    'upgrade to 1.2.3 on 10.0.0.1',
    'it runs on node.js, e.g. here',
    'curl payments.svc.cluster.local',
  ])('%j has no event_type', (utterance) => {
    expect(typesIn(nlu.parse(utterance))).not.toContain('event_type');
  });

  it.each([
    'restart payments for 5 minutes',
    'scale orders to 50%',
    'scale payments by 2',
    'add 2 more replicas to payments',
    'show events for order 1234',
    'status of saga-0042',
    'silence HighErrorRate for 30 minutes',
    'restart orders at 14:00',
    'increase the timeout to 30',
  ])('%j has no replica count', (utterance) => {
    expect(typesIn(nlu.parse(utterance))).not.toContain('replicas');
  });

  it('does not read HTTP status plurals or milliseconds as durations', () => {
    expect(typesIn(nlu.parse('checkout is throwing 502s with p99 over 500ms'))).not.toContain('duration');
  });
});

describe('RuleNlu.extractSlot', () => {
  it.each<[EntityType, string, string | number, string]>([
    ['replicas', '5', 5, '5'],
    ['replicas', ' 12 ', 12, '12'],
    ['replicas', 'five', 5, 'five'],
    ['replicas', 'to 5', 5, '5'],
    ['replicas', '5 replicas', 5, '5 replicas'],
    ['environment', 'prod', 'production', 'prod'],
    ['environment', 'dev', 'development', 'dev'],
    ['environment', 'stage', 'staging', 'stage'],
    ['environment', 'in staging please', 'staging', 'staging'],
    ['duration', '2h', 7200, '2h'],
    ['duration', 'for half an hour', 1800, 'half an hour'],
    ['service', 'payment', 'payments', 'payment'],
    ['service', 'order', 'orders', 'order'],
    ['service', 'search', 'search', 'search'],
    ['service', 'the orders one', 'orders', 'orders'],
    ['service', 'paymnts', 'payments', 'paymnts'],
    ['saga_id', 'saga-0042', 'saga-0042', 'saga-0042'],
    ['saga_id', 'SAGA-0042', 'saga-0042', 'SAGA-0042'],
    ['runbook', 'restart-payments', 'restart-payments', 'restart-payments'],
    ['runbook', 'rotate-certs', 'rotate-certs', 'rotate-certs'],
    ['runbook', 'the high-error-rate one', 'high-error-rate', 'high-error-rate'],
    ['alertname', 'HighErrorRate', 'HighErrorRate', 'HighErrorRate'],
    ['alertname', 'watchdog', 'Watchdog', 'watchdog'],
    ['alertname', 'InfoInhibitor', 'InfoInhibitor', 'InfoInhibitor'],
    ['event_type', 'order.created', 'order.created', 'order.created'],
  ])('reads %s from %j', (type, answer, value, text) => {
    expect(nlu.extractSlot(type, answer)).toEqual(entity(type, value, answer, text));
  });

  it.each<[EntityType, string]>([
    ['replicas', 'hmm'],
    ['replicas', '5 minutes'],
    ['replicas', '50%'],
    ['duration', '30'],
    ['duration', 'soon'],
    ['environment', 'qa'],
    ['service', 'database'],
    ['saga_id', '42'],
    ['alertname', 'yes'],
    ['runbook', 'no idea'],
    ['event_type', 'config.yaml'],
  ])('finds no %s in %j', (type, answer) => {
    expect(nlu.extractSlot(type, answer)).toBeUndefined();
  });
});
