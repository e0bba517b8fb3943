import * as AC from 'adaptivecards/dist/adaptivecards.js';
import { isRecord } from '../../adapters/is-record';

/**
 * Validates an Adaptive Card against the 1.5 object model of Microsoft's `adaptivecards` SDK (the official 1.5
 * JSON Schema is not published to npm). The SDK parses the card, and every parse and validation event it
 * raises is a problem. Then its serialisation is compared with the input: the SDK drops whatever it does not
 * know (an unknown element type, a misspelt property, a value not allowed in 1.5), so a difference means the
 * input is not what it claims to be. The SDK consumes `fallback` while parsing and ignores the host-specific
 * `msteams`, so those are checked separately. (The SDK also leaves out empty arrays and default values.) Finally come the rules the SDK does not enforce but hosts do:
 * required text, fact, title and verb fields, version 1.5, and Teams's message size.
 */
export function validateAdaptiveCard(card: unknown): string[] {
  const problems: string[] = [];
  if (!isRecord(card)) return ['card: not an object'];
  if (card.type !== 'AdaptiveCard')
    problems.push(`card.type: ${JSON.stringify(card.type)} is not AdaptiveCard`);
  if (card.version !== '1.5') problems.push(`card.version: ${JSON.stringify(card.version)} is not "1.5"`);
  if (card.$schema !== undefined && card.$schema !== SCHEMA) {
    problems.push(`card.$schema: ${JSON.stringify(card.$schema)} is not ${SCHEMA}`);
  }
  if (card.msteams !== undefined) {
    if (!isRecord(card.msteams) || Object.keys(card.msteams).some((k) => k !== 'width' && k !== 'entities')) {
      problems.push('card.msteams: only width and entities are defined');
    } else if (card.msteams.width !== undefined && card.msteams.width !== 'Full') {
      problems.push(`card.msteams.width: ${JSON.stringify(card.msteams.width)} is not "Full"`);
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(card), 'utf8');
  if (bytes > TEAMS_MAX_MESSAGE_BYTES)
    problems.push(`card: ${bytes} bytes, Teams allows about ${TEAMS_MAX_MESSAGE_BYTES}`);

  const portable = { ...card };
  delete portable.msteams;
  problems.push(...roundTrip('card', portable));
  hostRules('card', card, problems);
  return problems;
}

const SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';
const TEAMS_MAX_MESSAGE_BYTES = 28 * 1024;
const VERSION = new AC.Version(1, 5);

/** Parses `json` as a card, reports the SDK's events, and compares what the SDK serialises with the input. */
function roundTrip(path: string, json: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const parsed = new AC.AdaptiveCard();
  const context = new AC.SerializationContext(VERSION);
  parsed.parse(json, context);
  for (let i = 0; i < context.eventCount; i++) {
    problems.push(`${path}: parse: ${context.getEventAt(i).message}`);
  }
  for (const event of parsed.validateProperties().validationEvents) {
    problems.push(`${path}: validation: ${event.message}`);
  }
  const output = parsed.toJSON(new AC.SerializationContext(VERSION));
  compare(path, withoutFallbacks(json), output, 'AdaptiveCard', problems);
  fallbacks(path, json, problems);
  return problems;
}

/**
 * Input and SDK output must agree. Enum values compare without case (the SDK writes "Good" for "good"); a key
 * only the output has is a default the SDK fills in. A key only the input has is fine when it is a property
 * of that object in the 1.5 model (the SDK leaves out default values), and a problem otherwise.
 */
function compare(
  path: string,
  input: unknown,
  output: unknown,
  owner: string | undefined,
  problems: string[],
): void {
  if (Array.isArray(input)) {
    if (!Array.isArray(output) || output.length !== input.length) {
      problems.push(
        `${path}: has ${input.length} items, the 1.5 object model kept ${Array.isArray(output) ? output.length : 'none'}`,
      );
      return;
    }
    input.forEach((item, i) => compare(`${path}[${i}]`, item, output[i], typeName(item), problems));
    return;
  }
  if (isRecord(input)) {
    if (!isRecord(output)) {
      problems.push(`${path}: the 1.5 object model dropped this object`);
      return;
    }
    for (const [key, value] of Object.entries(input)) {
      const at = `${path}.${key}`;
      // JSON has no undefined: such a key is never sent.
      if (value === undefined) continue;
      if (Array.isArray(value) && !(key in output)) {
        if (value.length > 0)
          problems.push(`${at}: has ${value.length} items, the 1.5 object model kept none`);
      } else if (key in output) {
        // data is the author's payload: the SDK copies it verbatim and it has no schema to look up.
        compare(at, value, output[key], key === 'data' ? undefined : typeName(value), problems);
      } else if (!(owner && knownProperty(owner, key))) {
        problems.push(`${at}: not in the Adaptive Card 1.5 object model${owner ? ` for ${owner}` : ''}`);
      }
    }
    return;
  }
  const same =
    typeof input === 'string' && typeof output === 'string'
      ? input.toLowerCase() === output.toLowerCase()
      : input === output;
  if (!same) problems.push(`${path}: ${JSON.stringify(input)} became ${JSON.stringify(output)}`);
}

const propertyNames = new Map<string, Set<string>>();

function knownProperty(owner: string, key: string): boolean {
  let names = propertyNames.get(owner);
  if (!names) {
    const instance =
      owner === 'AdaptiveCard'
        ? new AC.AdaptiveCard()
        : owner === 'Column'
          ? new AC.Column()
          : (AC.GlobalRegistry.elements.createInstance(owner, VERSION) ??
            AC.GlobalRegistry.actions.createInstance(owner, VERSION));
    names = new Set<string>();
    const schema = instance?.getSchema();
    for (let i = 0; schema && i < schema.getCount(); i++) {
      const property = schema.getItemAt(i);
      if (property.targetVersion.compareTo(VERSION) <= 0) names.add(property.name);
    }
    propertyNames.set(owner, names);
  }
  return names.has(key);
}

/** Each `fallback` must itself be valid: "drop", or an element or action the 1.5 model round-trips. */
function fallbacks(path: string, node: unknown, problems: string[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => fallbacks(`${path}[${i}]`, item, problems));
    return;
  }
  if (!isRecord(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'data') continue;
    if (key !== 'fallback') {
      fallbacks(`${path}.${key}`, value, problems);
      continue;
    }
    if (value === 'drop') continue;
    if (!isRecord(value) || typeof value.type !== 'string') {
      problems.push(`${path}.fallback: neither "drop" nor a typed element or action`);
      continue;
    }
    const wrapper = value.type.startsWith('Action.')
      ? { type: 'AdaptiveCard', version: '1.5', actions: [value] }
      : { type: 'AdaptiveCard', version: '1.5', body: [value] };
    problems.push(...roundTrip(`${path}.fallback`, wrapper));
  }
}

function withoutFallbacks(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutFallbacks);
  if (!isRecord(node)) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => key !== 'fallback')
      .map(([key, value]) => [key, key === 'data' ? value : withoutFallbacks(value)]),
  );
}

/** Fields hosts need that the SDK's validation lets pass. */
function hostRules(path: string, node: unknown, problems: string[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => hostRules(`${path}[${i}]`, item, problems));
    return;
  }
  if (!isRecord(node)) return;
  const type = node.type;
  if (type === 'TextBlock' && (typeof node.text !== 'string' || node.text.trim() === '')) {
    problems.push(`${path}.text: a TextBlock needs non-empty text`);
  }
  if (type === 'TextBlock' && typeof node.text === 'string' && brokenSurrogate(node.text)) {
    problems.push(`${path}.text: a broken surrogate pair`);
  }
  if (type === 'FactSet') {
    if (!Array.isArray(node.facts) || node.facts.length === 0)
      problems.push(`${path}.facts: not a non-empty array`);
    else {
      node.facts.forEach((fact: unknown, i) => {
        if (!isRecord(fact) || typeof fact.title !== 'string' || typeof fact.value !== 'string') {
          problems.push(`${path}.facts[${i}]: a fact needs string title and value`);
        }
      });
    }
  }
  if (typeof type === 'string' && type.startsWith('Action.')) {
    if (typeof node.title !== 'string' || node.title.trim() === '')
      problems.push(`${path}.title: an action needs a title`);
    if (type === 'Action.Execute' && (typeof node.verb !== 'string' || node.verb === '')) {
      problems.push(`${path}.verb: Action.Execute needs a verb`);
    }
  }
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'data') hostRules(`${path}.${key}`, value, problems);
  }
}

function brokenSurrogate(text: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

function typeName(value: unknown): string | undefined {
  return isRecord(value) && typeof value.type === 'string' ? value.type : undefined;
}
