import { createHash } from 'node:crypto';
import path from 'node:path';
import { packageRoot } from '../../core/package-root';
import type { EmbeddingProvider } from '../../../rag/embeddings/embedding-provider';
import { INTENTS, type Entity, type Intent } from '../intents';
import { embedFeatureRows, featureNames, LEXICAL_DIMENSIONS } from './features';
import { exportSoftmaxModel, INTENT_MODEL_INPUT, INTENT_MODEL_OUTPUT } from './onnx-export';
import {
  DEFAULT_TRAINING,
  predictProbabilities,
  trainSoftmaxRegression,
  type SoftmaxModel,
  type TrainingOptions,
} from './softmax-regression';
import { TYPO_SEED, withTypos } from './typo-augmentation';

export const INTENT_MODEL_NAME = 'intent';
/** Shipped with the package (built by `npm run train:nlu`), so a fresh install classifies without training. */
export const INTENT_MODEL_FILE = path.join(packageRoot(), 'models', `${INTENT_MODEL_NAME}.onnx`);
/** Major: the features or the graph changed (an old model is refused). Minor: training or augmentation changed. */
export const INTENT_MODEL_VERSION = '2.1.0';

/** What the predictor runtime reads next to models/intent.onnx; it doubles as the model card. */
export interface IntentModelCard {
  name: typeof INTENT_MODEL_NAME;
  version: string;
  task: 'classification';
  input: { name: string; features: string[] };
  outputs: { probabilities: string };
  labels: Intent[];
  metrics: Record<string, number>;
  trainedAt: string;
  dataHash: string;
  description: string;
}

export interface TrainedIntentModel {
  model: SoftmaxModel;
  onnx: Uint8Array;
  card: IntentModelCard;
}

export interface IntentTrainingOptions {
  /** The entity extractor the classifier will be served with: its spans are what gets delexicalised. */
  entities: (text: string) => readonly Entity[];
  /** The training file's bytes, hashed into the model card. */
  dataText: string;
  training?: TrainingOptions;
  metrics?: Record<string, number>;
  now?: Date;
}

/**
 * Trains the intent head on the training utterances and a misspelt copy of each (typo-augmentation.ts),
 * delexicalised with the serving extractor. The classes are the whole intent set in its fixed order, so the
 * model's columns never depend on which intents the data happens to contain.
 */
export async function trainIntentModel(
  train: readonly { text: string; intent: Intent }[],
  embeddings: EmbeddingProvider,
  options: IntentTrainingOptions,
): Promise<TrainedIntentModel> {
  await embeddings.ready();
  const augmented = withTypos(train);
  const rows = await embedFeatureRows(
    embeddings,
    augmented.map((u) => ({ text: u.text, entities: options.entities(u.text) })),
  );
  const labels = augmented.map((u) => INTENTS.indexOf(u.intent));
  const training = options.training ?? DEFAULT_TRAINING;
  const model = trainSoftmaxRegression(rows, labels, INTENTS, training);
  const card: IntentModelCard = {
    name: INTENT_MODEL_NAME,
    version: INTENT_MODEL_VERSION,
    task: 'classification',
    input: {
      name: INTENT_MODEL_INPUT,
      features: featureNames(embeddings.id, embeddings.dimensions),
    },
    outputs: { probabilities: INTENT_MODEL_OUTPUT },
    labels: [...INTENTS],
    metrics: options.metrics ?? {},
    trainedAt: (options.now ?? new Date()).toISOString(),
    // With this version's feature and augmentation code (INTENT_MODEL_VERSION), the data, the embedding
    // model and the training options determine the weights.
    dataHash: createHash('sha256')
      .update(options.dataText)
      .update(embeddings.id)
      .update(INTENT_MODEL_VERSION)
      .update(JSON.stringify({ training, lexicalDimensions: LEXICAL_DIMENSIONS, typoSeed: TYPO_SEED }))
      .digest('hex'),
    description: `Multinomial logistic regression over ${embeddings.id} sentence embeddings (${embeddings.dimensions} dimensions) and ${LEXICAL_DIMENSIONS} hashed lexical features of the delexicalised utterance; ${train.length} training utterances and ${augmented.length - train.length} misspelt copies (seed ${TYPO_SEED}), ${training.epochs} full-batch Adam epochs, L2 ${training.l2}.`,
  };
  return { model, onnx: exportSoftmaxModel(model, INTENT_MODEL_VERSION), card };
}

/** The most likely intent and its probability for one feature row, from the TypeScript model. */
export function classify(model: SoftmaxModel, row: Float32Array): { intent: Intent; confidence: number } {
  const probabilities = predictProbabilities(model, row);
  let best = 0;
  for (let c = 1; c < probabilities.length; c++) {
    if ((probabilities[c] as number) > (probabilities[best] as number)) best = c;
  }
  return { intent: model.classes[best] as Intent, confidence: probabilities[best] as number };
}
