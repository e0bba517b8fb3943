import type { ServiceCatalog } from '../config/catalog';
import { findTimeRanges } from './time-ranges';
import { findDurations } from './durations';
import type { Entity, EntityType } from './intents';
import { LexiconMatcher } from './lexicon-matcher';
import { NUMBER_WORD_SOURCE, parseCount } from './numbers';

export interface EntityLexiconOptions {
  /** Runbook ids recognised wherever they are mentioned. */
  runbookIds?: string[];
  /** Alert names recognised even when they are not CamelCase ("Watchdog", "disk_full"). */
  alertNames?: string[];
}

/** When two candidate spans overlap the longer wins; on equal length, the earlier type in this list. */
const TYPE_PRIORITY: readonly EntityType[] = [
  'saga_id',
  'order_id',
  'customer_id',
  'runbook',
  'event_type',
  'alertname',
  'time_range',
  'duration',
  'replicas',
  'service',
  'environment',
];

/** "ord-88213", "ORD-12077", "order-90876", "#55102": the prefix is part of the id as written. */
const ORDER_ID_TOKEN = /(?<![\w-])(?:ord(?:er)?-|#)(\d{3,})(?![\w-])/gi;
/** "order 40311", "order no. 4410": only the number is the id; the word "order" is not the orders service. */
const ORDER_WORD_ID = /\b(order)\s+(?:id\s+|no\.?\s+|number\s+)?(\d{3,})\b/dgi;
/** "cus_9KQ2" (ids are case-sensitive after the prefix) and "customer 4411". */
const CUSTOMER_ID_TOKEN = /(?<![\w-])cus_([0-9A-Za-z]+)(?![\w-])/gi;
const CUSTOMER_WORD_ID = /\b(customer)\s+(?:id\s+)?(\d{3,})\b/dgi;

const UUID = /(?<![\w-])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\w-])/gi;
const SAGA_NUMBER = /(?<![\w-])saga-\d+(?![\w-])/gi;
/** "run 3f9c2a1b", "saga 3f9c2a1b": the first 8 hex digits of a run id, as run listings show them. */
const SHORT_RUN_ID = /\b(?:saga|run)\s+(?:id\s+)?#?([0-9a-f]{8})(?![\w-])/dgi;

const KEBAB_ID = '[a-z0-9]+(?:[-_][a-z0-9]+)+';
const RUNBOOK_ID_AFTER = new RegExp(
  `\\b(?:runbook|playbook)s?\\s*(?:[:#]\\s*|(?:id|named|called)\\s+)?[\`'"]?(${KEBAB_ID})`,
  'dgi',
);
const RUNBOOK_ID_BEFORE = new RegExp(`(?<![\\w-])(${KEBAB_ID})[\`'"]?\\s+(?:runbook|playbook)\\b`, 'dgi');

/** A Capitalised token; CAMEL_CASE_ALERT then decides whether it is an alert name. */
const CAPITALISED_TOKEN = /(?<![\w-])[A-Z][A-Za-z0-9]+(?![\w-])/g;
/** Capitalised segments, with acronyms allowed in between ("KubeAPIDown", "CPUThrottlingHigh"). */
const CAMEL_CASE_ALERT = /^(?:[A-Z][a-z0-9]+|[A-Z]{2,}(?=[A-Z][a-z]|$))+$/;
const CAPITALISED_SEGMENT = /[A-Z][a-z]/g;
/** CamelCase words that are products or Kubernetes kinds, not alerts. */
const CAMEL_CASE_NON_ALERTS = new Set(
  [
    'JavaScript',
    'TypeScript',
    'CoffeeScript',
    'GitHub',
    'GitLab',
    'GitOps',
    'BitBucket',
    'DevOps',
    'PowerShell',
    'PowerPoint',
    'SharePoint',
    'OneDrive',
    'LinkedIn',
    'YouTube',
    'WordPress',
    'WhatsApp',
    'PayPal',
    'PagerDuty',
    'OpsGenie',
    'DataDog',
    'NewRelic',
    'SendGrid',
    'MailChimp',
    'CloudWatch',
    'CloudFront',
    'CloudFlare',
    'ElasticSearch',
    'OpenSearch',
    'OpenShift',
    'OpenStack',
    'OpenTelemetry',
    'ClickHouse',
    'VictoriaMetrics',
    'MacBook',
    'PlayStation',
    'IntelliJ',
    'WebSocket',
    'WebSockets',
    'StatefulSet',
    'DaemonSet',
    'ReplicaSet',
    'ConfigMap',
    'CronJob',
    'PersistentVolume',
    'PersistentVolumeClaim',
    'NetworkPolicy',
    'LoadBalancer',
    'NodePort',
    'ClusterIP',
    'HorizontalPodAutoscaler',
  ].map((word) => word.toLowerCase()),
);

/** Dotted lower-case names (order.created); the last segment then rules out files and hosts. */
const DOTTED_NAME = /(?<![\w.@/:-])[a-z][a-z0-9_-]*(?:\.[a-z][a-z0-9_-]*)+(?![\w@/-]|\.[a-z0-9_]|:\d)/g;
const NOT_EVENT_SUFFIXES = new Set(
  (
    'md txt json yaml yml toml ini cfg conf env lock log csv tsv xml html htm css scss ts tsx js jsx mjs cjs ' +
    'py rb go rs java kt sh bash zsh ps1 sql pdf png jpg jpeg gif svg zip gz tar tgz ' +
    'com org net io dev app ai co uk de fr eu us cloud internal local localhost lan corp svc cluster example ' +
    'test edu gov info biz me sh'
  ).split(' '),
);
const NOT_EVENT_PREFIXES = new Set(['www']);

const REPLICA_NOUN = 'replicas?|instances?|pods?|copies|containers|workers';
const COUNT = `\\d{1,4}|${NUMBER_WORD_SOURCE}`;
/** "5 replicas": explicit anywhere; relative changes ("2 more pods", "by 2") are not a target count. */
const COUNT_WITH_NOUN = new RegExp(
  `(?<![\\w.#-])(?<!\\b(?:by|add|remove|another)\\s+)(${COUNT})\\s*(?:total\\s+)?(?:${REPLICA_NOUN})\\b`,
  'dgi',
);
/** Scale requests name a target bare: "to 5", "at 3", "with 4", "x5", "3x". */
const COUNT_AFTER_PREPOSITION = new RegExp(
  `\\b(?:to|at|with)\\s+(${COUNT})(?![\\w%]|[.:,]\\d|\\s*(?:%|percent))`,
  'dgi',
);
const COUNT_WITH_TIMES = /(?<![\w.])(?:[x×]\s?(\d{1,4})|(\d{1,4})\s?[x×])(?![\w%])/dgi;
const TRAILING_COUNT = /\s(\d{1,4})\s*[.!]*\s*$/d;
/** Only a scaling request gives a bare number the meaning "replica count". */
const SCALE_CONTEXT =
  /\b(?:scale[sd]?|scaling|rescale|resize|upscale|downscale|bump|sclae|replicas?|instances?|pods?|copies)\b/i;

/** A bare dialogue answer that is only a count: "5", "five", "to 5". ("5 replicas" is found like any utterance.) */
const BARE_COUNT_ANSWER = new RegExp(`^\\s*(?:to\\s+)?(${COUNT})\\s*[.!]*\\s*$`, 'di');
/** A bare dialogue answer naming an alert Alertmanager-style ("Watchdog", "disk_full"). */
const BARE_ALERT_ANSWER = /^\s*([A-Z][\w:.-]*|[a-z0-9]+(?:[_-][a-z0-9]+)+)\s*[.!]*\s*$/d;
const BARE_RUNBOOK_ANSWER = new RegExp(`^\\s*[\`'"]?(${KEBAB_ID})[\`'"]?\\s*[.!]*\\s*$`, 'di');

function escapeRegExp(word: string): string {
  return word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Case-insensitive whole-token alternation of known names, matched to their canonical spelling. */
function knownNamesPattern(names: readonly string[]): RegExp | undefined {
  if (names.length === 0) return undefined;
  const alternation = [...names]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp)
    .join('|');
  return new RegExp(`(?<![\\w-])(?:${alternation})(?![\\w-])`, 'gi');
}

/** Lower-cases without changing length, so offsets found in the lower-case copy hold for the original. */
export function lowerSameLength(text: string): string {
  const lower = text.toLowerCase();
  if (lower.length === text.length) return lower;
  let result = '';
  for (const char of text) {
    const folded = char.toLowerCase();
    result += folded.length === char.length ? folded : char;
  }
  return result;
}

/**
 * Extracts every entity type from an utterance. All patterns and lexicons are compiled once here; extraction
 * itself does no allocation-heavy work beyond the matches.
 */
export class EntityExtractor {
  private readonly services: LexiconMatcher;
  private readonly environments: LexiconMatcher;
  private readonly serviceAliases: ReadonlyMap<string, string>;
  private readonly runbookIds: ReadonlyMap<string, string>;
  private readonly knownRunbooks: RegExp | undefined;
  private readonly alertNames: ReadonlyMap<string, string>;
  private readonly knownAlerts: RegExp | undefined;

  constructor(catalog: ServiceCatalog, options: EntityLexiconOptions = {}) {
    this.serviceAliases = catalog.serviceLexicon();
    this.services = new LexiconMatcher(catalog.serviceLexicon(), { fuzzy: true });
    this.environments = new LexiconMatcher(catalog.environmentLexicon(), { fuzzy: false });
    const runbookIds = options.runbookIds ?? [];
    this.runbookIds = new Map(runbookIds.map((id) => [id.toLowerCase(), id]));
    this.knownRunbooks = knownNamesPattern(runbookIds);
    const alertNames = options.alertNames ?? [];
    this.alertNames = new Map(alertNames.map((name) => [name.toLowerCase(), name]));
    this.knownAlerts = knownNamesPattern(alertNames);
  }

  /** Entities of a whole utterance: sorted by start, non-overlapping. */
  extract(text: string): Entity[] {
    return this.collect(text, lowerSameLength(text), true);
  }

  /** The first entity of one type in a bare answer to a question that asked for it. */
  extractAnswer(type: EntityType, text: string): Entity | undefined {
    const bare = this.bareAnswer(type, text);
    if (bare) return bare;
    return this.collect(text, lowerSameLength(text), false).find((entity) => entity.type === type);
  }

  private collect(text: string, lower: string, strict: boolean): Entity[] {
    const candidates: Entity[] = [];
    const add = (type: EntityType, value: string | number, start: number, end: number): void => {
      candidates.push({ type, value, text: text.slice(start, end), start, end });
    };

    for (const match of matchesOf(UUID, text))
      add('saga_id', match[0].toLowerCase(), match.index, end(match));
    for (const match of matchesOf(SAGA_NUMBER, text))
      add('saga_id', match[0].toLowerCase(), match.index, end(match));
    for (const match of matchesOf(SHORT_RUN_ID, text)) {
      const [start, stop] = match.indices?.[1] as [number, number];
      add('saga_id', (match[1] as string).toLowerCase(), start, stop);
    }
    this.addRunbooks(text, add);
    this.addAlertNames(text, add);
    for (const match of matchesOf(DOTTED_NAME, text)) {
      const segments = match[0].split('.');
      const first = segments[0] ?? '';
      const last = segments[segments.length - 1] ?? '';
      if (segments.some((s) => s.length < 2) || NOT_EVENT_SUFFIXES.has(last) || NOT_EVENT_PREFIXES.has(first))
        continue;
      add('event_type', match[0], match.index, end(match));
    }
    const durations = findDurations(text);
    for (const span of durations) add('duration', span.seconds, span.start, span.end);
    for (const span of findTimeRanges(text, durations)) add('time_range', span.value, span.start, span.end);
    const idWords: { start: number; end: number }[] = [];
    for (const match of matchesOf(ORDER_ID_TOKEN, text)) {
      add('order_id', `order-${match[1]}`, match.index, end(match));
    }
    for (const match of matchesOf(CUSTOMER_ID_TOKEN, text)) {
      add('customer_id', `cus_${match[1]}`, match.index, end(match));
    }
    for (const [pattern, type, prefix] of [
      [ORDER_WORD_ID, 'order_id', 'order-'],
      [CUSTOMER_WORD_ID, 'customer_id', 'cus_'],
    ] as const) {
      for (const match of matchesOf(pattern, text)) {
        const [wordStart, wordEnd] = match.indices?.[1] ?? [0, 0];
        const [idStart, idEnd] = match.indices?.[2] ?? [0, 0];
        add(type, `${prefix}${match[2]}`, idStart, idEnd);
        idWords.push({ start: wordStart, end: wordEnd });
      }
    }
    const services = this.services.find(lower, strict);
    for (const mention of services) {
      // "order 40311" names an order, not the orders service.
      if (idWords.some((w) => w.start === mention.start && w.end === mention.end)) continue;
      add('service', mention.value, mention.start, mention.end);
    }
    const environments = this.environments.find(lower, strict);
    for (const mention of environments) add('environment', mention.value, mention.start, mention.end);
    if (SCALE_CONTEXT.test(text) || !strict) this.addScaleTargets(text, candidates, add);
    else for (const match of matchesOf(COUNT_WITH_NOUN, text)) addCount(match, 'whole match', add);

    return resolveOverlaps(candidates);
  }

  private addRunbooks(
    text: string,
    add: (type: EntityType, value: string, start: number, end: number) => void,
  ): void {
    if (this.knownRunbooks) {
      for (const match of matchesOf(this.knownRunbooks, text)) {
        add('runbook', this.runbookIds.get(match[0].toLowerCase()) ?? match[0], match.index, end(match));
      }
    }
    for (const pattern of [RUNBOOK_ID_AFTER, RUNBOOK_ID_BEFORE]) {
      for (const match of matchesOf(pattern, text)) {
        const [start, stop] = match.indices?.[1] ?? [match.index, end(match)];
        const id = text.slice(start, stop).toLowerCase();
        // "the payment-service runbook" names a service's runbook, not a runbook id.
        if (this.serviceAliases.has(id) && !this.runbookIds.has(id)) continue;
        add('runbook', this.runbookIds.get(id) ?? id, start, stop);
      }
    }
  }

  private addAlertNames(
    text: string,
    add: (type: EntityType, value: string, start: number, end: number) => void,
  ): void {
    if (this.knownAlerts) {
      for (const match of matchesOf(this.knownAlerts, text)) {
        add('alertname', this.alertNames.get(match[0].toLowerCase()) ?? match[0], match.index, end(match));
      }
    }
    for (const match of matchesOf(CAPITALISED_TOKEN, text)) {
      const word = match[0];
      if (!CAMEL_CASE_ALERT.test(word) || CAMEL_CASE_NON_ALERTS.has(word.toLowerCase())) continue;
      if ((word.match(CAPITALISED_SEGMENT)?.length ?? 0) < 2) continue;
      add('alertname', word, match.index, end(match));
    }
  }

  private addScaleTargets(
    text: string,
    candidates: readonly Entity[],
    add: (type: EntityType, value: number, start: number, end: number) => void,
  ): void {
    for (const match of matchesOf(COUNT_WITH_NOUN, text)) addCount(match, 'whole match', add);
    for (const match of matchesOf(COUNT_WITH_TIMES, text)) addCount(match, 'whole match', add);
    for (const match of matchesOf(COUNT_AFTER_PREPOSITION, text)) addCount(match, 'number only', add);
    // "scale payments 5": a final number straight after the service or environment it sizes.
    const trailing = TRAILING_COUNT.exec(text);
    const span = trailing?.indices?.[1];
    if (trailing && span) {
      const before = text.slice(0, trailing.index).trimEnd().length;
      const follows = candidates.some(
        (c) => (c.type === 'service' || c.type === 'environment') && c.end === before,
      );
      if (follows) add('replicas', Number(trailing[1]), span[0], span[1]);
    }
  }

  private bareAnswer(type: EntityType, text: string): Entity | undefined {
    const pattern =
      type === 'replicas'
        ? BARE_COUNT_ANSWER
        : type === 'alertname'
          ? BARE_ALERT_ANSWER
          : type === 'runbook'
            ? BARE_RUNBOOK_ANSWER
            : undefined;
    const match = pattern?.exec(text);
    const span = match?.indices?.[1];
    if (!match || !span) return undefined;
    const raw = text.slice(span[0], span[1]);
    let value: string | number | undefined;
    if (type === 'replicas') value = parseCount(raw);
    else if (type === 'alertname') value = this.alertNames.get(raw.toLowerCase()) ?? raw;
    else value = this.runbookIds.get(raw.toLowerCase()) ?? raw.toLowerCase();
    return value === undefined ? undefined : { type, value, text: raw, start: span[0], end: span[1] };
  }
}

/** "5 replicas" and "x5" span the whole match; "to 5" spans only the number, the preposition is not the count. */
function addCount(
  match: RegExpExecArray,
  extent: 'whole match' | 'number only',
  add: (type: EntityType, value: number, start: number, end: number) => void,
): void {
  const groupIndex = match[1] !== undefined ? 1 : 2;
  const span = match.indices?.[groupIndex];
  const value = parseCount(match[groupIndex] ?? '');
  if (!span || value === undefined || !Number.isInteger(value)) return;
  if (extent === 'whole match') add('replicas', value, match.index, end(match));
  else add('replicas', value, span[0], span[1]);
}

function end(match: RegExpExecArray): number {
  return match.index + match[0].length;
}

function* matchesOf(pattern: RegExp, text: string): Generator<RegExpExecArray> {
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) yield match;
}

/** Longest span first, then type priority; keeps the non-overlapping survivors in text order. */
function resolveOverlaps(candidates: Entity[]): Entity[] {
  candidates.sort(
    (a, b) =>
      b.end - b.start - (a.end - a.start) || TYPE_PRIORITY.indexOf(a.type) - TYPE_PRIORITY.indexOf(b.type),
  );
  const kept: Entity[] = [];
  for (const candidate of candidates) {
    if (kept.every((k) => candidate.end <= k.start || k.end <= candidate.start)) kept.push(candidate);
  }
  return kept.sort((a, b) => a.start - b.start);
}
