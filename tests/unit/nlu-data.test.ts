import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ServiceCatalog } from '../../bot/config/catalog';
import { packageRoot } from '../../bot/core/package-root';
import {
  loadLabelledUtterances,
  NLU_DATA_DIR,
  parseMarkup,
  type LabelledEntity,
  type LabelledUtterance,
} from '../../bot/nlu/data/labelled-utterances';
import { parseDuration } from '../../bot/nlu/durations';
import { ENTITY_TYPES, INTENTS } from '../../bot/nlu/intents';
import { splitFrontMatter } from '../../rag/documents/front-matter';
import { testConfig } from '../support/runtime';

const config = testConfig();
const catalog = new ServiceCatalog(config);
const ENVIRONMENTS = Object.keys(config.environments);

const train = loadLabelledUtterances(path.join(NLU_DATA_DIR, 'train.jsonl'));
const test = loadLabelledUtterances(path.join(NLU_DATA_DIR, 'test.jsonl'));
const SPLITS: Array<[string, LabelledUtterance[]]> = [
  ['train', train],
  ['test', test],
];

const RUNBOOKS_DIR = path.join(packageRoot(), 'runbooks');
const runbookMeta = readdirSync(RUNBOOKS_DIR)
  .filter((file) => file.endsWith('.md'))
  .map((file) => splitFrontMatter(readFileSync(path.join(RUNBOOKS_DIR, file), 'utf8'), file).meta);
const RUNBOOK_IDS = new Set(runbookMeta.flatMap((meta) => (meta.id ? [meta.id] : [])));
const RUNBOOK_ALERTS = new Set(runbookMeta.flatMap((meta) => meta.alerts));

/** The rule extractor's idea of an alert name: capitalised parts, acronyms allowed between them. */
const CAMEL_CASE_ALERT = /^(?:[A-Z][a-z0-9]+|[A-Z]{2,}(?=[A-Z][a-z]|$))+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Case and spacing never make two utterances different to a classifier. */
function normalised(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The wording with every entity blanked to its type: equal templates mean one line is an entity swap. */
function template(utterance: LabelledUtterance): string {
  let out = '';
  let cursor = 0;
  for (const entity of utterance.entities) {
    out += `${utterance.text.slice(cursor, entity.start)}<${entity.type}>`;
    cursor = entity.end;
  }
  out += utterance.text.slice(cursor);
  // Punctuation only: emoji are words here (👍 and 👎 answer differently).
  return normalised(out.replace(/\p{P}/gu, ' '));
}

function entitiesOf(type: string): Array<[string, LabelledEntity, string]> {
  return SPLITS.flatMap(([split, data]) =>
    data.flatMap((u) =>
      u.entities
        .filter((e) => e.type === type)
        .map((e): [string, LabelledEntity, string] => [split, e, u.text]),
    ),
  );
}

/** Every entity of a type that breaks a rule, described so a failure names the line to fix. */
function violations(type: string, ok: (entity: LabelledEntity) => boolean): string[] {
  return entitiesOf(type)
    .filter(([, entity]) => !ok(entity))
    .map(
      ([split, entity, text]) =>
        `${split}: ${JSON.stringify(entity.value)} from "${entity.text}" in "${text}"`,
    );
}

describe('NLU data files', () => {
  it('lives under the package root, where the built bot looks for it', () => {
    expect(NLU_DATA_DIR).toBe(path.join(packageRoot(), 'bot', 'nlu', 'data'));
    expect(existsSync(path.join(NLU_DATA_DIR, 'train.jsonl'))).toBe(true);
    expect(existsSync(path.join(NLU_DATA_DIR, 'test.jsonl'))).toBe(true);
  });

  it('resolves a bare file name against NLU_DATA_DIR', () => {
    expect(loadLabelledUtterances('test.jsonl')).toEqual(test);
  });

  it.each(INTENTS)('has at least 40 training and 15 held-out utterances for %s', (intent) => {
    expect(train.filter((u) => u.intent === intent).length).toBeGreaterThanOrEqual(40);
    expect(test.filter((u) => u.intent === intent).length).toBeGreaterThanOrEqual(15);
  });

  it('uses every entity type in both splits, so the tagger is trained and scored on each', () => {
    for (const [, data] of SPLITS) {
      const used = new Set(data.flatMap((u) => u.entities.map((e) => e.type)));
      expect(ENTITY_TYPES.filter((type) => !used.has(type))).toEqual([]);
    }
  });

  it('keeps the held-out split out of training: no utterance is in both', () => {
    const trained = new Set(train.map((u) => normalised(u.text)));
    expect(test.filter((u) => trained.has(normalised(u.text))).map((u) => u.text)).toEqual([]);
  });

  it('has no utterance twice within a split', () => {
    for (const [, data] of SPLITS) {
      const seen = new Set<string>();
      const repeated: string[] = [];
      for (const u of data) {
        const key = normalised(u.text);
        if (seen.has(key)) repeated.push(u.text);
        seen.add(key);
      }
      expect(repeated).toEqual([]);
    }
  });

  it('phrases held-out utterances differently, not as entity swaps of training lines', () => {
    const trainTemplates = new Set(train.map(template));
    expect(test.filter((u) => trainTemplates.has(template(u))).map((u) => u.text)).toEqual([]);
  });

  it('gives every entity offsets that point at its text', () => {
    for (const [, data] of SPLITS) {
      for (const u of data) {
        let previousEnd = 0;
        for (const e of u.entities) {
          expect(u.text.slice(e.start, e.end)).toBe(e.text);
          expect(e.start).toBeGreaterThanOrEqual(previousEnd);
          previousEnd = e.end;
        }
      }
    }
  });
});

describe('NLU data entity values', () => {
  it('names catalog services, and an alias is labelled with the service it belongs to', () => {
    const bad = violations('service', (e) => {
      const value = String(e.value);
      const alias = catalog.resolveService(e.text);
      return catalog.get(value) !== undefined && (alias === undefined || alias === value);
    });
    expect(bad).toEqual([]);
  });

  it('names canonical environments', () => {
    const bad = violations('environment', (e) => {
      const alias = catalog.resolveEnvironment(e.text);
      return ENVIRONMENTS.includes(String(e.value)) && (alias === undefined || alias === e.value);
    });
    expect(bad).toEqual([]);
  });

  it('sets replicas to positive integers', () => {
    expect(violations('replicas', (e) => Number.isInteger(e.value) && Number(e.value) > 0)).toEqual([]);
  });

  it('sets durations to positive whole seconds that the span itself says', () => {
    const bad = violations(
      'duration',
      (e) => Number.isInteger(e.value) && Number(e.value) > 0 && parseDuration(e.text) === e.value,
    );
    expect(bad).toEqual([]);
  });

  it('leaves time ranges without a value', () => {
    expect(violations('time_range', (e) => e.value === undefined)).toEqual([]);
  });

  it('names runbooks by an id from runbooks/*.md front matter', () => {
    expect(RUNBOOK_IDS.size).toBeGreaterThan(10);
    expect(violations('runbook', (e) => RUNBOOK_IDS.has(String(e.value)))).toEqual([]);
  });

  it('names alerts from runbook front matter or as well-formed CamelCase alert names', () => {
    const wellFormed = (name: string) =>
      CAMEL_CASE_ALERT.test(name) && (name.match(/[A-Z][a-z]/g)?.length ?? 0) >= 2;
    expect(
      violations('alertname', (e) => RUNBOOK_ALERTS.has(String(e.value)) || wellFormed(String(e.value))),
    ).toEqual([]);
  });

  it('lower-cases saga ids, which are saga-<hex> or UUIDs', () => {
    const bad = violations('saga_id', (e) => {
      const value = String(e.value);
      return value === e.text.toLowerCase() && (/^saga-[0-9a-f]+$/.test(value) || UUID.test(value));
    });
    expect(bad).toEqual([]);
  });

  it('names event types as dotted lower-case names', () => {
    expect(violations('event_type', (e) => /^[a-z]+(?:\.[a-z_]+)+$/.test(String(e.value)))).toEqual([]);
  });

  it('normalises order ids to order-<digits>, keeping the digits as written', () => {
    const bad = violations('order_id', (e) => {
      const digits = e.text.replace(/\D/g, '');
      return digits !== '' && e.value === `order-${digits}`;
    });
    expect(bad).toEqual([]);
  });

  it('normalises customer ids to cus_<id>, keeping the id case-sensitive', () => {
    const bad = violations('customer_id', (e) => {
      const id = e.text.replace(/^cus_/i, '');
      return /^[A-Za-z0-9]+$/.test(id) && e.value === `cus_${id}`;
    });
    expect(bad).toEqual([]);
  });
});

describe('parseMarkup', () => {
  it('returns text without markup unchanged and with no entities', () => {
    expect(parseMarkup('is anything down (in prod)?')).toEqual({
      text: 'is anything down (in prod)?',
      entities: [],
    });
  });

  it('strips the markup and gives each entity its value and offsets, end exclusive', () => {
    expect(parseMarkup('restart [pay](service=payments) in [prod](environment=production)')).toEqual({
      text: 'restart pay in prod',
      entities: [
        { type: 'service', value: 'payments', text: 'pay', start: 8, end: 11 },
        { type: 'environment', value: 'production', text: 'prod', start: 15, end: 19 },
      ],
    });
  });

  it('uses the span as the value when no value is written', () => {
    expect(parseMarkup('what is the status of saga [saga-7f3a](saga_id)').entities).toEqual([
      { type: 'saga_id', value: 'saga-7f3a', text: 'saga-7f3a', start: 27, end: 36 },
    ]);
  });

  it('turns replicas and duration values into numbers', () => {
    expect(parseMarkup('scale [orders](service) to [5](replicas)').entities[1]).toMatchObject({ value: 5 });
    expect(parseMarkup('scale to [five](replicas=5)').entities[0]).toMatchObject({ value: 5, text: 'five' });
    expect(parseMarkup('silence [KubePodCrashLooping](alertname) for [2h](duration=7200)').entities).toEqual([
      { type: 'alertname', value: 'KubePodCrashLooping', text: 'KubePodCrashLooping', start: 8, end: 27 },
      { type: 'duration', value: 7200, text: '2h', start: 32, end: 34 },
    ]);
  });

  it('gives time_range no value', () => {
    expect(parseMarkup('mute it [until tomorrow 9am](time_range)').entities).toEqual([
      { type: 'time_range', value: undefined, text: 'until tomorrow 9am', start: 8, end: 26 },
    ]);
  });

  it('counts offsets in UTF-16 code units after emoji', () => {
    const { text, entities } = parseMarkup('🚀 restart [payments](service)');
    expect(entities[0]).toMatchObject({ start: 11, end: 19 });
    expect(text.slice(11, 19)).toBe('payments');
  });

  it('counts offsets correctly after accented letters and joined emoji', () => {
    const { text, entities } = parseMarkup(
      '👩‍💻 déjà vu: [inventaire](service=inventory) in [prod](environment=production)',
    );
    expect(entities.map((e) => text.slice(e.start, e.end))).toEqual(['inventaire', 'prod']);
    // 👩‍💻 is three code points and five UTF-16 units; é and à are one unit each.
    expect(entities[0]).toMatchObject({ start: 15, end: 25 });
  });

  it('keeps everything up to the closing parenthesis as the value', () => {
    expect(parseMarkup('[Foo](alertname=Foo=Bar)').entities[0]).toMatchObject({ value: 'Foo=Bar' });
  });

  it.each([
    ['[orders](colour)', /unknown entity type "colour"/],
    ['restart [orders(service)', /unbalanced markup: '\[' at column 9 is never closed/],
    ['restart orders](service)', /unbalanced markup: '\]' at column 15 closes nothing/],
    ['[[orders](service)](service)', /unbalanced markup: '\[' at column 2 opens inside/],
    ['[orders] is up', /unbalanced markup: .* not followed by '\(type\)'/],
    ['restart [orders](service', /unbalanced markup: '\(' at column 17 is never closed/],
    ['restart [](service)', /empty entity span/],
    ['restart [ orders](service)', /outer spaces/],
    ['silence it for [2h](duration)', /duration value "2h" .* not whole seconds/],
    ['scale to [2.5](replicas)', /replicas value "2.5" .* not a whole number/],
    ['mute [tonight](time_range=2026-01-01)', /time_range takes no value/],
    ['[orders](Service)', /malformed entity label/],
  ])('rejects %j', (markup, reason) => {
    expect(() => parseMarkup(markup)).toThrow(reason);
  });
});

describe('loadLabelledUtterances errors', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-nlu-data-'));
  const good = JSON.stringify({ text: 'restart [orders](service)', intent: 'restart_service' });
  let files = 0;

  function fileWith(lines: string[]): string {
    files += 1;
    const file = path.join(dir, `split-${files}.jsonl`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }

  it('reads a small file, skipping blank lines', () => {
    const file = fileWith([good, '', JSON.stringify({ text: 'hi', intent: 'greeting' })]);
    expect(loadLabelledUtterances(file)).toEqual([
      {
        text: 'restart orders',
        intent: 'restart_service',
        entities: [{ type: 'service', value: 'orders', text: 'orders', start: 8, end: 14 }],
      },
      { text: 'hi', intent: 'greeting', entities: [] },
    ]);
  });

  it.each<[string, string[], number, RegExp]>([
    ['bad JSON', [good, '{"text": "hi", "intent": '], 2, /bad JSON/],
    ['a line that is not an object', [good, good, '["hi", "greeting"]'], 3, /bad JSON: expected an object/],
    [
      'an unknown intent',
      [good, '', JSON.stringify({ text: 'hi', intent: 'smalltalk' })],
      3,
      /unknown intent "smalltalk"/,
    ],
    ['a missing intent', [JSON.stringify({ text: 'hi' })], 1, /unknown intent undefined/],
    [
      'a missing text',
      [good, JSON.stringify({ intent: 'greeting' })],
      2,
      /"text" must be a non-empty string/,
    ],
    [
      'an unknown entity type',
      [good, good, good, JSON.stringify({ text: 'restart [orders](svc)', intent: 'restart_service' })],
      4,
      /unknown entity type "svc"/,
    ],
    [
      'unbalanced markup',
      [good, JSON.stringify({ text: 'restart [orders(service)', intent: 'restart_service' })],
      2,
      /unbalanced markup/,
    ],
  ])('names file:line for %s', (_case, lines, line, reason) => {
    const file = fileWith(lines);
    let message = '';
    try {
      loadLabelledUtterances(file);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.startsWith(`${file}:${line}: `)).toBe(true);
    expect(message).toMatch(reason);
  });
});
