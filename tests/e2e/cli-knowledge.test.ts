import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { demoConfigData } from '../support/runtime';
import { writeKnowledgeFixture } from '../support/knowledge-fixture';

const ROOT = path.resolve(__dirname, '..', '..');

describe('opsbot knowledge CLI', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'opsbot-cli-rag-'));
  const source = writeKnowledgeFixture();
  const index = path.join(work, 'index');
  const config = path.join(work, 'opsbot.config.yaml');
  const raw = demoConfigData();
  raw.knowledge = { sources: [source], indexDir: 'configured-index' };
  writeFileSync(config, stringify(raw));

  const opsbot = (...args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'opsbot.js'), ...args], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, OPSBOT_CONFIG: config, NO_COLOR: '1' },
      timeout: 60000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(() => {
    const built = opsbot('index', 'build', '--source', source, '--out', index);
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(
      /^indexed 5 documents, \d+ chunks \(embedded \d+, reused 0\) in [\d.]+ s → .*index \(gen-000001, use-lite\)\n$/,
    );
    expect(built.stderr).toMatch(/skipped docs\/broken\.md: .*front matter is not valid YAML/);
  }, 90000);

  it('search --json prints the contract shape with sources relative to the indexed root', () => {
    const { code, stdout } = opsbot(
      'search',
      'how do I replay dead letters?',
      '--index',
      index,
      '--k',
      '2',
      '--json',
    );
    expect(code).toBe(0);
    const line = JSON.parse(stdout);
    expect(Object.keys(line)).toEqual(['query', 'results']);
    expect(line.results).toHaveLength(2);
    expect(line.results[0]).toEqual({
      source: 'docs/dead-letters.md',
      title: 'Dead letters and replay',
      score: expect.any(Number),
    });
  });

  it('search --file reads JSONL and prints one line per query, in order', () => {
    const file = path.join(work, 'queries.jsonl');
    writeFileSync(file, '{"query":"status page after a SEV1"}\n\n{"query":"NodeDiskAlmostFull","id":7}\n');
    const { code, stdout } = opsbot('search', '--index', index, '--file', file, '--k', '5', '--json');
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.query, l.results[0].source])).toEqual([
      ['status page after a SEV1', 'docs/status-page.html'],
      ['NodeDiskAlmostFull', 'runbooks/disk-full.md'],
    ]);
    expect(lines[0].results.length).toBeLessThanOrEqual(5);
  });

  it('refuses bad input with exit 2, one line, nothing on stdout', () => {
    const file = path.join(work, 'bad.jsonl');
    writeFileSync(file, '{"query":"ok"}\n{"q":"missing"}\n');
    expect(opsbot('search', '--index', index, '--file', file, '--json')).toEqual({
      code: 2,
      stdout: '',
      stderr: `opsbot: ${file} line 2: needs a "query" string field\n`,
    });
    const blank = path.join(work, 'blank.jsonl');
    writeFileSync(blank, '{"query":"ok"}\n{"query":"  "}\n');
    expect(opsbot('search', '--index', index, '--file', blank, '--json')).toEqual({
      code: 2,
      stdout: '',
      stderr: `opsbot: ${blank} line 2: "query" is empty\n`,
    });
    expect(opsbot('search', 'x', '--index', index, '--k', '0')).toMatchObject({ code: 2, stdout: '' });
    expect(opsbot('search', 'x', '--index', path.join(work, 'nothing-here'))).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(
        /^opsbot: no knowledge index at .*nothing-here: build one with "opsbot index build"\n$/,
      ),
    });
    expect(opsbot('index', 'build', '--source', path.join(work, 'missing'))).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/is not a folder/),
    });
  });

  it('reports status, and a corrupt index clearly', () => {
    const status = opsbot('index', 'status', '--index', index);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/contents: {3}5 documents, \d+ chunks/);
    expect(status.stdout).toMatch(/embeddings: use-lite \(512 dimensions\)/);
    const copy = mkdtempSync(path.join(tmpdir(), 'opsbot-corrupt-'));
    spawnSync('cp', ['-r', `${index}/.`, copy]);
    const corpus = path.join(copy, 'gen-000001', 'corpus.json');
    writeFileSync(corpus, readFileSync(corpus, 'utf8').replace('Dead letters', 'Dead lettuce'));
    const broken = opsbot('search', 'dead letters', '--index', copy);
    expect(broken).toMatchObject({ code: 2, stdout: '' });
    expect(broken.stderr).toMatch(
      /^opsbot: the knowledge index at .* is corrupt: corpus\.json does not match its checksum; rebuild it with "opsbot index build"\n$/,
    );
  });

  it('imports a folder of runbooks into the configured knowledge base and indexes it', () => {
    const mine = writeKnowledgeFixture({
      'cert-rotation.md':
        '---\nid: cert-rotation\ntitle: Rotate the gateway certificate\nalerts: [GatewayCertExpiring]\n---\n\n## Remediate\n\nRenew with cert-manager.\n',
    });
    const imported = opsbot('knowledge', 'import', mine);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/imported 1 files \(1 runbooks\) into .*imported/);
    expect(existsSync(path.join(source, 'imported', path.basename(mine), 'cert-rotation.md'))).toBe(true);
    const found = opsbot('search', 'GatewayCertExpiring', '--json');
    // The configured index cites sources relative to the configuration file's folder.
    const expected = path.relative(
      work,
      path.join(source, 'imported', path.basename(mine), 'cert-rotation.md'),
    );
    expect(JSON.parse(found.stdout).results[0].source).toBe(expected.split(path.sep).join('/'));
    // The same name with other content is a conflict: refused, nothing overwritten.
    writeFileSync(path.join(mine, 'cert-rotation.md'), 'changed');
    expect(opsbot('knowledge', 'import', mine)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/nothing imported: 1 file\(s\) already exist/),
    });
    expect(
      readFileSync(path.join(source, 'imported', path.basename(mine), 'cert-rotation.md'), 'utf8'),
    ).toContain('cert-manager');
  });
});
