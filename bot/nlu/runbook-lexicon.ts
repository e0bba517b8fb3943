import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { splitFrontMatter } from '../../rag/documents/front-matter';
import type { EntityLexiconOptions } from './entities';

/**
 * The runbook ids and alert names the NLU recognises, read from the runbooks' front matter: a new runbook
 * file is understood in chat ("run dead-letter-queue-growing", "silence DeadLetterQueueGrowing") without
 * touching the NLU. Folders that do not exist contribute nothing.
 */
export function runbookLexicon(folders: readonly string[]): Required<EntityLexiconOptions> {
  const runbookIds = new Set<string>();
  const alertNames = new Set<string>();
  for (const folder of folders) {
    let files: string[];
    try {
      files = readdirSync(folder).filter((f) => f.endsWith('.md') && f !== 'README.md');
    } catch {
      continue;
    }
    for (const file of files) {
      const { meta } = splitFrontMatter(readFileSync(path.join(folder, file), 'utf8'), file);
      if (!meta.id) continue;
      runbookIds.add(meta.id);
      meta.alerts.forEach((alert) => alertNames.add(alert));
    }
  }
  return { runbookIds: [...runbookIds].sort(), alertNames: [...alertNames].sort() };
}
