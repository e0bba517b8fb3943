import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runbookLexicon } from '../../bot/nlu/runbook-lexicon';

describe('the runbook lexicon', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'opsbot-lexicon-'));
  const runbooks = path.join(root, 'runbooks');
  const knowledge = path.join(root, 'knowledge');
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  };

  beforeAll(() => {
    write(
      path.join(runbooks, 'saga-stuck.md'),
      '---\nid: saga-stuck\nalerts: [SagaStuck]\n---\n# Saga stuck\n',
    );
    write(path.join(runbooks, 'broken.md'), '---\nid: broken\nalerts: [Broken\n---\n# Broken\n');
    write(
      path.join(runbooks, 'payments', 'refund-backlog.md'),
      '---\nid: refund-backlog\nalerts: [RefundBacklogHigh]\n---\n# Refund backlog\n',
    );
    write(path.join(runbooks, 'KubePodCrashLooping.md'), '# KubePodCrashLooping\n\nCheck the logs.\n');
    write(path.join(knowledge, 'glossary.md'), '---\nid: glossary\n---\n# Glossary\n');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads the runbooks the knowledge index reads, skipping a broken one instead of throwing', () => {
    expect(runbookLexicon([runbooks, knowledge, path.join(root, 'missing')])).toEqual({
      runbookIds: ['refund-backlog', 'saga-stuck'],
      alertNames: ['KubePodCrashLooping', 'RefundBacklogHigh', 'SagaStuck'],
    });
  });
});
