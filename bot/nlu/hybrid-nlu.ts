import type { Logger } from '../core/logger';
import type { IntentClassifier, RankedIntent } from './classifier/intent-classifier';
import type { Entity, EntityType, Intent, NluEngine, NluResult } from './intents';
import type { RuleNlu } from './rule-nlu';

/** A rule this sure is an exact command ("restart payments in prod"): it stands, with no embedding needed. */
export const RULE_EXACT_CONFIDENCE = 0.9;
/**
 * How much a rule's opinion adds to the classifier's probability for the same intent. Chosen on the
 * held-out split together with the threshold above: 0.2 beat 0, 0.4 and 0.6.
 */
export const RULE_WEIGHT = 0.2;
/** Below this the best guess is not good enough to act on: the utterance is treated as out of scope. */
export const MIN_CONFIDENCE = 0.2;

/**
 * Rules where they are exact, the learned classifier for everything else. Entities always come from the
 * rule engine's extractor, which knows the catalog; the classifier only decides the intent.
 */
export class HybridNlu implements NluEngine {
  private classifierDown = false;

  constructor(
    private readonly rules: RuleNlu,
    private readonly classifier: IntentClassifier,
    private readonly logger?: Logger,
  ) {}

  async parse(text: string): Promise<NluResult> {
    const ruled = this.rules.parse(text);
    if (ruled.intent !== 'out_of_scope' && ruled.confidence >= RULE_EXACT_CONFIDENCE) return ruled;

    const ranked = await this.rank(text);
    // Without the model (not loaded yet, or a bad file) opsbot still understands what the rules understand.
    if (!ranked) return ruled;
    const ruleBacked = ruled.intent !== 'out_of_scope';
    let best: Intent = 'out_of_scope';
    let bestScore = -1;
    for (const { intent, probability } of ranked) {
      const score =
        probability + (ruleBacked && intent === ruled.intent ? RULE_WEIGHT * ruled.confidence : 0);
      if (score > bestScore) {
        best = intent;
        bestScore = score;
      }
    }
    // Back to a probability: the rule's weight was added on top of a distribution that summed to one.
    const confidence = bestScore / (1 + (ruleBacked ? RULE_WEIGHT * ruled.confidence : 0));
    if (confidence < MIN_CONFIDENCE) {
      return { text, intent: 'out_of_scope', confidence: round(1 - confidence), entities: ruled.entities };
    }
    return { text, intent: best, confidence: round(confidence), entities: ruled.entities };
  }

  private async rank(text: string): Promise<RankedIntent[] | undefined> {
    try {
      const ranked = await this.classifier.rank(text);
      if (this.classifierDown) this.logger?.info('intent classifier is back; using it again');
      this.classifierDown = false;
      return ranked;
    } catch (err) {
      if (!this.classifierDown) {
        this.logger?.warn(
          { err: (err as Error).message },
          'intent classifier unavailable; using rules alone',
        );
      }
      this.classifierDown = true;
      return undefined;
    }
  }

  extractSlot(type: EntityType, text: string): Entity | undefined {
    return this.rules.extractSlot(type, text);
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
