/**
 * npm run bench:nlu — single-utterance latency of the NLU, warm, in this process: the rules path (no
 * embedding) and the hybrid path for utterances the rules are unsure of (embedding and ONNX included), then
 * the classifier's batch throughput (entity extraction, embedding and ONNX). Utterances are the held-out split, so nothing is a cache hit.
 */
import path from 'node:path';
import { embedFeatureRows } from '../bot/nlu/classifier/features';
import { IntentClassifier } from '../bot/nlu/classifier/intent-classifier';
import { INTENT_MODEL_FILE } from '../bot/nlu/classifier/intent-model';
import { loadLabelledUtterances, NLU_DATA_DIR } from '../bot/nlu/data/labelled-utterances';
import { HybridNlu, RULE_EXACT_CONFIDENCE } from '../bot/nlu/hybrid-nlu';
import { packagedRuleNlu } from '../bot/nlu/packaged-rules';
import { OnnxModel } from '../engines/predictors';
import { UseLiteEmbeddingProvider } from '../rag/embeddings/use-lite-provider';
import { machineLine, ms, percentile } from './bench-support';

const TARGET_P95_MS = 25;
const TARGET_RULES_P95_MS = 1;
const BATCH = 32;

async function main(): Promise<void> {
  const texts = loadLabelledUtterances(path.join(NLU_DATA_DIR, 'test.jsonl')).map((u) => u.text);
  const rules = packagedRuleNlu();
  const embeddings = new UseLiteEmbeddingProvider();
  await embeddings.ready();
  const model = await OnnxModel.load(INTENT_MODEL_FILE);
  // Nothing remembered: every timed utterance pays for its embedding and its ONNX run.
  const hybrid = new HybridNlu(rules, new IntentClassifier(embeddings, () => model, { remember: 0 }));

  // Warm-up: JIT, the embedding model's first runs, onnxruntime's first runs.
  for (const text of texts.slice(0, 50)) await hybrid.parse(text);

  const rulesMs = texts.map((text) => time(() => rules.parse(text))).sort((a, b) => a - b);
  const unsure = texts.filter((text) => {
    const ruled = rules.parse(text);
    return ruled.intent === 'out_of_scope' || ruled.confidence < RULE_EXACT_CONFIDENCE;
  });
  const hybridMs: number[] = [];
  for (const text of unsure) {
    const started = performance.now();
    await hybrid.parse(text);
    hybridMs.push(performance.now() - started);
  }
  hybridMs.sort((a, b) => a - b);

  const started = performance.now();
  let classified = 0;
  for (let i = 0; i + BATCH <= texts.length; i += BATCH) {
    const batch = texts.slice(i, i + BATCH);
    // The entities are the rules' extraction, which the classifier's delexicalisation needs: timed too.
    const vectors = await embedFeatureRows(
      embeddings,
      batch.map((text) => ({ text, entities: rules.parse(text).entities })),
    );
    const width = model.features.length;
    const rows = new Float32Array(batch.length * width);
    vectors.forEach((v, j) => rows.set(v, j * width));
    await model.predictBatch(rows, batch.length);
    classified += batch.length;
  }
  const perSecond = classified / ((performance.now() - started) / 1000);
  await model.release();

  const rulesP95 = percentile(rulesMs, 95);
  const hybridP95 = percentile(hybridMs, 95);
  console.log(`opsbot bench:nlu — ${texts.length} held-out utterances, warm, one at a time`);
  console.log(`machine: ${machineLine()}`);
  console.log(
    `rules path          p50 ${ms(percentile(rulesMs, 50))}  p95 ${ms(rulesP95)}  (every utterance)`,
  );
  console.log(
    `hybrid, unsure      p50 ${ms(percentile(hybridMs, 50))}  p95 ${ms(hybridP95)}  (${unsure.length} utterances the rules were unsure of: embedding + ONNX)`,
  );
  console.log(
    `classifier batches  ${perSecond.toFixed(0)} utterances/s (batches of ${BATCH}, embedding included)`,
  );
  const met = hybridP95 < TARGET_P95_MS && rulesP95 < TARGET_RULES_P95_MS;
  console.log(
    `target: p95 < ${TARGET_P95_MS} ms per utterance, rules p95 < ${TARGET_RULES_P95_MS} ms → ${met ? 'met' : 'NOT met'}`,
  );
  if (!met) process.exitCode = 1;
}

function time(fn: () => unknown): number {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

main().catch((err) => {
  console.error(`bench:nlu: ${(err as Error).message}`);
  process.exit(1);
});
