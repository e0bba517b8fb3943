import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chunkDocument } from '../../rag/documents/chunker';
import { parseDocument } from '../../rag/documents/load-documents';
import { Bm25Index } from '../../rag/index/bm25';
import { buildIndex } from '../../rag/index/index-builder';
import { readIndex } from '../../rag/index/index-files';
import { fieldTexts, KnowledgeIndex, type IndexedDocument } from '../../rag/index/knowledge-index';
import { VectorIndex } from '../../rag/index/vector-index';
import { KnowledgeBase } from '../../rag/knowledge-base';
import { HashingEmbeddingProvider } from '../support/hashing-embeddings';
import { FIXTURE_FILES, writeKnowledgeFixture } from '../support/knowledge-fixture';

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'opsbot-index-'));

async function builtIndex(provider = new HashingEmbeddingProvider()) {
  const source = writeKnowledgeFixture();
  const out = tempDir();
  const report = await buildIndex({ sources: [source], out, provider });
  return { source, out, report, provider, kb: new KnowledgeBase(out, provider).load() };
}

describe('hybrid index', () => {
  it('finds the document that answers, by words and by alert name, with sources relative to the root', async () => {
    const { kb, report } = await builtIndex();
    expect(report).toMatchObject({
      documents: 5,
      chunks: expect.any(Number),
      reused: 0,
      skipped: [{ file: 'docs/broken.md' }],
    });
    const top = async (q: string) => (await kb.search(q, { k: 3 }))[0]!;
    expect((await top('how do I replay dead letters for order.created')).source).toBe('docs/dead-letters.md');
    expect((await top('card charges failing with 500 at checkout')).source).toBe(
      'runbooks/payments-errors.md',
    );
    expect((await top('NodeDiskAlmostFull is firing')).source).toBe('runbooks/disk-full.md');
    expect((await top('when do we post on the status page?')).source).toBe('docs/status-page.html');
  });

  it('returns scores in 0..1, best first, with the quoted passage and its heading', async () => {
    const { kb } = await builtIndex();
    const results = await kb.search('remove unused container images to free disk space', { k: 5 });
    expect(results[0]).toMatchObject({
      source: 'runbooks/disk-full.md',
      kind: 'runbook',
      meta: { id: 'disk-full' },
    });
    expect(results[0]!.passages[0]!.chunk.text).toContain('crictl rmi --prune');
    const scores = results.map((r) => r.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    for (const r of results) {
      expect(r.score).toBeGreaterThanOrEqual(0);
      expect(r.score).toBeLessThanOrEqual(1);
    }
  });

  it('filters by kind, service and tags', async () => {
    const { kb } = await builtIndex();
    const runbooksOnly = await kb.search('dead letters replay', { k: 5, filter: { kind: 'runbook' } });
    expect(runbooksOnly.every((r) => r.kind === 'runbook')).toBe(true);
    expect(
      (await kb.search('errors', { k: 5, filter: { service: 'payments' } })).map((r) => r.source),
    ).toEqual(['runbooks/payments-errors.md']);
    expect(
      (await kb.search('free space', { k: 5, filter: { tags: ['disk', 'node'] } })).map((r) => r.source),
    ).toEqual(['runbooks/disk-full.md']);
  });

  it('persists: a reloaded index answers exactly as the one built', async () => {
    const { out, kb, provider } = await builtIndex();
    const again = new KnowledgeBase(out, provider).load();
    const q = 'status page within 15 minutes of a SEV1';
    expect(await again.search(q, { k: 5 })).toEqual(await kb.search(q, { k: 5 }));
  });

  it('re-embeds only what changed, keyed by content hash', async () => {
    const { source, out, provider } = await builtIndex();
    const before = provider.embeddedTexts;
    writeFileSync(
      path.join(source, 'docs/handover.txt'),
      `${FIXTURE_FILES['docs/handover.txt']}\nPager handed to the secondary.`,
    );
    const report = await buildIndex({ sources: [source], out, provider });
    expect(report.embedded).toBe(2); // the changed chunk and its document's lead
    expect(provider.embeddedTexts - before).toBe(2);
    expect(report.reused).toBeGreaterThan(0);
  });

  it('replaces the index atomically: CURRENT moves to a complete new generation, the previous one is kept', async () => {
    const { source, out, provider } = await builtIndex();
    await buildIndex({ sources: [source], out, provider });
    await buildIndex({ sources: [source], out, provider });
    expect(readFileSync(path.join(out, 'CURRENT'), 'utf8').trim()).toBe('gen-000003');
    expect(readdirSync(out).sort()).toEqual(['CURRENT', 'gen-000002', 'gen-000003']);
    expect(readIndex(out).manifest).toMatchObject({ generation: 'gen-000003', documents: 5 });
  });
});

describe('passages of a result', () => {
  // Two sections of 300+ characters each: two chunks per document.
  const files: Record<string, string> = {
    'runbooks/paylane-errors.md': [
      '---\nid: paylane-errors\ntitle: PayLane errors\n---',
      `## Symptoms\n\n${'Card charges declined at checkout; the storefront shows a 500 page to shoppers. '.repeat(5)}`,
      `## Remediate\n\n${'Roll back the last release: kubectl rollout undo deployment/pay-api, then watch the dashboard. '.repeat(4)}`,
    ].join('\n\n'),
    'docs/finance-notes.md': [
      '# Finance notes',
      `## Incidents\n\n${'Card charges declined at checkout twice last year; the storefront showed a 500 page. '.repeat(5)}`,
      `## Contacts\n\n${'Ask the finance team on their channel for settlement reports and refund questions. '.repeat(4)}`,
    ].join('\n\n'),
  };

  /** An index with no chunk vectors: the only scored passages are the lexical candidates, known exactly. */
  function lexicalOnlyIndex(): KnowledgeIndex {
    const docs = Object.entries(files).map(([source, text]) =>
      parseDocument(Buffer.from(text), source, 'markdown'),
    );
    const chunks = docs.flatMap(chunkDocument);
    const documents: IndexedDocument[] = docs.map((d) => ({
      source: d.source,
      title: d.title,
      kind: d.kind,
      format: d.format,
      meta: d.meta,
      contentHash: d.contentHash,
      leadHash: d.contentHash,
    }));
    const dimensions = 4;
    return new KnowledgeIndex(
      documents,
      chunks,
      Bm25Index.build(chunks.map(fieldTexts)),
      VectorIndex.build([], dimensions),
      documents.map(() => new Float32Array(dimensions)),
    );
  }

  it("quote a runbook's remedy even when only its symptoms matched; a doc quotes only what matched", () => {
    const index = lexicalOnlyIndex();
    expect(index.chunks.map((c) => c.headings.at(-1))).toEqual([
      'Symptoms',
      'Remediate',
      'Incidents',
      'Contacts',
    ]);
    const results = index.search('charges declined at checkout, storefront 500', new Float32Array(4), {
      k: 5,
    });
    const headings = (source: string) =>
      results.find((r) => r.source === source)!.passages.map((p) => p.chunk.headings.at(-1));
    expect(headings('runbooks/paylane-errors.md')).toEqual(['Symptoms', 'Remediate']);
    expect(headings('docs/finance-notes.md')).toEqual(['Incidents']);
  });
});

describe('damaged indexes', () => {
  it('refuses a corrupt file with a clear error, and a rebuild repairs it', async () => {
    const { source, out, provider } = await builtIndex();
    const vectors = path.join(out, 'gen-000001', 'vectors.f32');
    const bytes = readFileSync(vectors);
    bytes[10] = (bytes[10] ?? 0) ^ 0xff;
    writeFileSync(vectors, bytes);
    expect(() => readIndex(out)).toThrow(
      /knowledge index at .* is corrupt: vectors\.f32 does not match its checksum; rebuild it with "opsbot index build"/,
    );
    expect(new KnowledgeBase(out, provider).load().status()).toMatchObject({
      state: 'error',
      message: expect.stringMatching(/corrupt/),
    });
    await buildIndex({ sources: [source], out, provider });
    expect(readIndex(out).manifest.generation).toBe('gen-000002');
  });

  it('refuses an index written in another format version', async () => {
    const { out } = await builtIndex();
    const manifest = path.join(out, 'gen-000001', 'manifest.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"version": 1', '"version": 0'));
    expect(() => readIndex(out)).toThrow(expect.objectContaining({ code: 'index_version_mismatch' }));
  });

  it('says when there is no index', () => {
    expect(() => readIndex(tempDir())).toThrow(
      expect.objectContaining({
        code: 'index_missing',
        message: expect.stringMatching(/opsbot index build/),
      }),
    );
  });

  it('refuses to answer from vectors of another embedding model', async () => {
    const { out } = await builtIndex();
    const other = new KnowledgeBase(out, new HashingEmbeddingProvider(0, 'another-model')).load();
    await expect(other.search('disk', { k: 1 })).rejects.toMatchObject({ code: 'index_version_mismatch' });
  });
});

describe('knowledge base while re-indexing', () => {
  it('keeps answering from the previous generation until the new one is complete, then swaps', async () => {
    const source = writeKnowledgeFixture();
    const out = tempDir();
    const fast = new HashingEmbeddingProvider();
    await buildIndex({ sources: [source], out, provider: fast });
    const slow = new HashingEmbeddingProvider(150);
    const kb = new KnowledgeBase(out, slow).load();
    writeFileSync(
      path.join(source, 'docs/new-doc.md'),
      '# Certificate rotation\n\nRotate the gateway TLS certificate with cert-manager renew.',
    );

    const rebuild = kb.refresh([source], source);
    expect(kb.status()).toMatchObject({ state: 'building', manifest: { generation: 'gen-000001' } });
    const during = await kb.search('rotate the gateway TLS certificate', { k: 5 });
    expect(during.map((r) => r.source)).not.toContain('docs/new-doc.md');
    const report = await rebuild;
    expect(report?.manifest.generation).toBe('gen-000002');
    expect(kb.status()).toMatchObject({ state: 'ready', manifest: { generation: 'gen-000002' } });
    expect((await kb.search('rotate the gateway TLS certificate', { k: 1 }))[0]!.source).toBe(
      'docs/new-doc.md',
    );
    expect(await kb.refresh([source], source)).toBeUndefined(); // nothing changed: no rebuild
  });

  it('picks up a generation written by another process', async () => {
    const { source, out, provider, kb } = await builtIndex();
    expect(kb.reloadIfChanged()).toBe(false);
    await buildIndex({ sources: [source], out, provider });
    expect(kb.reloadIfChanged()).toBe(true);
    expect(kb.status()).toMatchObject({ manifest: { generation: 'gen-000002' } });
  });
});
