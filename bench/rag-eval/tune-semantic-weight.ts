/**
 * node dist/bench/rag-eval/tune-semantic-weight.js --set <queries.jsonl>=<corpus>[,<corpus>] [--set …] [--k 10]
 *
 * Chooses λ, the semantic weight of opsbot's fused score (SEMANTIC_WEIGHT in rag/index/knowledge-index.ts),
 * on tuning queries only. Each --set is a query file and the corpus folders it is about (sources relative to
 * the single corpus, or to the current directory when several are given, as in eval:rag). Every set's index
 * is built once with the offline embedding model; then, for each λ of the grid, the script prints each set's
 * document-level recall@1 and MRR, and names the λ with the best mean recall@1 over the sets (ties: best mean
 * MRR, then the smaller λ). Run it on the *-tune.jsonl files only: the *-eval.jsonl files are what eval:rag
 * reports, and a λ chosen on them would make those figures optimistic.
 */
import path from 'node:path';
import { parseArgs, usageError } from '../../bot/cli/script-args';
import { UseLiteEmbeddingProvider } from '../../rag/embeddings/use-lite-provider';
import { buildIndex } from '../../rag/index/index-builder';
import { readIndex } from '../../rag/index/index-files';
import { SEMANTIC_WEIGHT, type KnowledgeIndex } from '../../rag/index/knowledge-index';
import { machineLine, mean, tempDir } from '../bench-support';
import { readEvalQueries } from './eval-queries';

const SCRIPT = 'tune-semantic-weight';
/** λ from 0 (words alone) to 3 in steps of 0.25. */
const GRID = Array.from({ length: 13 }, (_, i) => i * 0.25);

interface TuningSet {
  queriesFile: string;
  corpora: string[];
  queries: { query: string; expected: string[]; vector: Float32Array }[];
  index: KnowledgeIndex;
}

/** Rank (1-based) of the first expected document in the top k for this λ, or undefined. */
function rankOf(set: TuningSet, q: TuningSet['queries'][number], k: number, semanticWeight: number) {
  const top = set.index.search(q.query, q.vector, { k, semanticWeight }).map((r) => r.source);
  const i = top.findIndex((s) => q.expected.includes(s));
  return i >= 0 ? i + 1 : undefined;
}

async function main(): Promise<void> {
  const args = parseArgs(SCRIPT, { set: 'strings', k: 'number' });
  if (args.set.length === 0)
    usageError(SCRIPT, 'give at least one --set <queries.jsonl>=<corpus>[,<corpus>]');
  const k = args.k ?? 10;
  const provider = new UseLiteEmbeddingProvider();
  await provider.ready();

  const sets: TuningSet[] = [];
  for (const spec of args.set) {
    const [queriesFile, corpusList] = spec.split('=');
    if (!queriesFile || !corpusList)
      usageError(SCRIPT, `--set ${spec}: expected <queries.jsonl>=<corpus>[,<corpus>]`);
    const corpora = corpusList.split(',').filter((c) => c !== '');
    const queries = readEvalQueries(SCRIPT, queriesFile);
    const out = tempDir('opsbot-tune-rag-');
    try {
      await buildIndex({ sources: corpora, out: out.dir, provider });
      const { index } = readIndex(out.dir);
      const known = new Set(index.documents.map((d) => d.source));
      for (const q of queries) {
        const unknown = q.expected.filter((e) => !known.has(e));
        if (unknown.length > 0)
          usageError(SCRIPT, `${queriesFile}: "${q.query}" expects ${unknown.join(', ')}, not in the corpus`);
      }
      // One query at a time, as the assistant and eval:rag embed them.
      const vectors: Float32Array[] = [];
      for (const q of queries) vectors.push(...(await provider.embed([q.query])));
      sets.push({
        queriesFile,
        corpora: corpora.map((c) => path.normalize(c)),
        queries: queries.map((q, i) => ({ ...q, vector: vectors[i] as Float32Array })),
        index,
      });
    } finally {
      out.remove();
    }
  }

  console.log(`opsbot ${SCRIPT} — λ grid ${GRID[0]}…${GRID[GRID.length - 1]}, document-level, top ${k}`);
  for (const s of sets)
    console.log(`set:         ${s.queriesFile} (${s.queries.length} queries) on ${s.corpora.join(', ')}`);
  console.log(`embedding:   ${provider.id}; machine: ${machineLine()}`);
  console.log('');
  const rows: string[][] = [
    [
      'λ',
      ...sets.flatMap((s) => [`${path.basename(s.queriesFile, '.jsonl')} recall@1`, 'MRR']),
      'mean recall@1',
      'mean MRR',
    ],
  ];
  let best: { lambda: number; recall: number; mrr: number } | undefined;
  for (const lambda of GRID) {
    const cells: string[] = [];
    const recalls: number[] = [];
    const mrrs: number[] = [];
    for (const s of sets) {
      const ranks = s.queries.map((q) => rankOf(s, q, k, lambda));
      const recall = ranks.filter((r) => r === 1).length / ranks.length;
      const mrr = mean(ranks.map((r) => (r ? 1 / r : 0)));
      recalls.push(recall);
      mrrs.push(mrr);
      cells.push(recall.toFixed(3), mrr.toFixed(3));
    }
    const row = { lambda, recall: mean(recalls), mrr: mean(mrrs) };
    if (!best || row.recall > best.recall || (row.recall === best.recall && row.mrr > best.mrr)) best = row;
    rows.push([
      lambda.toFixed(2),
      ...cells,
      row.recall.toFixed(3),
      row.mrr.toFixed(3),
      lambda === SEMANTIC_WEIGHT ? '← SEMANTIC_WEIGHT now' : '',
    ]);
  }
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows)
    console.log(
      r
        .map((cell, c) => cell.padStart(widths[c] as number))
        .join('  ')
        .trimEnd(),
    );
  const chosen = best as NonNullable<typeof best>;
  console.log('');
  console.log(
    `best mean recall@1: λ = ${chosen.lambda} (mean recall@1 ${chosen.recall.toFixed(3)}, mean MRR ${chosen.mrr.toFixed(3)})`,
  );
}

main().catch((err) => {
  console.error(`${SCRIPT}: ${(err as Error).message}`);
  process.exit(1);
});
