import type { Reply } from '../core/message';
import type { AnswerComposer } from '../../rag/answers/answer-composer';
import type { KnowledgeBase } from '../../rag/knowledge-base';
import type { Skill } from './skill';

/** Documents retrieved per question: the answer quotes one or two, the rest are "closest" or "see also". */
const RESULTS_PER_QUESTION = 5;

/** Answers troubleshooting and "how do I…" questions from the team's runbooks and docs, with citations. */
export function createTroubleshootSkill(deps: { knowledge: KnowledgeBase; composer: AnswerComposer }): Skill {
  return {
    intent: 'troubleshoot',
    permission: 'knowledge.read',
    summary: 'Answer troubleshooting questions from runbooks and docs',
    examples: ['why is checkout returning 502s?', 'how do I replay dead letters?'],
    slots: [],
    mutating: false,
    installed: true,
    async handle({ turn }) {
      const state = deps.knowledge.status();
      if (state.state === 'missing' || (state.state === 'building' && !state.manifest)) {
        const progress =
          state.state === 'building' && state.progress
            ? ` (${state.progress.phase} ${state.progress.done}/${state.progress.total})`
            : '';
        return notReady(
          state.state === 'building'
            ? `The runbook and docs index is still being built${progress}. Ask me again in a moment.`
            : 'The runbook and docs index has not been built yet. An operator can build it with `opsbot index build`.',
        );
      }
      if (state.state === 'error')
        return notReady(`I can't search the runbooks and docs right now: ${state.message}`);
      const results = await deps.knowledge.search(turn.text, { k: RESULTS_PER_QUESTION });
      return deps.composer.compose(turn.text, results);
    },
  };
}

function notReady(text: string): Reply {
  return {
    text,
    blocks: [
      { type: 'section', text },
      { type: 'status', badges: [{ label: 'knowledge index (RAG)', state: 'warning', detail: text }] },
    ],
  };
}
