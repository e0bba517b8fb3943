import path from 'node:path';
import type { ServiceCatalog } from '../../bot/config/catalog';
import type { OpsbotConfig } from '../../bot/config/schema';
import type { AuditTrail } from '../../bot/core/audit-trail';
import { ConfigError } from '../../bot/core/errors';
import type { Logger } from '../../bot/core/logger';
import type { MetricsSource } from '../../bot/metrics/metrics-source';
import type { Platforms } from '../../bot/platform/platforms';
import type { EventBus } from '../eventbus/event-bus';
import { ROUTER_GROUP } from '../eventbus/event-bus';
import type { Forecaster } from './forecast/forecaster';
import { HoltWintersForecaster } from './forecast/holt-winters';
import { ONNX_FORECASTER_NAME, OnnxForecaster } from './forecast/onnx-forecaster';
import type { OptionalForecaster } from './forecaster-choice';
import { SeasonalNaiveForecaster } from './forecast/seasonal-naive';
import { MetricLoadSeries, SampledLoadSeries } from './load-series';
import { PredictiveScaler, type ScaledService, type ScalingDecision } from './predictive-scaler';
import { ConsumerPoolScaleTarget, PlatformScaleTarget } from './scale-target';
import { resolvePolicy } from './scaler-policy';

export interface ScalerDeps {
  configDir: string;
  catalog: ServiceCatalog;
  platforms: Platforms;
  metrics: MetricsSource;
  /** The bus in this process, whose router consumers a lag policy scales. */
  eventBus?: EventBus;
  audit: AuditTrail;
  logger: Logger;
  announce?: (decision: ScalingDecision) => Promise<void>;
}

export interface BuiltScaler {
  scaler: PredictiveScaler;
  /** What system status says of it. */
  describe(): string;
  close(): Promise<void>;
}

/**
 * The predictive scaler from `scaler` config. A catalog service scales through its environment's platform
 * driver; a policy on metric `lag` scales opsbot's own consumers of an event bus group (the router's unless
 * `group` names another). A policy whose service or driver is missing stops start-up with the reason.
 */
export function buildScaler(config: OpsbotConfig, deps: ScalerDeps): BuiltScaler {
  const modelFile = path.resolve(deps.configDir, config.scaler.model);
  const onnx = new Map<number, LazyOnnxForecaster>();
  const services: ScaledService[] = Object.entries(config.scaler.services).map(([name, policyConfig]) => {
    if (policyConfig.metric === 'lag') {
      const group = policyConfig.group ?? ROUTER_GROUP;
      const bus = deps.eventBus;
      if (!bus)
        throw new ConfigError(`scaler.services.${name}: scaling on lag needs the event bus in this process`);
      if (group !== ROUTER_GROUP)
        throw new ConfigError(
          `scaler.services.${name}: only the router group (${ROUTER_GROUP}) runs in opsbot`,
        );
      const load = new SampledLoadSeries(() => bus.lag(group));
      return {
        policy: resolvePolicy(name, policyConfig),
        load,
        target: new ConsumerPoolScaleTarget(bus.router),
        sample: (now) => load.sample(now),
      };
    }
    const service = deps.catalog.get(name);
    if (!service) throw new ConfigError(`scaler.services.${name}: no such service in the catalog`);
    const driver = deps.platforms.driver(policyConfig.environment);
    if (!driver)
      throw new ConfigError(
        `scaler.services.${name}: ${policyConfig.environment} has no platform driver to scale through`,
      );
    const target = new PlatformScaleTarget(driver, name, policyConfig.environment);
    return {
      policy: resolvePolicy(name, policyConfig, service.replicas),
      load: new MetricLoadSeries(deps.metrics, name, policyConfig.environment, policyConfig.metric),
      target,
    };
  });
  const scaler = new PredictiveScaler({
    services,
    forecasters: (_policy, seasonLength) => {
      let model = onnx.get(seasonLength);
      if (!model) {
        model = new LazyOnnxForecaster(modelFile, seasonLength, deps.logger);
        onnx.set(seasonLength, model);
      }
      const candidates: Forecaster[] = [
        new HoltWintersForecaster({ seasonLength }),
        model,
        new SeasonalNaiveForecaster({ seasonLength }),
      ];
      return candidates;
    },
    mode: config.scaler.mode,
    intervalMs: config.scaler.intervalSeconds * 1000,
    currency: config.scaler.currency,
    audit: deps.audit,
    logger: deps.logger,
    announce: deps.announce,
  });
  return {
    scaler,
    describe: () =>
      services.length === 0
        ? 'no services under a scaling policy (scaler.services)'
        : `${config.scaler.mode} mode, ${services.map((s) => s.policy.service).join(', ')} every ${config.scaler.intervalSeconds} s`,
    async close() {
      await scaler.stop();
      await Promise.all([...onnx.values()].map((m) => m.release()));
    },
  };
}

/**
 * The ONNX forecaster, loaded when first wanted: start-up does not wait on it, and a model that will not load
 * is left out of every choice (with one warning), leaving the other candidates to the backtest.
 */
class LazyOnnxForecaster implements OptionalForecaster {
  readonly name = ONNX_FORECASTER_NAME;
  private loading?: Promise<OnnxForecaster>;

  constructor(
    private readonly file: string,
    private readonly seasonLength: number,
    private readonly logger: Logger,
  ) {}

  available(): Promise<boolean> {
    return this.load().then(
      () => true,
      () => false,
    );
  }

  async forecast(history: readonly number[], horizon: number): Promise<number[]> {
    return (await this.load()).forecast(history, horizon);
  }

  private load(): Promise<OnnxForecaster> {
    this.loading ??= OnnxForecaster.load(this.file, { seasonLength: this.seasonLength }).catch(
      (err: unknown) => {
        this.logger.warn({ err, file: this.file }, 'the ONNX load forecaster is off');
        throw err;
      },
    );
    return this.loading;
  }

  async release(): Promise<void> {
    const model = await this.loading?.catch(() => undefined);
    await model?.release();
  }
}
