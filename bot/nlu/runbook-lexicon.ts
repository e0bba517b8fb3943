import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadDocuments } from '../../rag/documents/load-documents';
import type { EntityLexiconOptions } from './entities';

/**
 * The runbook ids and alert names the NLU recognises, read from the runbooks of the knowledge sources: a new
 * runbook file is understood in chat ("run dead-letter-queue-growing", "silence DeadLetterQueueGrowing")
 * without touching the NLU. Runbooks are the documents the knowledge index calls runbooks, so a file the
 * index skips (broken front matter) is skipped here too rather than stopping the NLU from starting. Folders
 * that do not exist contribute nothing.
 */
export function runbookLexicon(folders: readonly string[]): Required<EntityLexiconOptions> {
  const runbookIds = new Set<string>();
  const alertNames = new Set<string>();
  for (const folder of folders) {
    if (!existsSync(folder)) continue;
    // Relative to its parent, a source keeps its own folder name: "runbooks/…" marks a runbook, as in the index.
    for (const document of loadDocuments(folder, path.dirname(folder)).documents) {
      if (document.kind !== 'runbook') continue;
      if (document.meta.id) runbookIds.add(document.meta.id);
      document.meta.alerts.forEach((alert) => alertNames.add(alert));
    }
  }
  return { runbookIds: [...runbookIds].sort(), alertNames: [...alertNames].sort() };
}
