import type { NotifyTarget } from '../config/schema';
import { ErrorCode, OpsbotError } from '../core/errors';
import type { Reply } from '../core/message';

export type { NotifyTarget };

/** Where a notification landed, so a caller can update or thread under it later. */
export interface NotificationReceipt {
  channel: NotifyTarget['channel'];
  conversation: string;
  /** The platform's id of the posted message (Slack ts, Teams activity id); absent for widget rooms. */
  messageId?: string;
  /** How many receivers got it, where a target fans out (widget rooms). */
  delivered?: number;
}

/** One channel's way of posting a reply unprompted; each channel adapter that can notify provides one. */
export interface NotificationSender {
  readonly channel: NotifyTarget['channel'];
  send(target: NotifyTarget, reply: Reply): Promise<NotificationReceipt>;
}

/**
 * The engines' one way to speak first: `notify("oncall", reply)` for a target named in configuration, or
 * `notify({channel: "slack", conversation: "C0123"}, reply)`. It knows no platform; the adapters that are
 * running register their senders, and a target on a channel that is not running is refused, not dropped.
 */
export class Notifier {
  private readonly senders = new Map<NotifyTarget['channel'], NotificationSender>();

  /** `screen` is the firewall's last look at what is posted: a reply built from alerts or runs may quote them. */
  constructor(
    private readonly named: Record<string, NotifyTarget> = {},
    private readonly screen: (reply: Reply) => Reply = (reply) => reply,
  ) {}

  register(sender: NotificationSender): void {
    this.senders.set(sender.channel, sender);
  }

  unregister(channel: NotifyTarget['channel']): void {
    this.senders.delete(channel);
  }

  async notify(target: string | NotifyTarget, reply: Reply): Promise<NotificationReceipt> {
    const resolved = this.resolve(target);
    const sender = this.senders.get(resolved.channel);
    if (!sender) {
      throw new OpsbotError(
        ErrorCode.ChannelNotConfigured,
        `cannot notify on ${resolved.channel}: that channel is not running in this opsbot`,
      );
    }
    try {
      return await sender.send(resolved, this.screen(reply));
    } catch (err) {
      if (err instanceof OpsbotError) throw err;
      throw new OpsbotError(
        ErrorCode.ChannelDeliveryFailed,
        `${resolved.channel} did not accept the notification: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  private resolve(target: string | NotifyTarget): NotifyTarget {
    if (typeof target !== 'string') return target;
    const found = this.named[target];
    if (!found) {
      const known = Object.keys(this.named);
      throw new OpsbotError(
        ErrorCode.NotifyTargetUnknown,
        `no notification target named "${target}"${known.length > 0 ? ` (configured: ${known.join(', ')})` : ' (none configured under notifications.targets)'}`,
      );
    }
    return found;
  }
}
