import { parse as parseYaml } from 'yaml';
import { LabelMatcherError, parseMatchers } from '../../engines/orchestrator/runbooks/label-matchers';
import type { DocumentKind, DocumentMeta } from './source-document';

export interface FrontMatter {
  meta: DocumentMeta;
  title?: string;
  kind?: DocumentKind;
  /** The body after the front matter. */
  body: string;
  /** Lines the front matter occupied, so body line numbers can be reported against the file. */
  lineOffset: number;
}

const FENCE = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

/** Splits YAML front matter off a Markdown file. A file without it has empty metadata; broken YAML throws. */
export function splitFrontMatter(text: string, source: string): FrontMatter {
  const match = FENCE.exec(text);
  if (!match) return { meta: emptyMeta(), body: text, lineOffset: 0 };
  let data: unknown;
  try {
    data = parseYaml(match[1] ?? '');
  } catch (err) {
    throw new Error(`${source}: front matter is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const fm = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const kind = fm.kind === 'runbook' || fm.kind === 'doc' ? fm.kind : undefined;
  return {
    meta: {
      id: optionalString(fm.id),
      description: optionalString(fm.description),
      services: stringList(fm.services),
      tags: stringList(fm.tags),
      alerts: alertNames(fm),
      owner: optionalString(fm.owner),
      lastReviewed:
        fm.last_reviewed instanceof Date
          ? fm.last_reviewed.toISOString().slice(0, 10)
          : optionalString(fm.last_reviewed),
    },
    title: optionalString(fm.title),
    kind,
    body: text.slice(match[0].length),
    lineOffset: match[0].split('\n').length - 1,
  };
}

export function emptyMeta(): DocumentMeta {
  return { services: [], tags: [], alerts: [] };
}

function optionalString(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number') return String(value);
  return undefined;
}

/**
 * The alerts a document answers: the alertname equality matchers of its runbook triggers
 * (`triggers.alerts: [{ alertname: ServiceDown }]`), and the plain `alerts:` list documents may still carry.
 * A trigger that does not parse names nothing here; `runbooks lint` reports it.
 */
function alertNames(fm: Record<string, unknown>): string[] {
  const names = stringList(fm.alerts);
  const triggers = fm.triggers as { alerts?: unknown } | null | undefined;
  const rules =
    typeof triggers === 'object' && triggers !== null && Array.isArray(triggers.alerts)
      ? triggers.alerts
      : [];
  for (const rule of rules) {
    try {
      for (const matcher of parseMatchers(rule)) {
        if (matcher.name === 'alertname' && matcher.op === '=') names.push(matcher.value);
      }
    } catch (err) {
      if (!(err instanceof LabelMatcherError)) throw err;
    }
  }
  return [...new Set(names)];
}

function stringList(value: unknown): string[] {
  if (Array.isArray(value))
    return value.filter((v) => typeof v === 'string' || typeof v === 'number').map(String);
  if (typeof value === 'string' && value.trim() !== '') return [value.trim()];
  return [];
}
