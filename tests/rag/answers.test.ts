import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AnswerComposer, RUN_RUNBOOK_ACTION_ID } from '../../rag/answers/answer-composer';
import { LlmAnswerSynthesizer } from '../../rag/answers/llm-synthesizer';
import { buildIndex } from '../../rag/index/index-builder';
import { KnowledgeBase } from '../../rag/knowledge-base';
import { KnowledgeRetriever } from '../../rag/langchain/knowledge-retriever';
import { HashingEmbeddingProvider } from '../support/hashing-embeddings';
import { FIXTURE_FILES, writeKnowledgeFixture } from '../support/knowledge-fixture';

async function knowledgeBase(files = FIXTURE_FILES): Promise<KnowledgeBase> {
  const source = writeKnowledgeFixture(files);
  const out = mkdtempSync(path.join(tmpdir(), 'opsbot-answers-'));
  const provider = new HashingEmbeddingProvider();
  await buildIndex({ sources: [source], out, provider });
  return new KnowledgeBase(out, provider).load();
}

describe('answer composer', () => {
  // The fixture runbook is short, so its Symptoms and Remediate sections form one chunk, cited by its first heading.
  it('quotes the matching runbook, its remedy, and cites every passage', async () => {
    const kb = await knowledgeBase();
    const question = 'pods evicted, node filesystem more than 90% used';
    const reply = await new AnswerComposer({ minRelevance: 0.3 }).compose(
      question,
      await kb.search(question, { k: 5 }),
    );
    expect(reply.text).toMatch(/^This matches the runbook Node disk almost full \(disk-full\)\./);
    expect(reply.blocks).toContainEqual({
      type: 'code',
      language: 'sh',
      code: expect.stringContaining('crictl rmi --prune'),
    });
    const citations = reply.blocks.find((b) => b.type === 'citations');
    expect(citations).toEqual({
      type: 'citations',
      citations: expect.arrayContaining([
        expect.objectContaining({
          source: 'runbooks/disk-full.md',
          title: 'Node disk almost full',
          heading: 'Symptoms',
          score: expect.any(Number),
        }),
      ]),
    });
    expect(reply.text).toMatch(/Sources: \[runbooks\/disk-full\.md › /);
    expect(reply.blocks.some((b) => b.type === 'buttons')).toBe(false); // a document runbook is not executable
  });

  it('says it does not know below the relevance threshold, and shows the closest documents', async () => {
    const kb = await knowledgeBase();
    // Shares one word with the status page document: a weak match, not an answer.
    const question = 'what is the capital of Australia, status check';
    const results = await kb.search(question, { k: 5 });
    expect(results.length).toBeGreaterThan(0);
    expect(results[0]!.relevance).toBeLessThan(0.9);
    const reply = await new AnswerComposer({ minRelevance: 0.9 }).compose(question, results);
    expect(reply.text).toMatch(
      /^I don't know: nothing in the runbooks and docs answers that closely enough\./,
    );
    expect(reply.blocks.map((b) => b.type)).toEqual(['section', 'list', 'citations']);
  });

  it('says so plainly when nothing matches at all', async () => {
    const reply = await new AnswerComposer({ minRelevance: 0.5 }).compose('anything', []);
    expect(reply).toEqual({
      text: "I couldn't find anything about that in the runbooks and docs.",
      blocks: [{ type: 'section', text: "I couldn't find anything about that in the runbooks and docs." }],
    });
  });

  it('offers to run a runbook that has executable steps', async () => {
    const kb = await knowledgeBase({
      'runbooks/restart.md': `---\nid: restart-payments\ntitle: Restart payments\nalerts: [PaymentsDown]\n---\n\n## Remediate\n\nRestart the payments service.\n\n\`\`\`step id=restart action=restart mutating=true\nservice: payments\n\`\`\`\n`,
    });
    const reply = await new AnswerComposer({ minRelevance: 0.2 }).compose(
      'payments down, restart it',
      await kb.search('PaymentsDown restart payments', { k: 3 }),
    );
    expect(reply.blocks).toContainEqual({
      type: 'buttons',
      buttons: [
        {
          actionId: RUN_RUNBOOK_ACTION_ID,
          label: 'Run runbook restart-payments',
          value: 'run runbook restart-payments',
          style: 'primary',
        },
      ],
    });
  });
});

/** A real OpenAI-compatible chat endpoint on loopback, answering what the test tells it to. */
async function fakeChatModel(answer: string): Promise<{ baseUrl: string; requests: any[]; server: Server }> {
  const requests: any[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests.push({ path: req.url, body: JSON.parse(body) });
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1,
          model: 'test-model',
          choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests, server };
}

describe('LLM synthesis through a LangChain chat model', () => {
  const question = 'node filesystem 90% used, how to free space?';

  /** Composes an answer to `question` through a chat model that replies `answer`. */
  async function composeWith(answer: string) {
    const model = await fakeChatModel(answer);
    const kb = await knowledgeBase();
    const composer = new AnswerComposer({
      minRelevance: 0.3,
      synthesizer: new LlmAnswerSynthesizer({ baseUrl: model.baseUrl, model: 'test-model', timeoutMs: 5000 }),
    });
    const reply = await composer.compose(question, await kb.search(question, { k: 5 }));
    model.server.close();
    return { reply, requests: model.requests };
  }

  it('sends the passages and question, and shows the cited answer with the same citations', async () => {
    const { reply, requests } = await composeWith(
      'Prune unused images with crictl rmi --prune [1], then vacuum the journal [1].',
    );
    expect(requests[0].path).toBe('/v1/chat/completions');
    const prompt = JSON.stringify(requests[0].body.messages);
    expect(prompt).toContain('crictl rmi --prune');
    expect(prompt).toContain(question);
    expect(reply.text).toContain('Prune unused images with crictl rmi --prune [1]');
    expect(reply.blocks.some((b) => b.type === 'citations')).toBe(true);
  });

  it('falls back to the extractive answer when the model cites nothing', async () => {
    const { reply } = await composeWith('Just reboot the node, it always helps.');
    expect(reply.text).not.toContain('reboot');
    expect(reply.text).toContain('crictl rmi --prune');
  });
});

describe('LangChain retriever', () => {
  it('returns LangChain Documents with citation metadata through the standard invoke()', async () => {
    const kb = await knowledgeBase();
    const docs = await new KnowledgeRetriever({ knowledge: kb, k: 2 }).invoke(
      'replay dead letters of order.created',
    );
    expect(docs).toHaveLength(2);
    expect(docs[0]!.metadata).toMatchObject({
      source: 'docs/dead-letters.md',
      title: 'Dead letters and replay',
      kind: 'doc',
    });
    expect(docs[0]!.pageContent).toContain('opsbot events dlq replay');
  });
});
