import { z } from 'zod';
import { notifyTargetSchema } from '../config/schema';
import { MAX_TEXT_CHARS } from '../assistant';
import { ErrorCode, RequestError } from '../core/errors';
import type { NotifyTarget } from '../notify/notifier';

/** Posting a notification speaks for opsbot in a shared channel, so it is a permission of its own. */
export const NOTIFY_PERMISSION = 'notifications.send';

const notifyRequestSchema = z.strictObject({
  target: z.union([z.string().min(1), notifyTargetSchema]),
  text: z.string().trim().min(1, 'must not be empty').max(MAX_TEXT_CHARS),
});

/** The body of POST /api/notify: `{target: "<configured name>" | {channel, …}, text}`. */
export function parseNotifyRequest(body: unknown): { target: string | NotifyTarget; text: string } {
  const parsed = notifyRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? `"${issue.path.join('.')}" ` : '';
  throw new RequestError(
    ErrorCode.InvalidRequest,
    `${field}${issue?.message ?? 'invalid'}; send {"target": "<name>" or {"channel": "slack"|"teams"|"web", …}, "text": "…"}`,
  );
}
