import type { Activity, ConversationReference } from 'botbuilder';
import { LruMap } from '../../bot/core/lru-map';
import type { RecordStore } from '../../bot/core/record-store';

/** Teams marks a channel thread by appending the root post's id to the channel's conversation id. */
const THREAD_SUFFIX = /;messageid=\d+$/;

/** Conversations known to be stored already; one that drops out costs a single rewrite when it speaks again. */
const MAX_WRITTEN = 10_000;

/**
 * What opsbot needs to post into a conversation unprompted. It leaves out who spoke (the user, their locale)
 * and the message they sent, so it stays the same for every message in a conversation.
 */
export type ConversationAddress = Pick<
  ConversationReference,
  'bot' | 'conversation' | 'channelId' | 'serviceUrl'
>;

/**
 * Where opsbot can post unprompted in Teams: the address of every conversation it has seen, kept in a
 * record store so that notifications still reach them after a restart.
 */
export class ConversationReferences {
  /** What was last written per conversation: most activities change nothing, and a file store rewrites all. */
  private readonly written = new LruMap<string, string>(MAX_WRITTEN);

  constructor(private readonly store: RecordStore<ConversationAddress>) {}

  async remember(activity: Activity): Promise<void> {
    // No activity id either: an address without one starts a new message instead of replying to the last.
    const address: ConversationAddress = {
      bot: activity.recipient,
      conversation: activity.conversation,
      channelId: activity.channelId,
      serviceUrl: activity.serviceUrl,
    };
    const id = activity.conversation.id;
    await this.put(id, address);
    // A thread's root channel is worth an address too: a notification there starts a new post.
    const channel = id.replace(THREAD_SUFFIX, '');
    if (channel !== id) {
      await this.put(channel, { ...address, conversation: { ...address.conversation, id: channel } });
    }
  }

  get(conversation: string): Promise<ConversationAddress | undefined> {
    return this.store.get(conversation);
  }

  count(): Promise<number> {
    return this.store.size();
  }

  private async put(key: string, address: ConversationAddress): Promise<void> {
    const json = JSON.stringify(address);
    if (this.written.get(key) === json) return;
    await this.store.put(key, address);
    this.written.set(key, json);
  }
}
