import { createHash } from 'node:crypto';
import path from 'node:path';
import { packageRoot } from '../../core/package-root';
import type { EmbeddingProvider } from '../../../rag/embeddings/embedding-provider';
import { INTENTS, type Intent } from '../intents';
import { featureNames, featureRow, LEXICAL_DIMENSIONS } from './features';
import { exportSoftmaxModel, INTENT_MODEL_INPUT, INTENT_MODEL_OUTPUT } from './onnx-export';
import {
  DEFAULT_TRAINING,
  predictProbabilities,
  trainSoftmaxRegression,
  type SoftmaxModel,
  type TrainingOptions,
} from './softmax-regression';

export const INTENT_MODEL_NAME = 'intent';
/** Shipped with the package (built by `npm run train:nlu`), so a fresh install classifies without training. */
export const INTENT_MODEL_FILE = path.join(packageRoot(), 'models', `${INTENT_MODEL_NAME}.onnx`);
/** Bump when the features or the graph change, so an old model file is recognisably old. */
export const INTENT_MODEL_VERSION = '1.0.0';

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

/**
 * Trains the intent head on embeddings of the training utterances. The classes are the whole intent set in
 * its fixed order, so the model's columns never depend on which intents the data happens to contain.
 */
export async function trainIntentModel(
  train: readonly { text: string; intent: Intent }[],
  embeddings: EmbeddingProvider,
  options: { training?: TrainingOptions; dataText: string; metrics?: Record<string, number>; now?: Date },
): Promise<TrainedIntentModel> {
  await embeddings.ready();
  const embedded = await embeddings.embed(train.map((u) => u.text));
  const rows = embedded.map((embedding, i) => featureRow(embedding, (train[i] as { text: string }).text));
  const labels = train.map((u) => INTENTS.indexOf(u.intent));
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
    // The data, the embedding model and the training options together determine the weights.
    dataHash: createHash('sha256')
      .update(options.dataText)
      .update(embeddings.id)
      .update(JSON.stringify({ training, lexicalDimensions: LEXICAL_DIMENSIONS }))
      .digest('hex'),
    description: `Multinomial logistic regression over ${embeddings.id} sentence embeddings (${embeddings.dimensions} dimensions) and ${LEXICAL_DIMENSIONS} hashed lexical features, ${train.length} training utterances, ${training.epochs} full-batch Adam epochs, L2 ${training.l2}.`,
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
