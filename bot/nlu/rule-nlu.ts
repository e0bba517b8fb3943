import type { ServiceCatalog } from '../config/catalog';
import { EntityExtractor, lowerSameLength, type EntityLexiconOptions } from './entities';
import { INTENT_RULES, type IntentRule } from './intent-rules';
import type { Entity, EntityType, Intent, NluEngine, NluResult } from './intents';

/**
 * The evidence an intent needs to beat "none of the above". Scores are logits: an intent scoring this much
 * is as likely as out_of_scope, and confidence is its softmax share against the other scoring intents.
 */
const OUT_OF_SCOPE_BASELINE = 2.5;
/** With no cue pointing away from ops, out_of_scope only means "nothing matched": never claim certainty. */
const UNCUED_OUT_OF_SCOPE_MAX = 0.8;

/** Entity spans replaced before cue matching, so an alias or id never reads as a cue ("restart-payments"). */
const MASKED_TYPES: ReadonlySet<EntityType> = new Set([
  'service',
  'runbook',
  'event_type',
  'saga_id',
  'alertname',
]);
const MASK = 'entity';
const TYPOGRAPHIC_QUOTES = /[\u2018\u2019\u02bc]/g;

/** Rule- and lexicon-based NLU: weighted cue patterns per intent plus entity evidence, no learned model. */
export class RuleNlu implements NluEngine {
  private readonly extractor: EntityExtractor;
  private readonly rules: readonly IntentRule[];
  private readonly outOfScopeRule: IntentRule | undefined;

  constructor(catalog: ServiceCatalog, options: EntityLexiconOptions = {}) {
    this.extractor = new EntityExtractor(catalog, options);
    this.rules = INTENT_RULES.filter((rule) => rule.intent !== 'out_of_scope');
    this.outOfScopeRule = INTENT_RULES.find((rule) => rule.intent === 'out_of_scope');
  }

  parse(text: string): NluResult {
    const entities = this.extractor.extract(text);
    const cueText = maskEntities(lowerSameLength(text).replace(TYPOGRAPHIC_QUOTES, "'"), entities);
    const present = new Set(entities.map((entity) => entity.type));

    let best: Intent = 'out_of_scope';
    let bestScore =
      OUT_OF_SCOPE_BASELINE + (this.outOfScopeRule ? cueScore(this.outOfScopeRule, cueText) : 0);
    const outOfScopeCued = bestScore > OUT_OF_SCOPE_BASELINE;
    let partition = Math.exp(bestScore);
    const cueScores = this.rules.map((rule) => cueScore(rule, cueText));
    // Entities alone only decide when no intent has a cue: "saga-0042?" asks about that saga.
    const anyCue = cueScores.some((score) => score > 0);
    for (const [index, rule] of this.rules.entries()) {
      const score = intentScore(rule, cueScores[index] ?? 0, anyCue, present);
      if (score <= 0) continue;
      partition += Math.exp(score);
      if (score > bestScore) {
        best = rule.intent;
        bestScore = score;
      }
    }

    let confidence = Math.exp(bestScore) / partition;
    if (best === 'out_of_scope' && !outOfScopeCued)
      confidence = Math.min(confidence, UNCUED_OUT_OF_SCOPE_MAX);
    return { text, intent: best, confidence: Math.round(confidence * 1000) / 1000, entities };
  }

  extractSlot(type: EntityType, text: string): Entity | undefined {
    return this.extractor.extractAnswer(type, text);
  }
}

function cueScore(rule: IntentRule, cueText: string): number {
  let score = 0;
  for (const cue of rule.cues) if (cue.pattern.test(cueText)) score += cue.weight;
  return score;
}

function intentScore(
  rule: IntentRule,
  cues: number,
  anyCue: boolean,
  present: ReadonlySet<EntityType>,
): number {
  const weights = cues > 0 ? rule.entityWeights : anyCue ? undefined : rule.entityOnlyWeights;
  let score = Math.max(cues, 0);
  if (weights) for (const type of present) score += weights[type] ?? 0;
  return score;
}

function maskEntities(lower: string, entities: readonly Entity[]): string {
  let masked = '';
  let cursor = 0;
  for (const entity of entities) {
    if (!MASKED_TYPES.has(entity.type)) continue;
    masked += `${lower.slice(cursor, entity.start)}${MASK}`;
    cursor = entity.end;
  }
  return masked + lower.slice(cursor);
}
