/**
 * npm run train:nlu — retrains the intent classifier from bot/nlu/data/train.jsonl, scores it on the
 * held-out test.jsonl (which it never trains on), and writes models/intent.onnx with its model card
 * models/intent.json (data hash, metrics, date). Options: --out <dir> (default: the package's models/).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UseLiteEmbeddingProvider } from '../../rag/embeddings/use-lite-provider';
import { embedFeatureRows } from '../nlu/classifier/features';
import { classify, INTENT_MODEL_FILE, trainIntentModel } from '../nlu/classifier/intent-model';
import { loadLabelledUtterances, NLU_DATA_DIR } from '../nlu/data/labelled-utterances';
import { scoreIntents } from '../nlu/evaluation';
import { INTENTS } from '../nlu/intents';
import { packagedRuleNlu } from '../nlu/packaged-rules';
import { writeModelFiles } from './model-files';
import { parseArgs } from './script-args';

async function main(): Promise<void> {
  const args = parseArgs('train:nlu', { out: 'string' });
  const out = args.out !== undefined ? path.resolve(args.out) : path.dirname(INTENT_MODEL_FILE);
  const trainFile = path.join(NLU_DATA_DIR, 'train.jsonl');
  const train = loadLabelledUtterances(trainFile);
  const test = loadLabelledUtterances(path.join(NLU_DATA_DIR, 'test.jsonl'));
  const embeddings = new UseLiteEmbeddingProvider();
  const rules = packagedRuleNlu();
  const entities = (text: string) => rules.parse(text).entities;

  const started = performance.now();
  const trained = await trainIntentModel(train, embeddings, {
    entities,
    dataText: readFileSync(trainFile, 'utf8'),
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const testRows = await embedFeatureRows(
    embeddings,
    test.map((u) => ({ text: u.text, entities: entities(u.text) })),
  );
  const predicted = testRows.map((row) => classify(trained.model, row).intent);
  const scores = scoreIntents(
    INTENTS,
    test.map((u) => u.intent),
    predicted,
  );
  trained.card.metrics = {
    test_accuracy: round(scores.accuracy),
    test_macro_f1: round(scores.macroF1),
    train_utterances: train.length,
    test_utterances: test.length,
  };

  writeModelFiles(path.join(out, 'intent.onnx'), trained.onnx, trained.card);
  console.log(
    `train:nlu — ${train.length} training utterances, ${INTENTS.length} intents, ${embeddings.id} embeddings, trained in ${trainSeconds.toFixed(1)} s`,
  );
  console.log(
    `held-out (${test.length} utterances, classifier alone): accuracy ${scores.accuracy.toFixed(3)}, macro-F1 ${scores.macroF1.toFixed(3)}`,
  );
  console.log(
    `wrote ${path.join(out, 'intent.onnx')} and intent.json (data ${trained.card.dataHash.slice(0, 12)})`,
  );
}

const round = (x: number) => Math.round(x * 10000) / 10000;

main().catch((err) => {
  console.error(`train:nlu: ${(err as Error).message}`);
  process.exit(1);
});
