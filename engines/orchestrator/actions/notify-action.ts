import type { NotifyTarget } from '../../../bot/config/schema';
import { ErrorCode, isOpsbotError } from '../../../bot/core/errors';
import { textReply } from '../../../bot/core/message';
import type { Notifier } from '../../../bot/notify/notifier';
import { PermanentActionError, type Action } from '../action';
import type { WorkflowRun } from '../run';

/** Chat platforms cut messages longer than this (Slack's text limit is 40k, Teams' lower): keep steps short. */
const MAX_TEXT_CHARS = 4_000;
const SUMMARY_TEXT_CHARS = 60;

export interface NotifyInputs {
  text: string;
  /** A target named under notifications.targets; the run's chat thread when left out. */
  target?: string;
}

export type NotifyOutput =
  | { delivered: true; channel: NotifyTarget['channel']; conversation: string; messageId?: string }
  | { delivered: false; reason: string };

/**
 * Posts a message to a named notification target or, without one, to the run's chat thread. A message
 * that has nowhere to go is not a failure of the run — a run started from the CLI has no thread, a channel
 * may not be running in this opsbot — so those succeed with `delivered: false` and the reason. A target name
 * the configuration does not know fails the step for good; a platform that refused the post is retried.
 * It changes no system, so it is not mutating, and a duplicate message after a resume is tolerable: `safe`.
 */
export function createNotifyAction(deps: { notifier: Notifier }): Action<NotifyInputs, NotifyOutput> {
  return {
    name: 'notify',
    summary: "Post a message to a named notification target or the run's chat thread",
    inputSchema: {
      type: 'object',
      properties: {
        text: { type: 'string', minLength: 1, maxLength: MAX_TEXT_CHARS },
        target: { type: 'string', pattern: '^[a-z][a-z0-9_-]*$' },
      },
      required: ['text'],
      additionalProperties: false,
    },
    mutating: false,
    resume: 'safe',
    describe(inputs) {
      const text =
        inputs.text.length > SUMMARY_TEXT_CHARS
          ? `${inputs.text.slice(0, SUMMARY_TEXT_CHARS - 1)}…`
          : inputs.text;
      return { summary: `notify ${inputs.target ?? "the run's thread"}: "${text}"`, services: [] };
    },
    async execute(inputs, ctx) {
      const target = inputs.target ?? (ctx.run.thread ? threadTarget(ctx.run.thread) : undefined);
      if (target === undefined)
        return { delivered: false, reason: 'the run has no chat thread and the step names no target' };
      try {
        const receipt = await deps.notifier.notify(target, textReply(inputs.text));
        return {
          delivered: true,
          channel: receipt.channel,
          conversation: receipt.conversation,
          ...(receipt.messageId === undefined ? {} : { messageId: receipt.messageId }),
        };
      } catch (err) {
        if (!isOpsbotError(err)) throw err;
        if (err.code === ErrorCode.ChannelNotConfigured) return { delivered: false, reason: err.message };
        if (err.code === ErrorCode.NotifyTargetUnknown)
          throw new PermanentActionError(err.message, { cause: err });
        throw err;
      }
    },
  };
}

/**
 * Where a run's messages go: its thread, under the plan's message on Slack (whose replies thread on the
 * parent's ts) when the plan was posted at the top of a channel.
 */
function threadTarget(thread: NonNullable<WorkflowRun['thread']>): NotifyTarget {
  const { messageId, ...target } = thread;
  if (target.channel === 'slack' && target.threadTs === undefined && messageId !== undefined)
    return { ...target, threadTs: messageId };
  return target;
}
