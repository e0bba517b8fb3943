/**
 * npm run bench:rag [-- --chunks 10000 --queries 300 --corpus <dir> --keep]
 *
 * Scale benchmark of the knowledge index. Generates a synthetic corpus of realistic ops Markdown (at least
 * --chunks chunks) by recombining the sections of this repo's knowledge/ and runbooks/ (and of any --corpus
 * folder) under varied titles, services, headings and reshuffled paragraphs, so no two chunks are the same
 * and the content-hash cache cannot flatter the build. Then measures, with the offline USE-lite model: a cold
 * build, an incremental rebuild after editing 1% of the documents, index load time, query latency including
 * the query embedding, and peak memory, against the targets query p95 < 30 ms and index load < 1 s.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../bot/core/package-root';
import { seededRandom } from '../bot/core/seeded-random';
import { chunkDocument, paragraphs } from '../rag/documents/chunker';
import { loadDocuments, parseDocument } from '../rag/documents/load-documents';
import type { SourceDocument } from '../rag/documents/source-document';
import { UseLiteEmbeddingProvider } from '../rag/embeddings/use-lite-provider';
import { buildIndex, type BuildProgress, type BuildReport } from '../rag/index/index-builder';
import { readIndex } from '../rag/index/index-files';
import { parseArgs, usageError } from '../bot/cli/script-args';
import {
  elapsedMs,
  machineLine,
  mb,
  median,
  MemoryPeak,
  ms,
  percentile,
  progressLine,
  seconds,
  tempDir,
} from './bench-support';

const SCRIPT = 'bench:rag';
const ROOT = packageRoot();
const TARGET_QUERY_P95_MS = 30;
const TARGET_LOAD_MS = 1000;
const WARMUP_QUERIES = 20;
const EDIT_SHARE = 0.01;
const LOADS = 5;

type Random = () => number;

/** A section of real text to recombine: its heading and its paragraphs (code blocks kept whole). */
interface SourceSection {
  heading: string;
  paragraphs: string[];
}

interface Material {
  titles: string[];
  sections: SourceSection[];
  /** Service names the real documents talk about, replaced by generated ones. */
  services: string[];
  tags: string[];
}

interface GeneratedDoc {
  file: string;
  text: string;
  chunks: number;
}

const SERVICE_STEMS = [
  'billing', 'ledger', 'catalog', 'pricing', 'shipping', 'fraud', 'identity', 'media', 'recommendations', 'tax',
  'loyalty', 'warehouse', 'invoicing', 'subscriptions', 'reviews', 'cart', 'promotions', 'returns', 'fulfilment',
  'accounts', 'sessions', 'ratings', 'geo', 'quotes', 'settlement', 'risk', 'kyc', 'wallet', 'coupons', 'feeds',
]; // prettier-ignore
const SERVICE_SUFFIXES = ['', '-api', '-worker', '-gateway', '-scheduler', '-sync', '-indexer', '-consumer'];
const REGIONS = [
  'eu-west-1',
  'eu-central-1',
  'us-east-1',
  'us-west-2',
  'ap-southeast-1',
  'ap-northeast-1',
  'sa-east-1',
];
const TEAMS = [
  'core',
  'commerce',
  'platform',
  'payments',
  'growth',
  'data',
  'identity',
  'logistics',
  'sre',
  'search',
];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const HEADING_VARIANTS = [
  '{h}',
  '{h}',
  '{h}',
  '{h} for {svc}',
  '{h} ({region})',
  '{h}: {svc}',
  'Step {n}: {h}',
  '{h} — {team} team',
];
const TITLE_VARIANTS = ['{t}', '{t}', '{t} ({region})', '{t} — {team}', '{t}, v{n}'];
const NOTE_VARIANTS = [
  'Seen in {region} during {incident} ({month}); the {team} on-call owned it.',
  'Last exercised in {month} on {svc} in {region} ({incident}).',
  'Owner: team-{team}. Related incident: {incident}, {region}.',
  'During {incident} the {svc} pods in {region} needed this step {n} times.',
  'Reviewed by the {team} team after {incident} in {month}.',
];
const QUERY_VARIANTS = [
  '{q}',
  '{q}',
  '{q}',
  'how do I fix {q}',
  'what to do when {q}',
  '{svc} {q}',
  'why {q}',
  '{q} in {region}',
];

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function gatherMaterial(folders: readonly string[]): Material {
  const documents: SourceDocument[] = folders.flatMap((f) => loadDocuments(f).documents);
  const services = new Set<string>(documents.flatMap((d) => d.meta.services));
  const servicesDir = path.join(ROOT, 'knowledge', 'services');
  for (const f of safeReaddir(servicesDir)) if (f.endsWith('.md')) services.add(path.basename(f, '.md'));
  const sections = documents.flatMap((d) =>
    d.sections
      .map((s) => ({
        heading: s.headings[s.headings.length - 1] ?? 'Overview',
        paragraphs: paragraphs(s.text),
      }))
      .filter((s) => s.paragraphs.length > 0),
  );
  return {
    titles: documents.map((d) => d.title),
    sections,
    services: [...services].filter((s) => s.length > 2).sort((a, b) => b.length - a.length),
    tags: [...new Set(documents.flatMap((d) => d.meta.tags))],
  };
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Writes generated documents under `dir` until their chunks reach `target`. Each is a real-looking runbook:
 * front matter, a title from a real one retargeted at a generated service, and sections drawn from anywhere
 * in the material with their paragraphs reshuffled, numbers varied and an incident note of their own.
 */
function generateCorpus(dir: string, material: Material, target: number, random: Random): GeneratedDoc[] {
  const serviceNames = SERVICE_STEMS.flatMap((stem) => SERVICE_SUFFIXES.map((suffix) => stem + suffix));
  const servicePattern = material.services.length
    ? new RegExp(`\\b(${material.services.map(escapeRegExp).join('|')})\\b`, 'gi')
    : undefined;
  const docs: GeneratedDoc[] = [];
  let chunks = 0;
  let incident = 1000;

  for (let n = 0; chunks < target; n++) {
    const svc = pick(random, serviceNames);
    const values = () => ({
      svc,
      region: pick(random, REGIONS),
      team: pick(random, TEAMS),
      month: pick(random, MONTHS),
      incident: `INC-${incident++}`,
      n: String(1 + Math.floor(random() * 9)),
    });
    const retarget = (text: string) =>
      servicePattern
        ? text.replace(servicePattern, (m) => (m[0] === m[0]?.toUpperCase() ? capitalise(svc) : svc))
        : text;
    const vary = (p: string): string => {
      let text = retarget(p).replace(/\b\d+(\.\d+)?\b/g, (num) =>
        random() < 0.5 ? num : String(Math.max(1, Math.round(Number(num) * (0.5 + random() * 1.5)))),
      );
      // Prose is reordered by sentence; code, lists and tables keep their shape.
      if (!/^(\s*[-*|>]|\s*\d+\.|\s*```|\s{4})/m.test(text)) {
        const sentences = text.split(/(?<=[.!?])\s+(?=[A-Z`])/);
        if (sentences.length > 1) text = shuffle(random, sentences).join(' ');
      }
      return text;
    };

    let title = retarget(pick(random, material.titles));
    if (!title.toLowerCase().includes(svc)) title = `${capitalise(svc)}: ${title}`;
    title = fill(pick(random, TITLE_VARIANTS), { ...values(), t: title });
    const alert = title
      .replace(/[^A-Za-z0-9 ]+/g, ' ')
      .split(/\s+/)
      .filter((w) => /^[A-Za-z]/.test(w))
      .slice(0, 5)
      .map(capitalise)
      .join('');
    const tags = shuffle(random, material.tags).slice(0, 1 + Math.floor(random() * 3));
    const sectionCount = 3 + Math.floor(random() * 5);
    const intro = vary(pick(random, pick(random, material.sections).paragraphs));
    const body: string[] = [`# ${title}`, intro];
    for (let s = 0; s < sectionCount; s++) {
      const section = pick(random, material.sections);
      const extra = pick(random, material.sections).paragraphs;
      const chosen = shuffle(random, [
        ...section.paragraphs,
        ...(random() < 0.5 ? [pick(random, extra)] : []),
      ]).slice(0, 4);
      body.push(`## ${fill(pick(random, HEADING_VARIANTS), { ...values(), h: retarget(section.heading) })}`);
      body.push(...chosen.map(vary), fill(pick(random, NOTE_VARIANTS), values()));
    }
    const slug = title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60);
    const team = pick(random, TEAMS);
    const source = `${team}/${svc}/${slug}-${n}.md`;
    const text = [
      '---',
      `id: ${svc}-${n}`,
      `title: ${JSON.stringify(title)}`,
      `description: ${JSON.stringify(intro.split('\n')[0]?.slice(0, 160) ?? '')}`,
      `alerts: [${alert}]`,
      `services: [${svc}]`,
      `owner: team-${team}`,
      `tags: [${tags.join(', ')}]`,
      '---',
      '',
      body.join('\n\n'),
      '',
    ].join('\n');
    const count = chunkDocument(parseDocument(Buffer.from(text), source, 'markdown')).length;
    const file = path.join(dir, source);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    docs.push({ file, text, chunks: count });
    chunks += count;
  }
  return docs;
}

/** A one-line change in the body of each of `share` of the documents, as a day of runbook edits. */
function editDocuments(docs: GeneratedDoc[], share: number, random: Random): number {
  const chosen = shuffle(random, docs).slice(0, Math.max(1, Math.ceil(docs.length * share)));
  for (const doc of chosen) {
    const lines = doc.text.split('\n');
    const bodyStart = lines.indexOf('---', 1) + 1;
    let inFence = false;
    const prose: number[] = [];
    lines.forEach((line, i) => {
      if (/^ {0,3}(```|~~~)/.test(line)) inFence = !inFence;
      else if (i > bodyStart && !inFence && /^[A-Za-z]/.test(line)) prose.push(i);
    });
    const at = prose.length > 0 ? pick(random, prose) : lines.length - 1;
    lines[at] =
      `${lines[at]} (Updated ${pick(random, MONTHS)}: confirmed again by the ${pick(random, TEAMS)} on-call.)`;
    doc.text = lines.join('\n');
    writeFileSync(doc.file, doc.text);
  }
  return chosen.length;
}

/** Varied questions made from the generated text: fragments of real sentences, sometimes as a question. */
function makeQueries(docs: readonly GeneratedDoc[], count: number, random: Random): string[] {
  const queries = new Set<string>();
  for (let attempts = 0; queries.size < count && attempts < count * 50; attempts++) {
    const doc = pick(random, docs);
    if (random() < 0.1) {
      const alert = /^alerts: \[(\w+)\]$/m.exec(doc.text)?.[1];
      if (alert) queries.add(`runbook for ${alert}`);
      continue;
    }
    const lines = doc.text.split('\n').filter((l) => /^[A-Z][a-z]/.test(l) && l.split(' ').length >= 8);
    if (lines.length === 0) continue;
    const words = pick(random, lines).split(/\s+/);
    const length = 4 + Math.floor(random() * 8);
    const start = Math.floor(random() * Math.max(1, words.length - length));
    const fragment = words
      .slice(start, start + length)
      .join(' ')
      .replace(/[.,;:]+$/, '');
    const svc = /^services: \[([^\]]+)\]$/m.exec(doc.text)?.[1] ?? 'payments';
    queries.add(
      fill(pick(random, QUERY_VARIANTS), { q: fragment.toLowerCase(), svc, region: pick(random, REGIONS) }),
    );
  }
  return [...queries];
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(full) : statSync(full).size;
  }
  return total;
}

async function timedBuild(
  corpusDir: string,
  indexDir: string,
  provider: UseLiteEmbeddingProvider,
  label: string,
) {
  const progress = progressLine();
  const started = performance.now();
  let indexingAt: number | undefined;
  const report: BuildReport = await buildIndex({
    sources: [corpusDir],
    out: indexDir,
    provider,
    onProgress: (p: BuildProgress) => {
      if (p.phase === 'indexing' && indexingAt === undefined) indexingAt = performance.now();
      if (p.phase === 'embedding') {
        const rate = p.done / (elapsedMs(started) / 1000);
        progress.update(`${label}: embedding ${p.done}/${p.total} chunks (${rate.toFixed(0)}/s)`);
      } else progress.update(`${label}: ${p.phase}`);
    },
  });
  progress.done();
  const total = elapsedMs(started);
  return {
    report,
    embedSeconds: ((indexingAt ?? started) - started) / 1000,
    indexSeconds: (started + total - (indexingAt ?? started)) / 1000,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(SCRIPT, { chunks: 'number', queries: 'number', corpus: 'strings', keep: 'flag' });
  const targetChunks = Math.round(args.chunks ?? 10_000);
  const queryCount = Math.round(args.queries ?? 300);
  for (const dir of args.corpus) {
    if (!safeReaddir(dir).length) usageError(SCRIPT, `--corpus ${dir} is not a folder with documents`);
  }
  const memory = new MemoryPeak();
  const random = seededRandom(20261121);
  const tmp = tempDir('opsbot-bench-rag-');
  try {
    const corpusDir = path.join(tmp.dir, 'corpus');
    const indexDir = path.join(tmp.dir, 'index');

    const genStarted = performance.now();
    const material = gatherMaterial([
      path.join(ROOT, 'knowledge'),
      path.join(ROOT, 'runbooks'),
      ...args.corpus,
    ]);
    if (material.sections.length === 0)
      throw new Error('no sections to recombine under knowledge/ and runbooks/');
    const docs = generateCorpus(corpusDir, material, targetChunks, random);
    const genSeconds = elapsedMs(genStarted) / 1000;

    const provider = new UseLiteEmbeddingProvider();
    const modelStarted = performance.now();
    await provider.ready();
    const modelSeconds = elapsedMs(modelStarted) / 1000;

    const cold = await timedBuild(corpusDir, indexDir, provider, 'cold build');
    memory.sample();
    const uniqueChunks = new Set(readIndex(indexDir).index.chunks.map((c) => c.contentHash)).size;

    const edited = editDocuments(docs, EDIT_SHARE, random);
    const warm = await timedBuild(corpusDir, indexDir, provider, 'incremental build');
    memory.sample();

    const loads: number[] = [];
    let loaded: ReturnType<typeof readIndex> | undefined;
    for (let i = 0; i < LOADS; i++) {
      loaded = undefined; // let the previous load go before timing the next
      const started = performance.now();
      loaded = readIndex(indexDir);
      loads.push(elapsedMs(started));
      memory.sample();
    }
    const index = (loaded as ReturnType<typeof readIndex>).index;
    const generation = (loaded as ReturnType<typeof readIndex>).manifest.generation;
    const indexBytes = folderBytes(path.join(indexDir, generation));

    const queries = makeQueries(docs, WARMUP_QUERIES + queryCount, random);
    const total: number[] = [];
    const embedTimes: number[] = [];
    const searchTimes: number[] = [];
    const progress = progressLine();
    for (const [i, query] of queries.entries()) {
      const started = performance.now();
      const [vector] = await provider.embed([query]);
      const embedded = performance.now();
      index.search(query, vector as Float32Array, { k: 5 });
      const done = performance.now();
      if (i < WARMUP_QUERIES) continue;
      total.push(done - started);
      embedTimes.push(embedded - started);
      searchTimes.push(done - embedded);
      progress.update(`queries: ${i + 1 - WARMUP_QUERIES}/${queries.length - WARMUP_QUERIES}`);
    }
    progress.done();
    for (const list of [total, embedTimes, searchTimes]) list.sort((a, b) => a - b);

    const peak = memory.stop();
    const heapUsed = process.memoryUsage().heapUsed;
    const p95 = percentile(total, 95);
    const load = median(loads);
    const { report } = cold;

    console.log(
      `opsbot bench:rag — ${report.documents} generated documents, ${report.chunks} chunks, ${provider.id} embeddings (${provider.dimensions} dims)`,
    );
    console.log(`machine:     ${machineLine()}`);
    console.log(
      `corpus:      ${report.chunks} chunks (${uniqueChunks} distinct) in ${report.documents} documents, ${mb(folderBytes(corpusDir))} of Markdown, generated in ${seconds(genSeconds)} from ${material.sections.length} real sections`,
    );
    console.log(`model load:  ${seconds(modelSeconds)}`);
    console.log(
      `cold build:  ${(report.chunks / report.seconds).toFixed(1)} chunks/s, ${seconds(report.seconds)} (read + embed ${seconds(cold.embedSeconds)}, index + write ${seconds(cold.indexSeconds)}), ${report.embedded} texts embedded`,
    );
    console.log(
      `incremental: ${edited} documents edited (${(EDIT_SHARE * 100).toFixed(0)}%) → ${warm.report.embedded} texts re-embedded, ${warm.report.reused} reused, ${seconds(warm.report.seconds)} (read + embed ${seconds(warm.embedSeconds)}, index + write ${seconds(warm.indexSeconds)})`,
    );
    console.log(
      `index load:  median ${ms(load, 0)} of ${LOADS} (min ${ms(Math.min(...loads), 0)}, max ${ms(Math.max(...loads), 0)}), ${mb(indexBytes)} on disk`,
    );
    console.log(
      `query:       p50 ${ms(percentile(total, 50))}   p95 ${ms(p95)}   p99 ${ms(percentile(total, 99))}   max ${ms(total[total.length - 1] ?? NaN)}   (${total.length} distinct queries after ${WARMUP_QUERIES} warm-up, k=5)`,
    );
    console.log(
      `  of which:  embedding p50 ${ms(percentile(embedTimes, 50))} p95 ${ms(percentile(embedTimes, 95))}; search p50 ${ms(percentile(searchTimes, 50))} p95 ${ms(percentile(searchTimes, 95))}`,
    );
    console.log(`memory:      peak RSS ${mb(peak)}, heap used at end ${mb(heapUsed)}`);
    console.log(
      `target:      query p95 < ${TARGET_QUERY_P95_MS} ms → ${p95 < TARGET_QUERY_P95_MS ? 'met' : 'NOT met'}`,
    );
    console.log(
      `target:      index load < ${TARGET_LOAD_MS / 1000} s → ${load < TARGET_LOAD_MS ? 'met' : 'NOT met'}`,
    );
  } finally {
    // --keep leaves the generated corpus and index for inspection (e.g. `opsbot search --index <dir>/index`).
    if (args.keep) console.log(`kept:        ${tmp.dir}`);
    else tmp.remove();
  }
}

main().catch((err) => {
  console.error(`${SCRIPT}: ${(err as Error).message}`);
  process.exit(1);
});
