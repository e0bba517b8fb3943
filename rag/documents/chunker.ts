import { createHash } from 'node:crypto';
import type { Chunk, Section, SourceDocument } from './source-document';

/** Sections are merged up to this size, so "## Impact\nService degradation." does not stand alone. */
const TARGET_CHUNK_CHARS = 700;
/** A section longer than this is split at paragraph boundaries. */
export const MAX_CHUNK_CHARS = 1400;
/** Only a chunk this small takes in the next section; larger ones end where their section ends. */
const MERGE_BELOW_CHARS = 300;

/**
 * Heading-aware chunking: a chunk is one section, or consecutive small sections, of one document. A section
 * is split only when it is too long, and then at blank lines, never inside a code block.
 * Each chunk keeps the heading path of its first section, and the headings of the others in its text.
 */
export function chunkDocument(doc: SourceDocument): Chunk[] {
  const pieces = doc.sections.flatMap(splitLongSection);
  const chunks: Chunk[] = [];
  let current: { headings: string[]; parts: string[]; size: number } | undefined;

  const emit = () => {
    if (!current) return;
    const text = current.parts.join('\n\n');
    chunks.push({
      id: `${doc.source}#${chunks.length}`,
      source: doc.source,
      kind: doc.kind,
      title: doc.title,
      headings: current.headings,
      text,
      services: doc.meta.services,
      tags: doc.meta.tags,
      alerts: doc.meta.alerts,
      ...(doc.meta.id && doc.kind === 'runbook' ? { runbookId: doc.meta.id } : {}),
      contentHash: createHash('sha256')
        .update(`${doc.title}\n${current.headings.join('\n')}\n${text}`)
        .digest('hex'),
    });
    current = undefined;
  };

  for (const piece of pieces) {
    const newSection =
      current !== undefined && piece.headings.join('\u0000') !== current.headings.join('\u0000');
    if (
      current &&
      (current.size + piece.text.length > MAX_CHUNK_CHARS ||
        (newSection && current.size >= MERGE_BELOW_CHARS))
    )
      emit();
    if (!current) {
      current = { headings: piece.headings, parts: [piece.text], size: piece.text.length };
    } else {
      const heading = piece.headings[piece.headings.length - 1];
      const sameSection = piece.headings.join('\u0000') === current.headings.join('\u0000');
      current.parts.push(sameSection || !heading ? piece.text : `${heading}\n${piece.text}`);
      current.size += piece.text.length;
    }
    if (current.size >= TARGET_CHUNK_CHARS) emit();
  }
  emit();
  if (chunks.length === 0 && doc.meta.description) {
    // A document that is only front matter still answers to its title and description.
    return chunkDocument({ ...doc, sections: [{ headings: [], text: doc.meta.description }] });
  }
  return chunks;
}

function splitLongSection(section: Section): Section[] {
  if (section.text.length <= MAX_CHUNK_CHARS) return [section];
  const out: Section[] = [];
  let text = '';
  for (const b of paragraphs(section.text)) {
    if (text !== '' && text.length + b.length > TARGET_CHUNK_CHARS) {
      out.push({ headings: section.headings, text });
      text = '';
    }
    text = text === '' ? b : `${text}\n\n${b}`;
  }
  if (text !== '') out.push({ headings: section.headings, text });
  return out;
}

/** Paragraphs of a text, split at blank lines outside fenced code, so a code block is never cut. */
export function paragraphs(text: string): string[] {
  const out: string[] = [];
  let block: string[] = [];
  let inFence = false;
  for (const line of text.split('\n')) {
    if (/^ {0,3}(```|~~~)/.test(line)) inFence = !inFence;
    if (line.trim() === '' && !inFence) {
      if (block.length > 0) out.push(block.join('\n'));
      block = [];
    } else block.push(line);
  }
  if (block.length > 0) out.push(block.join('\n'));
  return out;
}
