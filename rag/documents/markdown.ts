import type { Section } from './source-document';

const ATX_HEADING = /^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$/;
const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;
const LINK_DEFINITION = /^ {0,3}\[[^\]]+\]:\s+\S+.*$/;

/**
 * Splits Markdown into sections by its ATX headings, each with the full heading path above it. Headings
 * inside fenced code are code, not structure. The text keeps code blocks and drops Markdown syntax that
 * carries no meaning for search (link targets, images, inline HTML, emphasis markers).
 */
export function markdownSections(body: string): { title?: string; sections: Section[] } {
  const lines = body.split(/\r?\n/);
  const sections: Section[] = [];
  const path: string[] = [];
  let title: string | undefined;
  let buffer: string[] = [];
  let fence: string | undefined;

  const flush = () => {
    const text = cleanMarkdown(buffer.join('\n'));
    if (text !== '') sections.push({ headings: [...path], text });
    buffer = [];
  };

  for (const line of lines) {
    if (fence) {
      buffer.push(line);
      if (line.trimStart().startsWith(fence)) fence = undefined;
      continue;
    }
    const open = FENCE_OPEN.exec(line);
    if (open) {
      fence = (open[1] as string).slice(0, 3);
      buffer.push(line);
      continue;
    }
    const heading = ATX_HEADING.exec(line);
    if (heading) {
      flush();
      const level = (heading[1] as string).length;
      const text = cleanInline(heading[2] as string);
      if (level === 1 && title === undefined) title = text;
      path.length = Math.min(path.length, level - 1);
      while (path.length < level - 1) path.push('');
      path[level - 1] = text;
      continue;
    }
    if (LINK_DEFINITION.test(line)) continue;
    buffer.push(line);
  }
  flush();
  // Levels skipped in the source ("#" then "###") leave empty slots; drop them from every path.
  for (const section of sections) section.headings = section.headings.filter((h) => h !== '');
  return { title, sections };
}

function cleanMarkdown(text: string): string {
  const out: string[] = [];
  let inFence = false;
  for (const line of text.split('\n')) {
    if (FENCE_OPEN.test(line)) {
      // Fences stay: answers show the code as code, and the chunker must not split inside it.
      inFence = !inFence;
      out.push(line.trim());
      continue;
    }
    out.push(inFence ? line : cleanInline(line));
  }
  return out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Inline Markdown and HTML to plain text: `[text](url)` → text, `<summary>x</summary>` → x, `**a**` → a. */
function cleanInline(text: string): string {
  return text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\[[^\]]*\]/g, '$1')
    .replace(/<\/?[a-zA-Z][^>]*>/g, '')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(^|[^\w*])[*_]([^*_\n]+)[*_](?=[^\w*]|$)/g, '$1$2')
    .replace(/^\s*>\s?/, '');
}
