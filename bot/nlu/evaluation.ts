/** Scores for intent classification and entity extraction, shared by train:nlu and eval:nlu. */

export interface IntentScores {
  accuracy: number;
  macroF1: number;
  perIntent: { intent: string; precision: number; recall: number; f1: number; support: number }[];
  /** confusion[expected][predicted] = count, only for cells that are not zero. */
  confusion: Record<string, Record<string, number>>;
}

export function scoreIntents(
  labels: readonly string[],
  expected: readonly string[],
  predicted: readonly string[],
): IntentScores {
  const confusion: Record<string, Record<string, number>> = {};
  let correct = 0;
  expected.forEach((want, i) => {
    const got = predicted[i] as string;
    if (want === got) correct += 1;
    const row = (confusion[want] ??= {});
    row[got] = (row[got] ?? 0) + 1;
  });
  const perIntent = labels.map((intent) => {
    const tp = confusion[intent]?.[intent] ?? 0;
    const support = Object.values(confusion[intent] ?? {}).reduce((a, b) => a + b, 0);
    const predictedCount = Object.values(confusion).reduce((sum, row) => sum + (row[intent] ?? 0), 0);
    return { intent, ...prf(tp, predictedCount, support), support };
  });
  const scored = perIntent.filter((p) => p.support > 0);
  return {
    accuracy: expected.length === 0 ? 0 : correct / expected.length,
    macroF1: scored.reduce((sum, p) => sum + p.f1, 0) / Math.max(1, scored.length),
    perIntent,
    confusion,
  };
}

export interface SpanEntity {
  type: string;
  start: number;
  end: number;
  value?: string | number;
}

export interface EntityScores {
  byType: { type: string; precision: number; recall: number; f1: number; support: number }[];
  /** Micro-averaged over every type. */
  overall: { precision: number; recall: number; f1: number };
}

/**
 * An entity counts as found when type, span and — where the gold data gives one — the normalised value all
 * match: "paymnets" must become payments, not just be found.
 */
export function scoreEntities(
  gold: readonly (readonly SpanEntity[])[],
  predicted: readonly (readonly SpanEntity[])[],
): EntityScores {
  const counts = new Map<string, { tp: number; predicted: number; gold: number }>();
  const bucket = (type: string) => {
    let c = counts.get(type);
    if (!c) counts.set(type, (c = { tp: 0, predicted: 0, gold: 0 }));
    return c;
  };
  gold.forEach((wanted, i) => {
    const got = [...(predicted[i] ?? [])];
    for (const g of wanted) bucket(g.type).gold += 1;
    for (const p of got) bucket(p.type).predicted += 1;
    for (const g of wanted) {
      const hit = got.findIndex(
        (p) =>
          p.type === g.type &&
          p.start === g.start &&
          p.end === g.end &&
          (g.value === undefined || String(p.value) === String(g.value)),
      );
      if (hit >= 0) {
        bucket(g.type).tp += 1;
        got.splice(hit, 1);
      }
    }
  });
  const byType = [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, c]) => ({ type, ...prf(c.tp, c.predicted, c.gold), support: c.gold }));
  const total = [...counts.values()].reduce(
    (t, c) => ({ tp: t.tp + c.tp, predicted: t.predicted + c.predicted, gold: t.gold + c.gold }),
    { tp: 0, predicted: 0, gold: 0 },
  );
  return { byType, overall: prf(total.tp, total.predicted, total.gold) };
}

function prf(tp: number, predicted: number, gold: number): { precision: number; recall: number; f1: number } {
  const precision = predicted === 0 ? (gold === 0 ? 1 : 0) : tp / predicted;
  const recall = gold === 0 ? 1 : tp / gold;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}
