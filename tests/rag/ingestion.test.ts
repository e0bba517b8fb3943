import path from 'node:path';
import { chunkDocument, MAX_CHUNK_CHARS } from '../../rag/documents/chunker';
import { loadDocuments, parseDocument } from '../../rag/documents/load-documents';
import { writeKnowledgeFixture } from '../support/knowledge-fixture';

describe('ingestion', () => {
  const root = writeKnowledgeFixture();
  const { documents, skipped } = loadDocuments(root);
  const doc = (source: string) => documents.find((d) => d.source === source)!;

  it('reads Markdown, HTML and text, skipping legal and folder-description files', () => {
    expect(documents.map((d) => d.source)).toEqual([
      'docs/dead-letters.md',
      'docs/handover.txt',
      'docs/status-page.html',
      'runbooks/disk-full.md',
      'runbooks/payments-errors.md',
    ]);
  });

  it('reports a file with broken front matter instead of failing the whole load', () => {
    expect(skipped).toEqual([
      {
        file: 'docs/broken.md',
        reason: expect.stringMatching(/^docs\/broken\.md: front matter is not valid YAML/),
      },
    ]);
  });

  it('keeps front matter as metadata and decides the kind', () => {
    expect(doc('runbooks/disk-full.md')).toMatchObject({
      kind: 'runbook',
      title: 'Node disk almost full',
      meta: {
        id: 'disk-full',
        alerts: ['NodeDiskAlmostFull'],
        services: ['search'],
        tags: ['disk', 'node'],
        lastReviewed: '2026-09-01',
      },
    });
    expect(doc('docs/dead-letters.md').kind).toBe('doc');
  });

  it('splits Markdown by headings with the full path, and a # inside code is not a heading', () => {
    const sections = doc('docs/dead-letters.md').sections;
    expect(sections.map((s) => s.headings)).toEqual([
      ['Dead letters and replay'],
      ['Dead letters and replay', 'Replaying'],
    ]);
    const remediate = doc('runbooks/disk-full.md').sections.find((s) => s.headings.includes('Remediate'))!;
    expect(remediate.text).toContain('# this comment is code, not a heading');
    expect(remediate.text).toContain('```sh');
  });

  it('splits HTML at its headings and drops navigation and styles', () => {
    const html = doc('docs/status-page.html');
    expect(html.title).toBe('Status page process');
    expect(html.sections.map((s) => s.headings)).toEqual([
      ['Status page process'],
      ['Status page process', 'When to post'],
    ]);
    const text = html.sections.map((s) => s.text).join('\n');
    expect(text).toContain('Within 15 minutes of a SEV1.');
    expect(text).toContain('SEV1 | yes');
    expect(text).not.toMatch(/Home \| Wiki|color:red/);
  });

  it('takes a text file title from its first line', () => {
    expect(doc('docs/handover.txt')).toMatchObject({ title: 'Shift handover checklist', format: 'text' });
  });

  it('treats a file named after an alert, with that name as its heading, as that alert runbook', () => {
    const parsed = parseDocument(
      Buffer.from('# KubePodCrashLooping\n\n## Meaning\n\nA pod restarts.'),
      'kubernetes/KubePodCrashLooping.md',
      'markdown',
    );
    expect(parsed).toMatchObject({ kind: 'runbook', meta: { alerts: ['KubePodCrashLooping'] } });
  });

  it('merges small sections into chunks that keep their heading path and content hash', () => {
    const chunks = chunkDocument(doc('runbooks/payments-errors.md'));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toMatchObject({
      id: 'runbooks/payments-errors.md#0',
      headings: ['Symptoms'],
      runbookId: 'payments-errors',
      alerts: ['PaymentsHighErrorRate'],
    });
    expect(chunks[0]!.text).toContain('Diagnose\nCheck the error ratio');
    expect(chunks[0]!.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ends a chunk at the next heading once it holds a full section (300+ characters); only smaller ones take in the next', () => {
    const sentence = (word: string) => `The ${word} step of the procedure is described in this sentence. `;
    const body = [
      '# Procedure',
      `## Symptoms\n\n${sentence('symptoms').repeat(6)}`, // ~400 characters: a chunk of its own
      `## Diagnose\n\n${sentence('diagnose')}`, // ~65: too small to stand alone
      `## Verify\n\n${sentence('verify')}`,
    ].join('\n\n');
    const chunks = chunkDocument(parseDocument(Buffer.from(body), 'procedure.md', 'markdown'));
    expect(chunks.map((c) => c.headings)).toEqual([
      ['Procedure', 'Symptoms'],
      ['Procedure', 'Diagnose'],
    ]);
    expect(chunks[0]!.text).not.toContain('Diagnose');
    expect(chunks[1]!.text).toContain('Verify\nThe verify step');
  });

  it('splits a long section at paragraph boundaries, never inside a code block', () => {
    const paragraph = 'The quick brown fox checks the payments latency dashboard again. '.repeat(6);
    const code =
      '```sh\n' +
      Array.from({ length: 12 }, (_, i) => `kubectl -n shop logs deploy/payments --tail=${i}`).join('\n\n') +
      '\n```';
    const body = `# Long\n\n## Steps\n\n${[paragraph, paragraph, code, paragraph, paragraph, paragraph].join('\n\n')}`;
    const chunks = chunkDocument(parseDocument(Buffer.from(body), 'long.md', 'markdown'));
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) {
      expect(c.text.length).toBeLessThanOrEqual(MAX_CHUNK_CHARS);
      expect((c.text.match(/```/g) ?? []).length % 2).toBe(0);
      expect(c.headings).toEqual(['Long', 'Steps']);
    }
  });

  it('chunks every shipped runbook and doc of this repository', () => {
    const repo = path.resolve(__dirname, '..', '..');
    for (const folder of ['knowledge', 'runbooks']) {
      const loaded = loadDocuments(path.join(repo, folder), repo);
      expect(loaded.skipped).toEqual([]);
      for (const d of loaded.documents) expect(chunkDocument(d).length).toBeGreaterThan(0);
    }
  });
});
