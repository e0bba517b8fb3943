import type { AnyOnnxModel } from '../../../engines/predictors/onnx-model';
import type { EmbeddingProvider } from '../../../rag/embeddings/embedding-provider';
import { INTENTS, type Intent } from '../intents';
import { featureRow } from './features';

export interface RankedIntent {
  intent: Intent;
  probability: number;
}

/**
 * The learned intent classifier at run time: embeds the utterance, adds its lexical features, and asks the
 * ONNX model served by the predictor runtime. The model is looked up on every call, so a retrained model
 * that the registry hot-reloads is used from the next utterance on.
 */
export class IntentClassifier {
  constructor(
    private readonly embeddings: EmbeddingProvider,
    private readonly model: () => AnyOnnxModel | Promise<AnyOnnxModel>,
  ) {}

  /** Every intent with its probability, most likely first. */
  async rank(text: string): Promise<RankedIntent[]> {
    const model = await this.model();
    if (model.task !== 'classification') throw new Error(`model ${model.metadata.name} is not a classifier`);
    const [embedding] = await this.embeddings.embed([text]);
    const expected = `${this.embeddings.id}[0]`;
    if (model.features[0] !== expected) {
      // A model trained on other embeddings would classify noise; refuse rather than guess.
      throw new Error(
        `model ${model.metadata.name} was trained on ${model.features[0]?.replace(/\[0\]$/, '') ?? 'unknown'} embeddings, not ${this.embeddings.id}`,
      );
    }
    const { scores } = await model.predictBatch(featureRow(embedding as Float32Array, text), 1);
    const labels = model.metadata.labels;
    return labels
      .map((label, i) => ({ intent: label as Intent, probability: scores[i] as number }))
      .filter((r) => (INTENTS as readonly string[]).includes(r.intent))
      .sort((a, b) => b.probability - a.probability);
  }
}
