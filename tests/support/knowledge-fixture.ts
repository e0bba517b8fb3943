import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A small knowledge base with every format and the edge cases ingestion must handle, in a fresh folder. */
export const FIXTURE_FILES: Record<string, string> = {
  'runbooks/disk-full.md': `---
id: disk-full
title: Node disk almost full
description: A node's root filesystem is running out of space.
alerts: [NodeDiskAlmostFull]
services: [search]
owner: team-platform
last_reviewed: 2026-09-01
tags: [disk, node]
---

## Symptoms

The filesystem on a node is more than 90% used and pods are being evicted for ephemeral storage.

## Remediate

Remove unused container images and old logs:

\`\`\`sh
# this comment is code, not a heading
crictl rmi --prune
journalctl --vacuum-time=2d
\`\`\`

## Verify

Free space is above 20% again.
`,
  'runbooks/payments-errors.md': `---
id: payments-errors
title: Payments error rate above SLO
alerts: [PaymentsHighErrorRate]
services: [payments]
owner: team-payments
tags: [errors]
---

## Symptoms

Card charges fail with HTTP 500 from the payments service; checkout shows "payment declined".

## Diagnose

Check the error ratio by route and the Paylane provider latency.

## Remediate

Roll back the last deploy of payments if the errors started with it.
`,
  'docs/dead-letters.md': `---
title: Dead letters and replay
services: [orders, notifications]
tags: [eventbus]
---

# Dead letters and replay

Events whose handler failed five times land in the dead letter queue with the error.

## Replaying

Replay all dead letters of one type after fixing the handler:

\`\`\`sh
opsbot events dlq replay --type order.created
\`\`\`
`,
  'docs/status-page.html': `<!doctype html><html><head><title>Status page process</title><style>h1{color:red}</style></head>
<body><nav>Home | Wiki</nav><h1>Status page process</h1><p>The incident commander updates the public status page.</p>
<h2>When to post</h2><ul><li>Within 15 minutes of a SEV1.</li><li>Every 30 minutes until resolved.</li></ul>
<table><tr><th>Severity</th><th>Post?</th></tr><tr><td>SEV1</td><td>yes</td></tr></table></body></html>`,
  'docs/handover.txt': `Shift handover checklist

Open incidents and their owners.
Alerts silenced during the shift, with expiry times.`,
  'docs/broken.md': `---
title: [unclosed
---
body`,
  LICENSE: 'Apache License 2.0',
  'README.md': '# This folder\nDescribes the folder, not an answer.',
};

export function writeKnowledgeFixture(files: Record<string, string> = FIXTURE_FILES): string {
  const root = mkdtempSync(path.join(tmpdir(), 'opsbot-knowledge-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), content);
  }
  return root;
}
