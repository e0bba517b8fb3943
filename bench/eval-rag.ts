/**
 * npm run eval:rag -- --corpus <dir> [--corpus <dir2>] --queries <jsonl> [--base <dir>] [--k 10] [--json]
 *
 * Retrieval quality of opsbot's hybrid index against two baselines, document-level, on the same corpus and
 * the same embedding model: BM25 alone over opsbot's chunks, and a plain LangChain pipeline (recursive
 * character splitter, HNSWLib vector store). Each line of the queries file is
 * {"query": "...", "expected": ["source/path.md", ...]}, sources relative to --base (default: the single
 * corpus, or the current directory when several are given). Prints recall@1, recall@3, recall@k and MRR
 * (reciprocal rank of the first expected document in the top k), timings, and opsbot's misses. Report on
 * the `*-eval.jsonl` halves in bench/rag-eval: nothing is tuned on them. The fusion weight λ
 * (SEMANTIC_WEIGHT) was chosen on the `*-tune.jsonl` halves by bench/rag-eval/tune-semantic-weight.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Document } from '@langchain/core/documents';
import { Embeddings } from '@langchain/core/embeddings';
import { HNSWLib } from '@langchain/community/vectorstores/hnswlib';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { chunkDocument } from '../rag/documents/chunker';
import { loadDocuments } from '../rag/documents/load-documents';
import type { Chunk, SourceDocument } from '../rag/documents/source-document';
import type { EmbeddingProvider } from '../rag/embeddings/embedding-provider';
import { UseLiteEmbeddingProvider } from '../rag/embeddings/use-lite-provider';
import { Bm25Index } from '../rag/index/bm25';
import { buildIndex } from '../rag/index/index-builder';
import { readIndex } from '../rag/index/index-files';
import { fieldTexts } from '../rag/index/knowledge-index';
import { parseArgs, usageError } from '../bot/cli/script-args';
import { elapsedMs, machineLine, mean, progressLine, tempDir } from './bench-support';
import { readEvalQueries, type EvalQuery } from './rag-eval/eval-queries';

const SCRIPT = 'eval:rag';

/** A retrieval system under evaluation: built once, then asked for its top k document sources per query. */
interface System {
  name: string;
  /** Chunks the system indexed. */
  chunks: number;
  buildSeconds: number;
  search(query: string, k: number): Promise<string[]>;
}

interface QueryOutcome {
  query: string;
  expected: string[];
  /** 1-based rank of the first expected document in the top k; undefined when none is there. */
  rank?: number;
  top: string[];
  ms: number;
}

interface SystemFigures {
  name: string;
  chunks: number;
  recallAt1: number;
  recallAt3: number;
  recallAtK: number;
  mrr: number;
  buildSeconds: number;
  meanQueryMs: number;
}

/** opsbot's own pipeline, as the assistant runs it: buildIndex on disk, readIndex, hybrid search. */
async function opsbotHybrid(
  corpora: string[],
  base: string,
  provider: EmbeddingProvider,
): Promise<System & { close(): void }> {
  const tmp = tempDir('opsbot-eval-rag-');
  const progress = progressLine();
  const started = performance.now();
  const report = await buildIndex({
    sources: corpora,
    base,
    out: tmp.dir,
    provider,
    onProgress: (p) => progress.update(`opsbot hybrid: ${p.phase} ${p.done}/${p.total}`),
  });
  progress.done();
  for (const s of report.skipped) console.error(`${SCRIPT}: skipped ${s.file}: ${s.reason}`);
  const { index } = readIndex(tmp.dir);
  const buildSeconds = elapsedMs(started) / 1000;
  return {
    name: 'opsbot hybrid',
    chunks: report.chunks,
    buildSeconds,
    search: async (query, k) => {
      const [vector] = await provider.embed([query]);
      return index.search(query, vector as Float32Array, { k }).map((r) => r.source);
    },
    close: tmp.remove,
  };
}

/** BM25F alone over the same chunks; a document ranks at its best chunk. */
function bm25Alone(chunks: readonly Chunk[]): System {
  const started = performance.now();
  const bm25 = Bm25Index.build(chunks.map(fieldTexts));
  const buildSeconds = elapsedMs(started) / 1000;
  return {
    name: 'BM25 alone',
    chunks: chunks.length,
    buildSeconds,
    search: async (query, k) =>
      documentsInOrder(
        bm25.search(query, chunks.length).map((h) => (chunks[h.doc] as Chunk).source),
        k,
      ),
  };
}

/** The same embedding model behind LangChain's Embeddings interface, as a LangChain user would wrap it. */
class UseLiteEmbeddings extends Embeddings {
  constructor(private readonly provider: EmbeddingProvider) {
    super({});
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    const out: number[][] = [];
    // Batches of 16, as opsbot's builder embeds, so both pipelines drive the model the same way.
    for (let i = 0; i < texts.length; i += 16) {
      const vectors = await this.provider.embed(texts.slice(i, i + 16));
      out.push(...vectors.map((v) => Array.from(v)));
    }
    return out;
  }

  async embedQuery(text: string): Promise<number[]> {
    const [vector] = await this.provider.embed([text]);
    return Array.from(vector as Float32Array);
  }
}

/**
 * A plain LangChain RAG pipeline: whole files as Documents (Markdown and text raw, HTML as its extracted
 * text, as an HTML loader would give), RecursiveCharacterTextSplitter(1000, 200), HNSWLib.fromDocuments,
 * similaritySearch(query, 4k); a document ranks where its first chunk appears.
 */
async function langchainBaseline(
  documents: readonly SourceDocument[],
  base: string,
  provider: EmbeddingProvider,
): Promise<System> {
  const started = performance.now();
  const docs = documents.map(
    (d) =>
      new Document({
        pageContent:
          d.format === 'html'
            ? d.sections.map((s) => [...s.headings, s.text].join('\n')).join('\n\n')
            : readFileSync(path.resolve(base, d.source), 'utf8'),
        metadata: { source: d.source },
      }),
  );
  const splitter = new RecursiveCharacterTextSplitter({ chunkSize: 1000, chunkOverlap: 200 });
  const splits = await splitter.splitDocuments(docs);
  const store = await HNSWLib.fromDocuments(splits, new UseLiteEmbeddings(provider));
  const buildSeconds = elapsedMs(started) / 1000;
  return {
    name: 'LangChain baseline',
    chunks: splits.length,
    buildSeconds,
    search: async (query, k) => {
      const hits = await store.similaritySearch(query, 4 * k);
      return documentsInOrder(
        hits.map((h) => String(h.metadata.source)),
        k,
      );
    },
  };
}

/** Distinct sources in order of first appearance, the first k. */
function documentsInOrder(sources: readonly string[], k: number): string[] {
  return [...new Set(sources)].slice(0, k);
}

async function evaluate(
  system: System,
  queries: readonly EvalQuery[],
  k: number,
): Promise<{ figures: SystemFigures; outcomes: QueryOutcome[] }> {
  const outcomes: QueryOutcome[] = [];
  const progress = progressLine();
  for (const [i, q] of queries.entries()) {
    progress.update(`${system.name}: query ${i + 1}/${queries.length}`);
    const started = performance.now();
    const top = await system.search(q.query, k);
    const took = elapsedMs(started);
    const index = top.findIndex((s) => q.expected.includes(s));
    outcomes.push({
      query: q.query,
      expected: q.expected,
      rank: index >= 0 ? index + 1 : undefined,
      top,
      ms: took,
    });
  }
  progress.done();
  const share = (n: number) =>
    outcomes.filter((o) => o.rank !== undefined && o.rank <= n).length / outcomes.length;
  return {
    figures: {
      name: system.name,
      chunks: system.chunks,
      recallAt1: share(1),
      recallAt3: share(3),
      recallAtK: share(k),
      mrr: mean(outcomes.map((o) => (o.rank ? 1 / o.rank : 0))),
      buildSeconds: system.buildSeconds,
      meanQueryMs: mean(outcomes.map((o) => o.ms)),
    },
    outcomes,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(SCRIPT, {
    corpus: 'strings',
    queries: 'string',
    base: 'string',
    k: 'number',
    json: 'flag',
  });
  if (args.corpus.length === 0) usageError(SCRIPT, 'give at least one --corpus <dir>');
  if (!args.queries) usageError(SCRIPT, 'give --queries <file.jsonl>');
  const k = args.k ?? 10;
  if (!Number.isInteger(k)) usageError(SCRIPT, '--k must be a whole number');
  const base = args.base ?? (args.corpus.length === 1 ? (args.corpus[0] as string) : process.cwd());
  const queries = readEvalQueries(SCRIPT, args.queries);

  const documents: SourceDocument[] = [];
  for (const corpus of args.corpus) {
    try {
      documents.push(...loadDocuments(corpus, base).documents);
    } catch (err) {
      usageError(
        SCRIPT,
        `cannot read --corpus ${corpus}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  const chunks = documents.flatMap(chunkDocument);
  const known = new Set(documents.map((d) => d.source));
  for (const q of queries) {
    const unknown = q.expected.filter((e) => !known.has(e));
    if (unknown.length > 0) {
      usageError(
        SCRIPT,
        `${q.where}: expected ${unknown.map((u) => `"${u}"`).join(', ')} not in the corpus (sources are relative to ${path.resolve(base)})`,
      );
    }
  }

  const provider = new UseLiteEmbeddingProvider();
  const modelStarted = performance.now();
  await provider.ready();
  const modelLoadSeconds = elapsedMs(modelStarted) / 1000;

  const hybrid = await opsbotHybrid(args.corpus, base, provider);
  const results: { figures: SystemFigures; outcomes: QueryOutcome[] }[] = [];
  try {
    for (const system of [hybrid, bm25Alone(chunks), await langchainBaseline(documents, base, provider)]) {
      results.push(await evaluate(system, queries, k));
    }
  } finally {
    hybrid.close();
  }

  const opsbot = results[0] as (typeof results)[number];
  const misses = opsbot.outcomes.filter((o) => o.rank !== 1);
  if (args.json) {
    console.log(
      JSON.stringify(
        {
          queries: queries.length,
          k,
          corpus: {
            sources: args.corpus,
            base: path.resolve(base),
            documents: documents.length,
            chunks: chunks.length,
          },
          embedding: { provider: provider.id, dimensions: provider.dimensions, modelLoadSeconds },
          machine: machineLine(),
          systems: results.map((r) => r.figures),
          opsbotMisses: misses.map((m) => ({
            query: m.query,
            expected: m.expected,
            rank: m.rank ?? null,
            first: m.top[0] ?? null,
          })),
        },
        null,
        2,
      ),
    );
    return;
  }

  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const rows = [
    ['system', 'recall@1', 'recall@3', `recall@${k}`, 'MRR', 'chunks', 'build', 'query (mean)'],
    ...results.map(({ figures: f }) => [
      f.name,
      pct(f.recallAt1),
      pct(f.recallAt3),
      pct(f.recallAtK),
      f.mrr.toFixed(3),
      String(f.chunks),
      `${f.buildSeconds.toFixed(2)} s`,
      `${f.meanQueryMs.toFixed(2)} ms`,
    ]),
  ];
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number)))
      .join('  ');

  console.log(`opsbot eval:rag — ${queries.length} queries from ${args.queries}, document-level, top ${k}`);
  console.log(
    `corpus:      ${args.corpus.join(', ')} — ${documents.length} documents, ${chunks.length} opsbot chunks`,
  );
  console.log(
    `embedding:   ${provider.id} (${provider.dimensions} dims, model load ${modelLoadSeconds.toFixed(1)} s, shared by the hybrid and LangChain systems)`,
  );
  console.log(`machine:     ${machineLine()}`);
  console.log('');
  console.log(line(rows[0] as string[]));
  for (const r of rows.slice(1)) console.log(line(r));
  console.log('');
  console.log(
    'build: opsbot = buildIndex + readIndex; LangChain = split + embed + HNSWLib. query: includes the query embedding (not for BM25).',
  );
  console.log('');
  console.log(
    `opsbot misses (expected document not first): ${misses.length} of ${queries.length}${misses.length > 15 ? ', first 15' : ''}`,
  );
  for (const m of misses.slice(0, 15)) {
    console.log(`  ${JSON.stringify(m.query)}`);
    console.log(
      `      expected ${m.expected.join(' | ')} → ${m.rank ? `rank ${m.rank}` : `not in top ${k}`}; first: ${m.top[0] ?? '(nothing)'}`,
    );
  }
}

main().catch((err) => {
  console.error(`${SCRIPT}: ${(err as Error).message}`);
  process.exit(1);
});
