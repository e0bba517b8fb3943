/**
 * npm run eval:nlu — trains on bot/nlu/data/train.jsonl and scores, on the held-out test.jsonl, opsbot's NLU
 * (rules alone, the classifier alone, and the hybrid that opsbot runs with `nlu.engine: hybrid`) beside NLP.js
 * (@nlpjs/nlp) trained on the same utterances and given the same entity lexicons, in one run. Prints intent
 * accuracy, macro-F1, the most frequent confusions, and entity precision/recall/F1 by type.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { containerBootstrap } from '@nlpjs/core';
import { LangEn } from '@nlpjs/lang-en-min';
import { Nlp } from '@nlpjs/nlp';
import { ServiceCatalog } from '../bot/config/catalog';
import { loadConfig } from '../bot/config/load';
import { packageRoot } from '../bot/core/package-root';
import { IntentClassifier } from '../bot/nlu/classifier/intent-classifier';
import { trainIntentModel } from '../bot/nlu/classifier/intent-model';
import { buildRuleNlu } from '../bot/nlu/build-nlu';
import {
  loadLabelledUtterances,
  NLU_DATA_DIR,
  type LabelledUtterance,
} from '../bot/nlu/data/labelled-utterances';
import { parseDuration } from '../bot/nlu/durations';
import { scoreEntities, scoreIntents, type SpanEntity } from '../bot/nlu/evaluation';
import { HybridNlu } from '../bot/nlu/hybrid-nlu';
import { INTENTS, type NluEngine } from '../bot/nlu/intents';
import { runbookLexicon } from '../bot/nlu/runbook-lexicon';
import { OnnxModel } from '../engines/predictors';
import { UseLiteEmbeddingProvider } from '../rag/embeddings/use-lite-provider';
import { machineLine, tempDir } from './bench-support';

interface SystemResult {
  name: string;
  intents: string[];
  entities: SpanEntity[][];
  /** Per utterance, the intents offered back in a "did you mean … or …?", when the engine asked. */
  asked?: (string[] | undefined)[];
}

async function main(): Promise<void> {
  const root = packageRoot();
  const trainFile = path.join(NLU_DATA_DIR, 'train.jsonl');
  const train = loadLabelledUtterances(trainFile);
  const test = loadLabelledUtterances(path.join(NLU_DATA_DIR, 'test.jsonl'));
  const config = loadConfig({ OPSBOT_CONFIG: path.join(root, 'opsbot.config.yaml') }).config;
  const catalog = new ServiceCatalog(config);
  // The rules as opsbot builds them; NLP.js is given the same runbook lexicon.
  const rules = buildRuleNlu(config, root, catalog);
  const lexicon = runbookLexicon(config.knowledge.sources.map((source) => path.resolve(root, source)));
  const testEntities = test.map((u) => rules.parse(u.text).entities);

  const embeddings = new UseLiteEmbeddingProvider();
  const trained = await trainIntentModel(train, embeddings, {
    entities: (text) => rules.parse(text).entities,
    dataText: readFileSync(trainFile, 'utf8'),
  });
  const modelDir = tempDir('opsbot-eval-nlu-');
  writeFileSync(path.join(modelDir.dir, 'intent.onnx'), trained.onnx);
  writeFileSync(path.join(modelDir.dir, 'intent.json'), JSON.stringify(trained.card));
  const model = await OnnxModel.load(path.join(modelDir.dir, 'intent.onnx'));
  const classifier = new IntentClassifier(embeddings, () => model);

  const ruled = await run('opsbot rules', rules, test);
  const classified: SystemResult = {
    name: 'opsbot classifier',
    intents: await Promise.all(
      test.map(
        async (u, i) => (await classifier.rank(u.text, testEntities[i] ?? []))[0]?.intent ?? 'out_of_scope',
      ),
    ),
    // The classifier only decides the intent; its entities are the rules'.
    entities: testEntities,
  };
  const hybrid = await run('opsbot hybrid', new HybridNlu(rules, classifier), test);
  const nlpjs = await nlpJs(train, test, catalog, lexicon);
  await model.release();
  modelDir.remove();

  console.log(
    `opsbot eval:nlu — ${train.length} training / ${test.length} held-out utterances, ${INTENTS.length} intents`,
  );
  console.log(`machine: ${machineLine()}\n`);
  const gold = test.map((u) => u.entities);
  console.log('system              intent acc  macro-F1  entity P   entity R   entity F1');
  for (const r of [ruled, classified, hybrid, nlpjs]) {
    const intents = scoreIntents(
      INTENTS,
      test.map((u) => u.intent),
      r.intents,
    );
    const entities = scoreEntities(gold, r.entities).overall;
    console.log(
      `${r.name.padEnd(20)}${fmt(intents.accuracy)}       ${fmt(intents.macroF1)}     ${fmt(entities.precision)}      ${fmt(entities.recall)}      ${fmt(entities.f1)}`,
    );
  }
  const asked = hybrid.asked ?? [];
  const questions = asked.filter((a) => a !== undefined).length;
  const rightAmong = asked.filter((a, i) => a?.includes(test[i]?.intent ?? '')).length;
  console.log(
    `\nopsbot hybrid asked "did you mean … or …?" for ${questions} utterances; the intended one was offered in ${rightAmong} (counted above by its first guess)`,
  );
  const hybridScores = scoreIntents(
    INTENTS,
    test.map((u) => u.intent),
    hybrid.intents,
  );
  console.log('\nopsbot hybrid, every confusion (expected → predicted: count)');
  const confusions = Object.entries(hybridScores.confusion)
    .flatMap(([want, row]) =>
      Object.entries(row)
        .filter(([got]) => got !== want)
        .map(([got, n]) => ({ want, got, n })),
    )
    .sort((a, b) => b.n - a.n);
  for (const c of confusions) console.log(`  ${c.want} → ${c.got}: ${c.n}`);
  console.log('\nper-intent F1            hybrid  NLP.js');
  const nlpScores = scoreIntents(
    INTENTS,
    test.map((u) => u.intent),
    nlpjs.intents,
  );
  hybridScores.perIntent.forEach((p, i) =>
    console.log(`  ${p.intent.padEnd(22)} ${fmt(p.f1)}   ${fmt(nlpScores.perIntent[i]?.f1 ?? 0)}`),
  );
  console.log('\nentity F1 by type        opsbot  NLP.js   (support)');
  const ours = scoreEntities(gold, hybrid.entities).byType;
  const theirs = new Map(scoreEntities(gold, nlpjs.entities).byType.map((t) => [t.type, t]));
  for (const t of ours) {
    if (t.support === 0) continue;
    console.log(`  ${t.type.padEnd(22)} ${fmt(t.f1)}   ${fmt(theirs.get(t.type)?.f1 ?? 0)}   (${t.support})`);
  }
}

async function run(name: string, nlu: NluEngine, test: readonly LabelledUtterance[]): Promise<SystemResult> {
  const parsed = [];
  for (const u of test) parsed.push(await nlu.parse(u.text));
  return {
    name,
    intents: parsed.map((p) => p.intent),
    entities: parsed.map((p) => p.entities),
    asked: parsed.map((p) => p.alternatives?.map((a) => a.intent)),
  };
}

/**
 * NLP.js with its defaults, trained on the same utterances, and given the lexicons opsbot knows (services and
 * environments with aliases, runbook ids, alert names, event types) plus regexes for ids and durations.
 */
async function nlpJs(
  train: readonly LabelledUtterance[],
  test: readonly LabelledUtterance[],
  catalog: ServiceCatalog,
  lexicon: { runbookIds: string[]; alertNames: string[] },
): Promise<SystemResult> {
  const container = await containerBootstrap();
  container.use(Nlp);
  container.use(LangEn);
  const nlp = container.get('nlp');
  nlp.settings.autoSave = false;
  nlp.addLanguage('en');
  // NLP.js prints every training epoch, and warns about "?" (a real way to ask for help) being all stop
  // words; the figures are what this script is for.
  const [log, warn] = [console.log, console.warn];
  console.log = console.warn = () => {};
  for (const u of train) nlp.addDocument('en', u.text, u.intent);
  const byValue = (lexiconMap: ReadonlyMap<string, string>) => {
    const options = new Map<string, string[]>();
    for (const [word, value] of lexiconMap) options.set(value, [...(options.get(value) ?? []), word]);
    return options;
  };
  for (const [value, words] of byValue(catalog.serviceLexicon()))
    nlp.addNerRuleOptionTexts('en', 'service', value, words);
  for (const [value, words] of byValue(catalog.environmentLexicon())) {
    nlp.addNerRuleOptionTexts('en', 'environment', value, words);
  }
  for (const id of lexicon.runbookIds) nlp.addNerRuleOptionTexts('en', 'runbook', id, [id]);
  for (const name of lexicon.alertNames) nlp.addNerRuleOptionTexts('en', 'alertname', name, [name]);
  const eventTypes = new Set(
    train.flatMap((u) => u.entities.filter((e) => e.type === 'event_type').map((e) => String(e.value))),
  );
  for (const type of eventTypes) nlp.addNerRuleOptionTexts('en', 'event_type', type, [type]);
  nlp.addNerRegexRule('en', 'saga_id', /saga-[0-9a-z]+/gi);
  nlp.addNerRegexRule('en', 'order_id', /\bord(?:er)?-\d+\b/gi);
  nlp.addNerRegexRule('en', 'customer_id', /\bcus_[0-9A-Za-z]+\b/g);
  nlp.addNerRegexRule('en', 'duration', /\b\d+\s*(?:h|hours?|m|min|mins|minutes?|d|days?)\b/gi);
  nlp.addNerRegexRule('en', 'replicas', /(?<=\bto\s)\d+\b/gi);
  await nlp.train();
  [console.log, console.warn] = [log, warn];

  const intents: string[] = [];
  const entities: SpanEntity[][] = [];
  for (const u of test) {
    const processed = await nlp.process('en', u.text);
    intents.push(
      (INTENTS as readonly string[]).includes(processed.intent) ? processed.intent : 'out_of_scope',
    );
    const found = await nlp.ner.process({ locale: 'en', text: u.text });
    entities.push(
      found.entities.map((e) => ({
        type: e.entity,
        start: e.start,
        end: e.end + 1, // NLP.js ends are inclusive
        value: nlpJsValue(e),
      })),
    );
  }
  return { name: 'NLP.js 4', intents, entities };
}

function nlpJsValue(e: { entity: string; option?: string; utteranceText: string }): string | number {
  if (e.option) return e.option;
  if (e.entity === 'duration') return parseDuration(e.utteranceText) ?? e.utteranceText;
  if (e.entity === 'replicas') return Number(e.utteranceText);
  if (e.entity === 'order_id') return `order-${e.utteranceText.replace(/\D/g, '')}`;
  return e.utteranceText;
}

const fmt = (x: number) => x.toFixed(3);

main().catch((err) => {
  console.error(`eval:nlu: ${(err as Error).stack}`);
  process.exit(1);
});
