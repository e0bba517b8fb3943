import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/load';
import { loadDocuments } from '../../rag/documents/load-documents';
import { buildIndex, type BuildProgress } from '../../rag/index/index-builder';
import { buildFirewall } from '../../engines/quality/firewall/build-firewall';
import type { OpsbotConfig } from '../config/schema';
import { readManifest } from '../../rag/index/index-files';
import { KnowledgeBase } from '../../rag/knowledge-base';
import { createEmbeddingProvider } from '../runtime';
import { UsageError } from './exit';
import { readJsonlField } from './jsonl-input';

/** The configured knowledge folders and index, resolved against the configuration file's folder. */
function configured() {
  const { config, file } = loadConfig();
  const dir = existsSync(file) ? path.dirname(file) : process.cwd();
  return {
    config,
    dir,
    sources: config.knowledge.sources.map((s) => path.resolve(dir, s)),
    indexDir: path.resolve(dir, config.knowledge.indexDir),
    provider: createEmbeddingProvider(config, dir),
    redact: knowledgeRedactor(config),
  };
}

/** The firewall's knowledge path as the server applies it, so an index built here holds no more than its own. */
function knowledgeRedactor(config: OpsbotConfig): (text: string) => string {
  const firewall = buildFirewall(config.quality.firewall);
  return (text) => firewall.redactText(text, 'knowledge');
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100)
    throw new InvalidArgumentError('must be a whole number from 1 to 100');
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function requireFolder(dir: string, what: string): string {
  const full = path.resolve(dir);
  if (!existsSync(full) || !statSync(full).isDirectory())
    throw new UsageError(`${what} ${dir} is not a folder`);
  return full;
}

/** A one-line progress bar on a terminal; nothing when stderr is a file or pipe. */
function progressBar(): ((p: BuildProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (p) => {
    const width = 30;
    const filled = p.total > 0 ? Math.round((p.done / p.total) * width) : 0;
    process.stderr.write(
      `\r${p.phase.padEnd(9)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.done}/${p.total}   `,
    );
    if (p.phase === 'writing') process.stderr.write('\n');
  };
}

export function registerKnowledgeCommands(program: Command): void {
  const index = program
    .command('index')
    .description('build and inspect the knowledge index (runbooks and docs)');

  index
    .command('build')
    .description('index folders of Markdown, text and HTML (default: the configured knowledge sources)')
    .option('--source <dir>', 'a folder to index (repeatable)', collect)
    .option('--out <dir>', 'where the index is written (default: knowledge.indexDir)')
    .option('--base <dir>', 'citations are relative to this folder (default: the single --source)')
    .action(async (options: { source?: string[]; out?: string; base?: string }) => {
      const setup = configured();
      const sources = options.source
        ? options.source.map((s) => requireFolder(s, '--source'))
        : setup.sources;
      const base = options.base
        ? requireFolder(options.base, '--base')
        : options.source
          ? undefined
          : setup.dir;
      const out = options.out ? path.resolve(options.out) : setup.indexDir;
      const report = await buildIndex({
        sources,
        base,
        out,
        provider: setup.provider,
        onProgress: progressBar(),
        redact: setup.redact,
      });
      for (const s of report.skipped) process.stderr.write(`opsbot: skipped ${s.file}: ${s.reason}\n`);
      process.stdout.write(
        `indexed ${report.documents} documents, ${report.chunks} chunks (embedded ${report.embedded}, reused ${report.reused}) ` +
          `in ${report.seconds.toFixed(1)} s → ${out} (${report.manifest.generation}, ${report.manifest.embedding.provider})\n`,
      );
    });

  index
    .command('status')
    .description('show what the index holds and whether its sources changed since it was built')
    .option('--index <dir>', 'the index folder (default: knowledge.indexDir)')
    .action((options: { index?: string }) => {
      const setup = configured();
      const dir = options.index ? path.resolve(options.index) : setup.indexDir;
      const manifest = readManifest(dir);
      const kb = new KnowledgeBase(dir, setup.provider).load();
      const state = kb.status();
      if (state.state === 'error') throw new UsageError(state.message);
      const stale = options.index ? undefined : kb.sourcesChanged(setup.sources, setup.dir);
      const lines = [
        `index:      ${dir} (${manifest.generation}, format v${manifest.version})`,
        `built:      ${manifest.createdAt}`,
        `contents:   ${manifest.documents} documents, ${manifest.chunks} chunks`,
        `embeddings: ${manifest.embedding.provider} (${manifest.embedding.dimensions} dimensions)`,
        `sources:    ${manifest.sources.join(', ')}`,
      ];
      if (stale !== undefined)
        lines.push(
          `up to date: ${stale ? 'no — sources changed since the build; run opsbot index build' : 'yes'}`,
        );
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  program
    .command('knowledge')
    .description('manage the runbooks and docs opsbot answers from')
    .command('import')
    .description('copy a folder of your own runbooks and docs into the knowledge base, then re-index')
    .argument('<dir>', 'folder of Markdown, text or HTML files')
    .option('--force', 'overwrite files that already exist with different content')
    .action(async (dir: string, options: { force?: boolean }) => {
      const setup = configured();
      const from = requireFolder(dir, 'the import folder');
      const { documents, skipped } = loadDocuments(from);
      if (skipped.length > 0) {
        throw new UsageError(`nothing imported: ${skipped.map((s) => `${s.file}: ${s.reason}`).join('; ')}`);
      }
      if (documents.length === 0)
        throw new UsageError(`nothing to import: no Markdown, text or HTML files in ${dir}`);
      const target = path.join(setup.sources[0] as string, 'imported', path.basename(from));
      // Check every file before copying any, so a conflict leaves the knowledge base as it was.
      const conflicts = documents.filter((d) => {
        const dest = path.join(target, d.source);
        return existsSync(dest) && !readFileSync(dest).equals(readFileSync(path.join(from, d.source)));
      });
      if (conflicts.length > 0 && !options.force) {
        throw new UsageError(
          `nothing imported: ${conflicts.length} file(s) already exist with other content (${conflicts.map((c) => c.source).join(', ')}); use --force to overwrite`,
        );
      }
      for (const d of documents) {
        const dest = path.join(target, d.source);
        mkdirSync(path.dirname(dest), { recursive: true });
        copyFileSync(path.join(from, d.source), dest);
      }
      const runbooks = documents.filter((d) => d.kind === 'runbook').length;
      process.stdout.write(`imported ${documents.length} files (${runbooks} runbooks) into ${target}\n`);
      const report = await buildIndex({
        sources: setup.sources,
        base: setup.dir,
        out: setup.indexDir,
        provider: setup.provider,
        onProgress: progressBar(),
        redact: setup.redact,
      });
      process.stdout.write(
        `indexed ${report.documents} documents, ${report.chunks} chunks (embedded ${report.embedded}, reused ${report.reused})\n`,
      );
    });

  program
    .command('search')
    .description('search the knowledge index: the documents that best answer a question')
    .argument('[query]', 'the question')
    .option('--index <dir>', 'the index folder (default: knowledge.indexDir)')
    .option('--k <n>', 'how many documents', positiveInt, 5)
    .option('--file <queries.jsonl>', 'search every line of a JSONL file with a "query" field, in order')
    .option('--json', 'print {"query","results":[{"source","title","score"}]} per query')
    .action(
      async (
        query: string | undefined,
        options: { index?: string; k: number; file?: string; json?: boolean },
      ) => {
        if ((query === undefined) === (options.file === undefined))
          throw new UsageError('search needs a query or --file <queries.jsonl>, not both');
        const queries = options.file
          ? readJsonlField(options.file, 'query', { nonEmpty: true })
          : [query as string];
        const setup = configured();
        const dir = options.index ? path.resolve(options.index) : setup.indexDir;
        readManifest(dir); // a missing, corrupt or old index is refused before any model loads
        const kb = new KnowledgeBase(dir, setup.provider).load();
        const state = kb.status();
        if (state.state === 'error') throw new UsageError(state.message);
        const lines: string[] = [];
        for (const q of queries) {
          const results = await kb.search(q, { k: options.k });
          if (options.json) {
            lines.push(
              JSON.stringify({
                query: q,
                results: results.map((r) => ({
                  source: r.source,
                  title: r.title,
                  score: Math.round(r.score * 1000) / 1000,
                })),
              }),
            );
          } else {
            lines.push(
              `${q}`,
              ...results.map((r, i) => `  ${i + 1}. ${r.score.toFixed(3)}  ${r.source}  — ${r.title}`),
            );
          }
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      },
    );
}
