import path from 'node:path';
import { ModelRegistry } from '../../engines/predictors/model-registry';
import type { EmbeddingProvider } from '../../rag/embeddings/embedding-provider';
import type { ServiceCatalog } from '../config/catalog';
import type { OpsbotConfig } from '../config/schema';
import type { Logger } from '../core/logger';
import { IntentClassifier } from './classifier/intent-classifier';
import { INTENT_MODEL_FILE, INTENT_MODEL_NAME } from './classifier/intent-model';
import { HybridNlu } from './hybrid-nlu';
import type { NluEngine } from './intents';
import { RuleNlu } from './rule-nlu';
import { runbookLexicon } from './runbook-lexicon';

export interface BuiltNlu {
  nlu: NluEngine;
  /** The learned models, when `nlu.engine` is hybrid; the registry watches their files. */
  predictors?: ModelRegistry;
  /** Settles when the models' first load has (or has not) finished; turns wait for it. */
  predictorsLoaded?: Promise<void>;
  /** What /readyz and "system status" say of it. */
  description: string;
}

/**
 * The NLU `nlu.engine` asks for, as the server, the terminal and `opsbot nlu` all run it: the rule engine
 * over the catalog and the runbooks' ids and alert names, and with "hybrid" the learned classifier served
 * from the models folder through the predictor runtime.
 */
export function buildNlu(
  config: OpsbotConfig,
  configDir: string,
  deps: { catalog: ServiceCatalog; embeddings: EmbeddingProvider; logger: Logger },
): BuiltNlu {
  const rules = buildRuleNlu(config, configDir, deps.catalog);
  if (config.nlu.engine === 'rules') return { nlu: rules, description: 'rules and lexicons' };
  const predictors = new ModelRegistry(
    config.nlu.modelsDir ? path.resolve(configDir, config.nlu.modelsDir) : path.dirname(INTENT_MODEL_FILE),
    { logger: deps.logger },
  );
  const predictorsLoaded = predictors.loadAll();
  // A models folder that cannot be read leaves the rules answering alone; say so once, do not crash.
  predictorsLoaded.catch((err: Error) =>
    deps.logger.warn({ err: err.message }, 'predictor models could not be loaded; the rules answer alone'),
  );
  const classifier = new IntentClassifier(deps.embeddings, async () => {
    // Turns that arrive while the models are still loading wait for them rather than skip the classifier.
    await predictorsLoaded;
    return predictors.get(INTENT_MODEL_NAME, 'classification');
  });
  return {
    nlu: new HybridNlu(rules, classifier, deps.logger),
    predictors,
    predictorsLoaded: predictorsLoaded.catch(() => {}),
    description: `hybrid: rules where exact, ${INTENT_MODEL_NAME} classifier (${deps.embeddings.id}) for the rest`,
  };
}

/** The rule engine over the catalog and the runbook ids and alert names of the configured knowledge sources. */
export function buildRuleNlu(config: OpsbotConfig, configDir: string, catalog: ServiceCatalog): RuleNlu {
  const knowledgeSources = config.knowledge.sources.map((s) => path.resolve(configDir, s));
  return new RuleNlu(catalog, runbookLexicon(knowledgeSources));
}
