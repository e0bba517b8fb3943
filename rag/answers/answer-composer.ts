import type { Block, Citation, Reply } from '../../bot/core/message';
import type { Chunk } from '../documents/source-document';
import type { Passage, SearchResult } from '../index/knowledge-index';

/** Longest passage quoted in an answer; longer ones are cut at a paragraph boundary. */
const MAX_PASSAGE_CHARS = 700;
/** A second document is worth showing when it ranks this close to the first. */
const SEE_ALSO_SCORE_RATIO = 0.8;
/** Runbook sections that say what to do, quoted after the passage that matched the symptoms. */
const ACTION_SECTIONS = /^(remediate|remediation|mitigation|mitigate|fix|resolution|what to do)$/i;

export const RUN_RUNBOOK_ACTION_ID = 'runbook.run';

/** Produces an answer's text from retrieved passages, e.g. through an LLM. Must cite, or return undefined. */
export interface AnswerSynthesizer {
  synthesize(
    question: string,
    passages: { n: number; citation: Citation; text: string }[],
  ): Promise<string | undefined>;
}

export interface ComposeOptions {
  /** Below this relevance the composer says it does not know instead of quoting a weak match. */
  minRelevance: number;
  synthesizer?: AnswerSynthesizer;
}

/**
 * Grounded answers: every sentence shown comes from a retrieved passage, and every answer carries its
 * citations (source path, heading, score). With a synthesizer configured the prose is generated, but only
 * from the same passages, and it must cite them.
 */
export class AnswerComposer {
  constructor(private readonly options: ComposeOptions) {}

  async compose(question: string, results: readonly SearchResult[]): Promise<Reply> {
    const top = results[0];
    if (!top || top.relevance < this.options.minRelevance) return this.dontKnow(results);

    const quoted = quotedPassages(top);
    const seeAlso = results
      .slice(1)
      .filter((r) => r.score >= top.score * SEE_ALSO_SCORE_RATIO && r.relevance >= this.options.minRelevance)
      .slice(0, 2);
    const citations = [
      ...quoted.map((p) => citation(top, p)),
      ...seeAlso.map((r) => citation(r, r.passages[0])),
    ];
    const runbook = top.kind === 'runbook' ? runbookOf(top) : undefined;

    const synthesized = this.options.synthesizer
      ? await this.options.synthesizer.synthesize(
          question,
          [
            ...quoted.map((p) => ({ chunk: p.chunk, result: top })),
            ...seeAlso.map((r) => ({ chunk: (r.passages[0] as Passage).chunk, result: r })),
          ].map(({ chunk, result }, i) => ({
            n: i + 1,
            citation: citation(result, { chunk }),
            text: chunk.text,
          })),
        )
      : undefined;

    const lead = runbook
      ? `This matches the runbook **${top.title}** (\`${runbook.id ?? top.source}\`).`
      : `From **${top.title}**:`;
    const blocks: Block[] = [{ type: 'section', text: lead }];
    const textParts = [lead.replace(/\*\*|`/g, '')];
    if (synthesized) {
      blocks.push({ type: 'section', text: synthesized });
      textParts.push(synthesized);
    } else {
      for (const p of quoted) {
        const heading = sectionHeading(p.chunk);
        if (heading && quoted.length > 1) blocks.push({ type: 'section', text: `**${heading}**` });
        const excerpt = trimPassage(p.chunk.text);
        blocks.push(...passageBlocks(excerpt));
        textParts.push(heading ? `${heading}:\n${excerpt}` : excerpt);
      }
    }
    if (seeAlso.length > 0) {
      const line = `See also: ${seeAlso.map((r) => r.title).join('; ')}.`;
      blocks.push({ type: 'section', text: line });
      textParts.push(line);
    }
    blocks.push({ type: 'citations', citations });
    if (runbook?.executable && runbook.id) {
      blocks.push({
        type: 'buttons',
        buttons: [
          {
            actionId: RUN_RUNBOOK_ACTION_ID,
            label: `Run runbook ${runbook.id}`,
            value: `run runbook ${runbook.id}`,
            style: 'primary',
          },
        ],
      });
    }
    const sources = citations.map((c) => `[${c.source}${c.heading ? ` › ${c.heading}` : ''}]`).join(' ');
    return { text: `${textParts.join('\n\n')}\n\nSources: ${sources}`, blocks };
  }

  private dontKnow(results: readonly SearchResult[]): Reply {
    const closest = results.slice(0, 3);
    const text =
      closest.length === 0
        ? "I couldn't find anything about that in the runbooks and docs."
        : "I don't know: nothing in the runbooks and docs answers that closely enough. The closest documents are:";
    const blocks: Block[] = [{ type: 'section', text }];
    if (closest.length > 0) {
      blocks.push({ type: 'list', items: closest.map((r) => `**${r.title}** — \`${r.source}\``) });
      blocks.push({ type: 'citations', citations: closest.map((r) => citation(r, r.passages[0])) });
    }
    const list = closest.map((r) => `- ${r.title} (${r.source})`).join('\n');
    return { text: list ? `${text}\n${list}` : text, blocks };
  }
}

/** The passage that matched, and for a runbook also its remedy when the match was elsewhere (e.g. Symptoms). */
function quotedPassages(result: SearchResult): Passage[] {
  const best = result.passages[0] as Passage;
  if (result.kind !== 'runbook' || best.chunk.headings.some((h) => ACTION_SECTIONS.test(h))) return [best];
  const remedy = result.passages.find((p) => p.chunk.headings.some((h) => ACTION_SECTIONS.test(h)));
  return remedy ? [best, remedy] : [best];
}

function runbookOf(result: SearchResult): { id?: string; executable: boolean } {
  // Executable runbooks carry ```step blocks (the orchestrator's format); documents alone are not run.
  return { id: result.meta.id, executable: result.passages.some((p) => /^```step\b/m.test(p.chunk.text)) };
}

function citation(
  result: SearchResult,
  passage: { chunk: Chunk; similarity?: number; coverage?: number } | undefined,
): Citation {
  const heading = passage ? sectionHeading(passage.chunk) : undefined;
  return {
    source: result.source,
    title: result.title,
    ...(heading ? { heading } : {}),
    score: Math.round(result.relevance * 100) / 100,
  };
}

/** The heading path below the document title: "Diagnose", "Mitigation › Disk full". */
function sectionHeading(chunk: Chunk): string | undefined {
  const path = chunk.headings.filter((h) => h !== chunk.title && !chunk.alerts.includes(h));
  return path.length > 0 ? path.join(' › ') : undefined;
}

function trimPassage(text: string): string {
  if (text.length <= MAX_PASSAGE_CHARS) return text;
  const paragraphs = text.split('\n\n');
  let out = '';
  for (const p of paragraphs) {
    if (out !== '' && out.length + p.length + 2 > MAX_PASSAGE_CHARS) break;
    out = out === '' ? p : `${out}\n\n${p}`;
  }
  if (out.length > MAX_PASSAGE_CHARS) out = `${out.slice(0, MAX_PASSAGE_CHARS - 1).replace(/\s+\S*$/, '')}`;
  // A cut inside a code fence would leave it open; close it so every surface renders the rest as text.
  if ((out.match(/^```/gm) ?? []).length % 2 === 1) out += '\n```';
  return `${out}\n…`;
}

/** Quoted text as blocks: fenced code becomes code blocks, the rest sections. */
function passageBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  const parts = text.split(/^(```[^\n]*\n[\s\S]*?^```)\s*$/m);
  for (const part of parts) {
    const fence = /^```([^\n]*)\n([\s\S]*?)\n?```$/.exec(part.trim());
    if (fence) {
      blocks.push({
        type: 'code',
        code: fence[2] as string,
        ...(fence[1] ? { language: (fence[1] as string).trim() } : {}),
      });
    } else if (part.trim() !== '') {
      blocks.push({ type: 'section', text: part.trim() });
    }
  }
  return blocks;
}
