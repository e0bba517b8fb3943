import { Parser } from 'htmlparser2';
import type { Section } from './source-document';

const HEADING = /^h([1-6])$/;
const SKIPPED = new Set(['script', 'style', 'nav', 'footer', 'noscript', 'svg', 'template']);
const BLOCK = new Set([
  'p',
  'li',
  'tr',
  'pre',
  'div',
  'br',
  'dt',
  'dd',
  'blockquote',
  'section',
  'article',
  'table',
]);

/** Sections of an HTML page, split at h1–h6 like Markdown; the title from <title>, else the first h1. */
export function htmlSections(html: string): { title?: string; sections: Section[] } {
  const sections: Section[] = [];
  const path: string[] = [];
  let title: string | undefined;
  let firstH1: string | undefined;
  let text = '';
  let headingLevel = 0;
  let headingText = '';
  let inTitle = false;
  let skipDepth = 0;

  const flush = () => {
    const clean = text
      .split('\n')
      .map((l) => l.replace(/[ \t\u00a0]+/g, ' ').trim())
      .filter((l) => l !== '')
      .join('\n');
    if (clean !== '') sections.push({ headings: path.filter((h) => h !== ''), text: clean });
    text = '';
  };

  const parser = new Parser(
    {
      onopentag(name) {
        if (SKIPPED.has(name)) skipDepth += 1;
        if (name === 'title') inTitle = true;
        const heading = HEADING.exec(name);
        if (heading) {
          flush();
          headingLevel = Number(heading[1]);
          headingText = '';
        }
        if (BLOCK.has(name)) text += '\n';
        if (name === 'td' || name === 'th') text += ' | ';
      },
      ontext(data) {
        if (skipDepth > 0) return;
        if (inTitle) title = (title ?? '') + data;
        else if (headingLevel > 0) headingText += data;
        else text += data;
      },
      onclosetag(name) {
        if (SKIPPED.has(name)) skipDepth -= 1;
        if (name === 'title') inTitle = false;
        if (HEADING.test(name) && headingLevel > 0) {
          const clean = headingText.replace(/\s+/g, ' ').trim();
          if (headingLevel === 1 && firstH1 === undefined) firstH1 = clean;
          path.length = Math.min(path.length, headingLevel - 1);
          while (path.length < headingLevel - 1) path.push('');
          path[headingLevel - 1] = clean;
          headingLevel = 0;
        }
        if (BLOCK.has(name)) text += '\n';
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  flush();
  return { title: title?.replace(/\s+/g, ' ').trim() || firstH1, sections };
}
