import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AuditEntry } from '../../bot/core/audit-trail';
import { MemoryDedupStore } from '../../bot/core/dedup-store';
import { createLogger } from '../../bot/core/logger';
import { FileRecordStore } from '../../bot/core/record-store';
import { DeadLetterQueue, type DeadLetter } from '../../engines/eventbus/dead-letters';
import { EventBus } from '../../engines/eventbus/event-bus';
import { MemoryEventStore } from '../../engines/eventbus/memory-event-store';
import { compileRules } from '../../engines/eventbus/routing';
import { MemoryTransport } from '../../engines/eventbus/transports/memory-transport';
import { SeasonalNaiveForecaster } from '../../engines/scaler/forecast/seasonal-naive';
import { SampledLoadSeries } from '../../engines/scaler/load-series';
import { PredictiveScaler } from '../../engines/scaler/predictive-scaler';
import { ConsumerPoolScaleTarget } from '../../engines/scaler/scale-target';
import { eventually } from '../eventbus/transport-contract';

/** Each webhook delivery takes this long: the router's consumers wait on I/O, so more of them drain faster. */
const HOOK_DELAY_MS = 40;
const EVENTS = 120;

/**
 * opsbot scaling its own event bus consumers on lag (the local driver of the bus): a route to a slow webhook
 * builds a backlog, the scaler adds router consumers, every event still arrives exactly once, and the pool
 * shrinks again once the lag is gone.
 */
describe('scaling the event bus router on lag', () => {
  let dir: string;
  let bus: EventBus;
  let hook: Server;
  let hookUrl: string;
  const received: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;

  beforeAll(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        setTimeout(() => {
          inFlight--;
          received.push((JSON.parse(body) as { id: string }).id);
          res.writeHead(200).end();
        }, HOOK_DELAY_MS);
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((resolve) => hook.close(() => resolve())));

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'opsbot-bus-scale-'));
  });
  afterEach(async () => {
    await bus?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds router consumers while events wait, delivers each once, and removes them when the lag is gone', async () => {
    bus = new EventBus({
      transport: new MemoryTransport({ dir: path.join(dir, 'log'), partitions: 8 }),
      validator: { validate: () => ({ valid: true }) },
      deadLetters: new DeadLetterQueue(new FileRecordStore<DeadLetter>(dir, 'dead-letters')),
      store: new MemoryEventStore({ dir: path.join(dir, 'store') }),
      dedup: new MemoryDedupStore(),
      logger: createLogger('silent'),
    });
    bus.setRoutes(
      compileRules([
        { id: 'jobs', match: { type: 'job.finished' }, targets: [{ webhook: { url: hookUrl } }] },
      ]),
    );
    await bus.start();
    expect(bus.router.size).toBe(1);

    const audit: AuditEntry[] = [];
    const clock = { now: Date.UTC(2026, 10, 22, 12) };
    const lag = new SampledLoadSeries(() => bus.lag('opsbot.router'));
    const scaler = new PredictiveScaler({
      services: [
        {
          policy: {
            service: 'opsbot.router',
            environment: 'production',
            metric: 'lag',
            capacityPerReplica: 10,
            targetUtilisation: 1,
            minReplicas: 1,
            maxReplicas: 4,
            scaleUpCooldownSeconds: 0,
            scaleDownCooldownSeconds: 0,
            startupSeconds: 0,
            costPerReplicaHour: 0,
            utilisationCeiling: 1,
            forecast: { model: 'auto', stepSeconds: 1, seasonSeconds: 3600, horizonSeconds: 1 },
          },
          load: lag,
          target: new ConsumerPoolScaleTarget(bus.router),
          sample: (now) => lag.sample(now),
        },
      ],
      forecasters: (_p, seasonLength) => [new SeasonalNaiveForecaster({ seasonLength })],
      mode: 'act',
      intervalMs: 1000,
      currency: '€',
      audit: { record: (entry) => void audit.push(entry) },
      logger: createLogger('silent'),
      now: () => clock.now,
    });

    await bus.publish(
      Array.from({ length: EVENTS }, (_, i) => ({
        type: 'job.finished',
        source: '/jobs',
        correlationid: `job-${i}`,
        data: { job: i },
      })),
    );
    const [up] = await scaler.tick();
    expect(up?.from).toBe(1);
    expect(up?.to).toBe(4);
    expect(up?.explanation).toMatch(/^opsbot\.router 1 → 4: observed \d+ pending events/);
    expect(bus.router.size).toBe(4);
    expect(audit.map((e) => [e.action, e.phase, e.details?.replicas])).toEqual([
      ['service.scale', 'requested', 4],
      ['service.scale', 'succeeded', 4],
    ]);

    await eventually(() => received.length >= EVENTS, 'every event at the webhook', 20_000);
    expect(new Set(received).size).toBe(EVENTS);
    // Four consumers each hand the webhook their own partitions' events at the same time.
    expect(maxInFlight).toBeGreaterThan(1);

    clock.now += 1000;
    const [down] = await scaler.tick();
    expect(down).toEqual(expect.objectContaining({ from: 4, to: 1, outcome: 'scaled' }));
    expect(bus.router.size).toBe(1);
  }, 30_000);

  it('refuses a pool of no consumers', async () => {
    bus = new EventBus({
      transport: new MemoryTransport({ dir: path.join(dir, 'log'), partitions: 2 }),
      validator: { validate: () => ({ valid: true }) },
      deadLetters: new DeadLetterQueue(new FileRecordStore<DeadLetter>(dir, 'dead-letters')),
      store: new MemoryEventStore({ dir: path.join(dir, 'store') }),
      dedup: new MemoryDedupStore(),
      logger: createLogger('silent'),
    });
    await bus.start();
    await expect(bus.router.resize(0)).rejects.toThrow(/whole number of consumers from 1/);
    expect(bus.router.size).toBe(1);
  });
});
