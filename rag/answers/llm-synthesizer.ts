import { ChatOpenAI } from '@langchain/openai';
import type { Citation } from '../../bot/core/message';
import type { AnswerSynthesizer } from './answer-composer';

const INSTRUCTIONS = [
  'You are opsbot, an operations assistant answering an on-call engineer.',
  'Answer ONLY from the numbered passages below, which come from the team runbooks and docs.',
  'Cite the passages you use as [1], [2] after the sentence that uses them.',
  'If the passages do not answer the question, say so in one sentence and cite nothing.',
  'Be brief and concrete: steps and commands, not background.',
].join(' ');

/**
 * Writes the answer's prose with a LangChain chat model behind an OpenAI-compatible endpoint
 * (OPSBOT_LLM_BASE_URL). Grounding is enforced, not hoped for: an answer that cites no passage, or a
 * passage that does not exist, is discarded and the extractive answer is shown instead.
 */
export class LlmAnswerSynthesizer implements AnswerSynthesizer {
  private readonly model: ChatOpenAI;
  private readonly redact: (text: string) => string;

  /** `redact` is the PII firewall's llm path: the question and every passage pass it before they are sent. */
  constructor(options: {
    baseUrl: string;
    model: string;
    apiKey?: string;
    timeoutMs: number;
    redact?: (text: string) => string;
  }) {
    this.redact = options.redact ?? ((text) => text);
    this.model = new ChatOpenAI({
      model: options.model,
      apiKey: options.apiKey ?? 'not-needed',
      configuration: { baseURL: options.baseUrl },
      temperature: 0,
      timeout: options.timeoutMs,
      maxRetries: 1,
    });
  }

  async synthesize(
    question: string,
    passages: { n: number; citation: Citation; text: string }[],
  ): Promise<string | undefined> {
    const context = passages
      .map((p) =>
        this.redact(
          `[${p.n}] ${p.citation.title}${p.citation.heading ? ` › ${p.citation.heading}` : ''} (${p.citation.source})\n${p.text}`,
        ),
      )
      .join('\n\n');
    let answer: string;
    try {
      const message = await this.model.invoke([
        ['system', INSTRUCTIONS],
        ['human', `Passages:\n\n${context}\n\nQuestion: ${this.redact(question)}`],
      ]);
      answer =
        typeof message.content === 'string'
          ? message.content
          : message.content.map((c) => ('text' in c ? c.text : '')).join('');
    } catch {
      return undefined; // the extractive answer stands on its own when the model is unreachable
    }
    const cited = [...answer.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    const valid = cited.length > 0 && cited.every((n) => passages.some((p) => p.n === n));
    return valid ? answer.trim() : undefined;
  }
}
