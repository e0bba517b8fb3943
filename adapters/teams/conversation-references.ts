import type { Activity, ConversationReference } from 'botbuilder';
import { TurnContext } from 'botbuilder';
import type { RecordStore } from '../../bot/core/record-store';

/** Teams marks a channel thread by appending the root post's id to the channel's conversation id. */
const THREAD_SUFFIX = /;messageid=\d+$/;

/**
 * Where opsbot can post unprompted in Teams: the conversation reference of every conversation it has seen,
 * kept in a record store so that notifications still reach them after a restart.
 */
export class ConversationReferences {
  /** What was last written per conversation: most activities change nothing, and a file store rewrites all. */
  private readonly written = new Map<string, string>();

  constructor(private readonly store: RecordStore<Partial<ConversationReference>>) {}

  async remember(activity: Activity): Promise<void> {
    // Without the activity id a reference addresses the conversation rather than one message in it, so
    // posting with it starts a new message instead of replying to whatever was said last.
    const reference = TurnContext.getConversationReference(activity);
    delete reference.activityId;
    const id = activity.conversation.id;
    await this.put(id, reference);
    // A thread's root channel is worth a reference too: a notification there starts a new post.
    const channel = id.replace(THREAD_SUFFIX, '');
    if (channel !== id && reference.conversation) {
      await this.put(channel, { ...reference, conversation: { ...reference.conversation, id: channel } });
    }
  }

  get(conversation: string): Promise<Partial<ConversationReference> | undefined> {
    return this.store.get(conversation);
  }

  async count(): Promise<number> {
    return (await this.store.list()).length;
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private async put(key: string, reference: Partial<ConversationReference>): Promise<void> {
    const json = JSON.stringify(reference);
    if (this.written.get(key) === json) return;
    await this.store.put(key, reference);
    this.written.set(key, json);
  }
}
