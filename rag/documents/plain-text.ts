import type { Section } from './source-document';

/** Plain text: the first non-empty line is the title; paragraphs (blank-line separated) are the body. */
export function plainTextSections(text: string): { title?: string; sections: Section[] } {
  const lines = text.split(/\r?\n/);
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) return { sections: [] };
  const title = (lines[first] as string).trim();
  const body = lines
    .slice(first + 1)
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { title, sections: body === '' ? [] : [{ headings: [], text: body }] };
}
