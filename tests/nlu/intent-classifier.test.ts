/** @jest-environment ./tests/support/onnx-environment.js */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ServiceCatalog } from '../../bot/config/catalog';
import { embedFeatureRows, featureNames, LEXICAL_DIMENSIONS } from '../../bot/nlu/classifier/features';
import { IntentClassifier } from '../../bot/nlu/classifier/intent-classifier';
import { INTENT_MODEL_FILE, trainIntentModel } from '../../bot/nlu/classifier/intent-model';
import { predictProbabilities } from '../../bot/nlu/classifier/softmax-regression';
import { loadLabelledUtterances } from '../../bot/nlu/data/labelled-utterances';
import { HybridNlu } from '../../bot/nlu/hybrid-nlu';
import { INTENTS } from '../../bot/nlu/intents';
import { RuleNlu } from '../../bot/nlu/rule-nlu';
import { OnnxModel, readModelMetadata, type AnyOnnxModel } from '../../engines/predictors';
import { HashingEmbeddingProvider } from '../support/hashing-embeddings';
import { testConfig } from '../support/runtime';

const QUICK = { epochs: 60, learningRate: 0.05, l2: 1e-4 };
const NOW = new Date('2026-11-21T12:00:00Z');

/** A few utterances of every intent: enough to train a small model in well under a second. */
function sample(perIntent = 4) {
  const all = loadLabelledUtterances('train.jsonl');
  return INTENTS.flatMap((intent) => all.filter((u) => u.intent === intent).slice(0, perIntent));
}

const rules = new RuleNlu(new ServiceCatalog(testConfig()));
const entities = (text: string) => rules.parse(text).entities;

async function trained(data = sample()) {
  return trainIntentModel(data, new HashingEmbeddingProvider(), {
    entities,
    training: QUICK,
    dataText: JSON.stringify(data),
    now: NOW,
  });
}

async function loadExported(result: Awaited<ReturnType<typeof trained>>): Promise<AnyOnnxModel> {
  const dir = await mkdtemp(path.join(tmpdir(), 'opsbot-intent-'));
  await writeFile(path.join(dir, 'intent.onnx'), result.onnx);
  await writeFile(path.join(dir, 'intent.json'), JSON.stringify(result.card));
  return OnnxModel.load(path.join(dir, 'intent.onnx'));
}

describe('intent classifier training and export', () => {
  it('is deterministic: the same data and options give the same weights and the same ONNX bytes', async () => {
    const [a, b] = [await trained(), await trained()];
    expect(Buffer.from(a.onnx).equals(Buffer.from(b.onnx))).toBe(true);
    expect(a.card).toEqual(b.card);
    const other = await trained(sample(5));
    expect(Buffer.from(other.onnx).equals(Buffer.from(a.onnx))).toBe(false);
    expect(other.card.dataHash).not.toBe(a.card.dataHash);
  });

  it('exports an ONNX model that agrees with the TypeScript model on the same inputs', async () => {
    const result = await trained();
    const model = await loadExported(result);
    const embeddings = new HashingEmbeddingProvider();
    const texts = ['restart payments in prod', 'is checkout ok?', 'pls silence that alert for 2h', 'hey'];
    const rows = await embedFeatureRows(
      embeddings,
      texts.map((text) => ({ text, entities: entities(text) })),
    );
    const batch = new Float32Array(rows.length * (rows[0] as Float32Array).length);
    rows.forEach((row, i) => batch.set(row, i * row.length));
    const onnx = await model.predictBatch(batch, rows.length);
    if (!('scores' in onnx)) throw new Error('expected a classifier');
    rows.forEach((row, i) => {
      const expected = predictProbabilities(result.model, row);
      expected.forEach((p, c) => expect(onnx.scores[i * INTENTS.length + c]).toBeCloseTo(p, 5));
    });
    await model.release();
  });

  it('writes a model card the predictor runtime accepts, naming every feature in order', async () => {
    const { card } = await trained();
    expect(card.labels).toEqual([...INTENTS]);
    expect(card.input.features).toEqual(featureNames('test-hashing', 64));
    expect(card.input.features).toHaveLength(64 + LEXICAL_DIMENSIONS);
    expect(card).toMatchObject({ task: 'classification', trainedAt: NOW.toISOString() });
  });
});

describe('the shipped intent model', () => {
  it('loads, matches its card and names the offline embedding model', async () => {
    const card = await readModelMetadata(INTENT_MODEL_FILE.replace(/\.onnx$/, '.json'));
    expect(card.task).toBe('classification');
    expect(card.task === 'classification' && card.labels).toEqual([...INTENTS]);
    expect(card.input.features[0]).toBe('use-lite[0]');
    expect(card.metrics.test_accuracy).toBeGreaterThan(0.85);
    const model = await OnnxModel.load(INTENT_MODEL_FILE);
    expect(model.features).toHaveLength(512 + LEXICAL_DIMENSIONS);
    await model.release();
  });
});

describe('hybrid NLU', () => {
  let model: AnyOnnxModel;
  beforeAll(async () => {
    model = await loadExported(await trained(sample(10)));
  });
  afterAll(() => model.release());

  function hybrid(getModel: () => AnyOnnxModel = () => model) {
    const embeddings = new HashingEmbeddingProvider();
    return { nlu: new HybridNlu(rules, new IntentClassifier(embeddings, getModel)), embeddings };
  }

  it('keeps exact commands exact: a confident rule answers without an embedding', async () => {
    const { nlu, embeddings } = hybrid();
    const result = await nlu.parse('restart payments in prod');
    expect(result).toEqual(rules.parse('restart payments in prod'));
    expect(embeddings.embeddedTexts).toBe(0);
  });

  it('asks the classifier when the rules are unsure, and keeps the rule entities', async () => {
    const { nlu, embeddings } = hybrid();
    const text = 'stock on stg needs bouncing';
    const result = await nlu.parse(text);
    expect(embeddings.embeddedTexts).toBe(1);
    expect(INTENTS).toContain(result.intent);
    expect(result.entities).toEqual(rules.parse(text).entities);
  });

  it('falls back to the rules when the model cannot be used', async () => {
    const { nlu } = hybrid(() => {
      throw new Error('model intent is not loaded');
    });
    expect(await nlu.parse('stock on stg needs bouncing')).toEqual(
      rules.parse('stock on stg needs bouncing'),
    );
  });

  it('refuses a model trained on other embeddings', async () => {
    const classifier = new IntentClassifier(new HashingEmbeddingProvider(0, 'another-model'), () => model);
    await expect(classifier.rank('hello', [])).rejects.toThrow(
      /trained on test-hashing embeddings, not another-model/,
    );
  });

  it('remembers the ranking of a phrasing it has read, until another model serves', async () => {
    const embeddings = new HashingEmbeddingProvider();
    let serving = model;
    const classifier = new IntentClassifier(embeddings, () => serving);
    const read = (text: string) => classifier.rank(text, entities(text));
    const first = await read('could u kick search');
    // The same phrasing about another service reads the same once delexicalised: no second embedding.
    expect(await read('could u kick billing')).toEqual(first);
    expect(embeddings.embeddedTexts).toBe(1);
    // A caller changing its copy does not change what is remembered.
    (first[0] as { probability: number }).probability = 2;
    expect((await read('could u kick search'))[0]?.probability).toBeLessThanOrEqual(1);
    serving = await loadExported(await trained(sample(6)));
    await read('could u kick search');
    expect(embeddings.embeddedTexts).toBe(2);
    await serving.release();
  });

  it('scores with the model serving after the embedding, when a reload released the one before', async () => {
    const old = await loadExported(await trained());
    let serving = old;
    const classifier = new IntentClassifier(new HashingEmbeddingProvider(50), () => serving);
    const ranking = classifier.rank('could u kick search', entities('could u kick search'));
    // The registry swaps in the new model and releases the old one while the utterance is being embedded.
    await new Promise((resolve) => setTimeout(resolve, 10));
    serving = model;
    await old.release();
    expect((await ranking)[0]?.intent).toBeDefined();
  });

  it('refuses a model of another major version, whose features were built differently', async () => {
    const result = await trained();
    result.card.version = '1.0.0';
    const old = await loadExported(result);
    const classifier = new IntentClassifier(new HashingEmbeddingProvider(), () => old);
    await expect(classifier.rank('hello', [])).rejects.toThrow(/version 1\.0\.0; this opsbot reads 2\.x/);
    await old.release();
  });

  it('reads entities by their kind: two utterances differing only in the service get the same intent scores', async () => {
    // Nothing remembered, so both are embedded and scored.
    const classifier = new IntentClassifier(new HashingEmbeddingProvider(), () => model, { remember: 0 });
    const [a, b] = ['could u kick search in stage', 'could u kick billing in prod'];
    const ranked = await Promise.all([a, b].map((text) => classifier.rank(text, entities(text))));
    expect(ranked[0]).toEqual(ranked[1]);
  });
});
