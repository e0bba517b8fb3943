import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { emptyMeta, splitFrontMatter } from './front-matter';
import { htmlSections } from './html';
import { markdownSections } from './markdown';
import { plainTextSections } from './plain-text';
import type { DocumentFormat, SourceDocument } from './source-document';

const FORMATS: Record<string, DocumentFormat> = {
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'text',
  '.text': 'text',
  '.html': 'html',
  '.htm': 'html',
};

/** Legal and folder-description files are not knowledge: they would only answer questions about themselves. */
const NOT_KNOWLEDGE = /^(license|licence|notice|copying|readme)(\.[a-z]+)?$/i;
/** "KubePodCrashLooping": a file named after an alert, the layout of most alert runbook collections. */
const ALERT_NAME = /^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+$/;

export interface LoadedDocuments {
  documents: SourceDocument[];
  /** Files that could not be read as knowledge, with the reason; the rest still load. */
  skipped: { file: string; reason: string }[];
}

/**
 * Reads every Markdown, text and HTML file under `root`. `source` paths are relative to `base` (default:
 * `root` itself), so several roots can share one namespace ("knowledge/…", "runbooks/…").
 */
export function loadDocuments(root: string, base: string = root): LoadedDocuments {
  const documents: SourceDocument[] = [];
  const skipped: LoadedDocuments['skipped'] = [];
  for (const file of walk(root)) {
    const format = FORMATS[path.extname(file).toLowerCase()];
    if (!format || NOT_KNOWLEDGE.test(path.basename(file))) continue;
    const source = path.relative(base, file).split(path.sep).join('/');
    try {
      documents.push(parseDocument(readFileSync(file), source, format));
    } catch (err) {
      skipped.push({ file: source, reason: (err as Error).message });
    }
  }
  documents.sort((a, b) => a.source.localeCompare(b.source));
  return { documents, skipped };
}

export function parseDocument(bytes: Buffer, source: string, format: DocumentFormat): SourceDocument {
  const contentHash = createHash('sha256').update(bytes).digest('hex');
  const raw = bytes.toString('utf8');
  const stem = path.basename(source, path.extname(source));
  if (format === 'html') {
    const { title, sections } = htmlSections(raw);
    return { source, format, kind: 'doc', title: title ?? stem, meta: emptyMeta(), sections, contentHash };
  }
  if (format === 'text') {
    const { title, sections } = plainTextSections(raw);
    return { source, format, kind: 'doc', title: title ?? stem, meta: emptyMeta(), sections, contentHash };
  }
  const fm = splitFrontMatter(raw, source);
  const { title: h1, sections } = markdownSections(fm.body);
  const meta = fm.meta;
  if (meta.alerts.length === 0 && ALERT_NAME.test(stem) && (h1 === stem || fm.title === undefined)) {
    meta.alerts = [stem];
  }
  const inRunbooks = source.split('/').includes('runbooks');
  const kind = fm.kind ?? (inRunbooks || meta.alerts.length > 0 ? 'runbook' : 'doc');
  return { source, format, kind, title: fm.title ?? h1 ?? stem, meta, sections, contentHash };
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile() || (entry.isSymbolicLink() && statSync(full).isFile())) yield full;
  }
}
