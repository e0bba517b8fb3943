import type { AnyOnnxModel, OnnxModel } from '../../../engines/predictors/onnx-model';
import type { EmbeddingProvider } from '../../../rag/embeddings/embedding-provider';
import { LruMap } from '../../core/lru-map';
import { INTENTS, type Entity, type Intent } from '../intents';
import { delexicalise } from './delexicalise';
import { embedReadFeatureRows } from './features';
import { INTENT_MODEL_VERSION } from './intent-model';

export interface RankedIntent {
  intent: Intent;
  probability: number;
}

/**
 * How many recent phrasings' rankings are kept. Chat repeats itself ("status of everything", the same alert
 * name all night), and a new phrasing costs a sentence embedding on the event loop (10–20 ms) plus an ONNX
 * run; a repeat costs a map lookup. The ranking depends only on the model and the delexicalised text, so a
 * remembered one is exactly what the model would say again.
 */
const RECENT_RANKINGS = 2000;

/**
 * The learned intent classifier at run time: embeds the utterance, adds its lexical features, and asks the
 * ONNX model served by the predictor runtime. The model is looked up on every call, so a retrained model
 * that the registry hot-reloads is used from the next utterance on (and the remembered rankings are dropped).
 */
export class IntentClassifier {
  private readonly recent: LruMap<string, RankedIntent[]> | undefined;
  private rankedBy: AnyOnnxModel | undefined;

  constructor(
    private readonly embeddings: EmbeddingProvider,
    private readonly model: () => AnyOnnxModel | Promise<AnyOnnxModel>,
    options: { remember?: number } = {},
  ) {
    const remember = options.remember ?? RECENT_RANKINGS;
    this.recent = remember > 0 ? new LruMap(remember) : undefined;
  }

  /** Every intent with its probability, most likely first. `entities` are the extractor's, for delexicalising. */
  async rank(text: string, entities: readonly Entity[]): Promise<RankedIntent[]> {
    const read = delexicalise(text, entities);
    const remembered = this.recall(await this.serving(), read);
    if (remembered) return remembered;

    const [row] = await embedReadFeatureRows(this.embeddings, [read]);
    // Asked again after the embedding: a hot reload during it has released the model asked before.
    const model = await this.serving();
    const { scores } = await model.predictBatch(row as Float32Array, 1);
    const ranked = model.metadata.labels
      .map((label, i) => ({ intent: label as Intent, probability: scores[i] as number }))
      .filter((r) => (INTENTS as readonly string[]).includes(r.intent))
      .sort((a, b) => b.probability - a.probability);
    if (this.recall(model, read) === undefined) this.recent?.set(read, copy(ranked));
    return ranked;
  }

  /** The model serving now, refused if it cannot read this opsbot's features. */
  private async serving(): Promise<OnnxModel<'classification'>> {
    const model = await this.model();
    if (model.task !== 'classification') throw new Error(`model ${model.metadata.name} is not a classifier`);
    if (major(model.metadata.version) !== major(INTENT_MODEL_VERSION)) {
      // Another major version was built from other features: its answers would look sure and mean nothing.
      throw new Error(
        `model ${model.metadata.name} is version ${model.metadata.version}; this opsbot reads ${major(INTENT_MODEL_VERSION)}.x (retrain with npm run train:nlu)`,
      );
    }
    if (model.features[0] !== `${this.embeddings.id}[0]`) {
      // A model trained on other embeddings would classify noise; refuse rather than guess.
      throw new Error(
        `model ${model.metadata.name} was trained on ${model.features[0]?.replace(/\[0\]$/, '') ?? 'unknown'} embeddings, not ${this.embeddings.id}`,
      );
    }
    return model;
  }

  /** What `model` said of `read` before; a different model than last time forgets everything. */
  private recall(model: AnyOnnxModel, read: string): RankedIntent[] | undefined {
    if (model !== this.rankedBy) {
      this.recent?.clear();
      this.rankedBy = model;
    }
    const remembered = this.recent?.get(read);
    return remembered && copy(remembered);
  }
}

/** Callers may change what they get; what is remembered must not change with it. */
const copy = (ranked: readonly RankedIntent[]) => ranked.map((r) => ({ ...r }));
const major = (version: string) => version.split('.')[0];
