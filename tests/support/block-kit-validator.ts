import { isRecord } from '../../adapters/is-record';

/**
 * Slack's documented Block Kit and chat.postMessage limits, written out here rather than taken from the
 * renderer, so that a wrong limit in the renderer fails its tests instead of passing its own check.
 */
const LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  contextElements: 10,
  /** A context element is a text object, whose text Slack caps at 3000 characters. */
  contextElementText: 3000,
  headerText: 150,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  messageText: 40000,
} as const;

/**
 * Checks a Slack message payload (chat.postMessage, chat.update or a response_url body) against Block Kit's
 * structure and documented limits, as far as opsbot uses it: section, context, actions, divider and header
 * blocks, text objects, button elements. Returns the problems found; an empty list means Slack would take it.
 * Keys other than `text` and `blocks` (channel, thread_ts, response_type, ...) are not checked.
 */
export function validateBlockKit(message: unknown): string[] {
  const problems: string[] = [];
  const report = (path: string, problem: string) => problems.push(`${path}: ${problem}`);
  if (!isRecord(message)) return ['message: not an object'];

  let blocks: unknown = message.blocks;
  if (typeof blocks === 'string') {
    // The Web API client sends blocks JSON-encoded in form bodies.
    try {
      blocks = JSON.parse(blocks);
    } catch {
      return ['blocks: a string that is not JSON'];
    }
  }
  const { text } = message;
  if (text !== undefined) {
    if (typeof text !== 'string') report('text', 'not a string');
    else {
      maxLength('text', text, LIMITS.messageText, report);
      mrkdwnEscapes('text', text, report);
      brokenSurrogates('text', text, report);
    }
  }
  if (blocks === undefined) {
    if (typeof text !== 'string' || text.trim() === '') report('message', 'neither text nor blocks');
    return problems;
  }
  if (!Array.isArray(blocks)) {
    report('blocks', 'not an array');
    return problems;
  }
  if (blocks.length === 0 && (typeof text !== 'string' || text.trim() === '')) {
    report('message', 'neither text nor blocks');
  }
  if (blocks.length > LIMITS.blocksPerMessage) {
    report('blocks', `${blocks.length} blocks, Slack allows ${LIMITS.blocksPerMessage}`);
  }

  const blockIds = new Set<string>();
  blocks.forEach((block: unknown, i) => {
    const path = `blocks[${i}]`;
    if (!isRecord(block)) {
      report(path, 'not an object');
      return;
    }
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== 'string' || block.block_id === '')
        report(`${path}.block_id`, 'not a non-empty string');
      else {
        maxLength(`${path}.block_id`, block.block_id, LIMITS.blockId, report);
        if (blockIds.has(block.block_id)) report(`${path}.block_id`, `"${block.block_id}" is not unique`);
        blockIds.add(block.block_id);
      }
    }
    switch (block.type) {
      case 'section':
        onlyKeys(path, block, ['type', 'block_id', 'text', 'fields', 'accessory', 'expand'], report);
        section(path, block, report);
        break;
      case 'context':
        onlyKeys(path, block, ['type', 'block_id', 'elements'], report);
        context(path, block, report);
        break;
      case 'actions':
        onlyKeys(path, block, ['type', 'block_id', 'elements'], report);
        actions(path, block, report);
        break;
      case 'divider':
        onlyKeys(path, block, ['type', 'block_id'], report);
        break;
      case 'header':
        onlyKeys(path, block, ['type', 'block_id', 'text'], report);
        textObject(`${path}.text`, block.text, LIMITS.headerText, report, ['plain_text']);
        break;
      case 'image':
        // An image block's picture is fetched by Slack: an absolute http(s) URL, alt text, an optional title.
        onlyKeys(path, block, ['type', 'block_id', 'image_url', 'alt_text', 'title'], report);
        if (typeof block.image_url !== 'string' || !/^https?:\/\/\S+$/.test(block.image_url))
          report(`${path}.image_url`, 'not an http(s) URL');
        else maxLength(`${path}.image_url`, block.image_url, 3000, report);
        if (typeof block.alt_text !== 'string' || block.alt_text === '')
          report(`${path}.alt_text`, 'not a non-empty string');
        else maxLength(`${path}.alt_text`, block.alt_text, 2000, report);
        if (block.title !== undefined) textObject(`${path}.title`, block.title, 2000, report, ['plain_text']);
        break;
      default:
        report(`${path}.type`, `unknown block type ${JSON.stringify(block.type)}`);
    }
  });
  return problems;
}

type Report = (path: string, problem: string) => void;

function section(path: string, block: Record<string, unknown>, report: Report): void {
  if (block.text === undefined && block.fields === undefined) report(path, 'a section needs text or fields');
  if (block.text !== undefined) textObject(`${path}.text`, block.text, LIMITS.sectionText, report);
  if (block.fields !== undefined) {
    if (!Array.isArray(block.fields) || block.fields.length === 0) {
      report(`${path}.fields`, 'not a non-empty array');
      return;
    }
    if (block.fields.length > LIMITS.fieldsPerSection) {
      report(`${path}.fields`, `${block.fields.length} fields, Slack allows ${LIMITS.fieldsPerSection}`);
    }
    block.fields.forEach((field: unknown, i) =>
      textObject(`${path}.fields[${i}]`, field, LIMITS.fieldText, report),
    );
  }
}

function context(path: string, block: Record<string, unknown>, report: Report): void {
  if (!Array.isArray(block.elements) || block.elements.length === 0) {
    report(`${path}.elements`, 'not a non-empty array');
    return;
  }
  if (block.elements.length > LIMITS.contextElements) {
    report(`${path}.elements`, `${block.elements.length} elements, Slack allows ${LIMITS.contextElements}`);
  }
  block.elements.forEach((element: unknown, i) => {
    const at = `${path}.elements[${i}]`;
    if (isRecord(element) && element.type === 'image') {
      onlyKeys(at, element, ['type', 'image_url', 'alt_text'], report);
      if (typeof element.image_url !== 'string' || !/^https:\/\//.test(element.image_url)) {
        report(`${at}.image_url`, 'not an https URL');
      }
      if (typeof element.alt_text !== 'string' || element.alt_text === '')
        report(`${at}.alt_text`, 'missing');
    } else {
      textObject(at, element, LIMITS.contextElementText, report);
    }
  });
}

function actions(path: string, block: Record<string, unknown>, report: Report): void {
  if (!Array.isArray(block.elements) || block.elements.length === 0) {
    report(`${path}.elements`, 'not a non-empty array');
    return;
  }
  if (block.elements.length > LIMITS.actionsElements) {
    report(`${path}.elements`, `${block.elements.length} elements, Slack allows ${LIMITS.actionsElements}`);
  }
  const actionIds = new Set<string>();
  block.elements.forEach((element: unknown, i) => {
    const at = `${path}.elements[${i}]`;
    if (!isRecord(element) || element.type !== 'button') {
      report(at, 'not a button (the only element opsbot renders)');
      return;
    }
    onlyKeys(
      at,
      element,
      ['type', 'text', 'action_id', 'value', 'url', 'style', 'confirm', 'accessibility_label'],
      report,
    );
    textObject(`${at}.text`, element.text, LIMITS.buttonText, report, ['plain_text']);
    if (element.action_id !== undefined) {
      if (typeof element.action_id !== 'string' || element.action_id === '') {
        report(`${at}.action_id`, 'not a non-empty string');
      } else {
        maxLength(`${at}.action_id`, element.action_id, LIMITS.actionId, report);
        if (actionIds.has(element.action_id))
          report(`${at}.action_id`, `"${element.action_id}" repeats in its block`);
        actionIds.add(element.action_id);
      }
    }
    if (element.value !== undefined) {
      if (typeof element.value !== 'string' || element.value === '')
        report(`${at}.value`, 'not a non-empty string');
      else maxLength(`${at}.value`, element.value, LIMITS.buttonValue, report);
    }
    if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') {
      report(`${at}.style`, `${JSON.stringify(element.style)} is not primary or danger`);
    }
  });
}

function textObject(
  path: string,
  value: unknown,
  max: number,
  report: Report,
  types: ('plain_text' | 'mrkdwn')[] = ['plain_text', 'mrkdwn'],
): void {
  if (!isRecord(value)) {
    report(path, 'not a text object');
    return;
  }
  if (!types.includes(value.type as 'plain_text' | 'mrkdwn')) {
    report(`${path}.type`, `${JSON.stringify(value.type)} is not ${types.join(' or ')}`);
    return;
  }
  onlyKeys(
    path,
    value,
    value.type === 'plain_text' ? ['type', 'text', 'emoji'] : ['type', 'text', 'verbatim'],
    report,
  );
  if (value.emoji !== undefined && typeof value.emoji !== 'boolean') report(`${path}.emoji`, 'not a boolean');
  if (value.verbatim !== undefined && typeof value.verbatim !== 'boolean')
    report(`${path}.verbatim`, 'not a boolean');
  if (typeof value.text !== 'string' || value.text.trim() === '') {
    report(`${path}.text`, 'empty or not a string');
    return;
  }
  maxLength(`${path}.text`, value.text, max, report);
  brokenSurrogates(`${path}.text`, value.text, report);
  if (value.type === 'mrkdwn') mrkdwnEscapes(`${path}.text`, value.text, report);
}

/** Slack reads & < > as control characters: outside an entity or a <...> sequence they must be escaped. */
function mrkdwnEscapes(path: string, text: string, report: Report): void {
  const outside = text.replace(/<(?:https?:\/\/|mailto:|@|#|!)[^<>\s]*(?:\|[^<>]*)?>/g, '');
  if (/<|>/.test(outside.replace(/^>/gm, ''))) report(path, 'an unescaped < or > outside a link or mention');
  if (/&(?!amp;|lt;|gt;)/.test(outside)) report(path, 'an unescaped &');
}

function brokenSurrogates(path: string, text: string, report: Report): void {
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)) {
    report(path, 'a broken surrogate pair');
  }
}

function maxLength(path: string, text: string, max: number, report: Report): void {
  if (text.length > max) report(path, `${text.length} characters, Slack allows ${max}`);
}

function onlyKeys(path: string, value: Record<string, unknown>, allowed: string[], report: Report): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) report(`${path}.${key}`, 'not a Block Kit property here');
  }
}
