import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import {
  actionsBlockId,
  conversationFromBlockId,
  parseConversationKey,
  plainText,
  type SlackConversation,
} from '../../adapters/slack/slack-conversation';
import { SLACK_EVENTS_PATH } from '../../adapters/slack/slack-http-receiver';
import { testConfig } from '../support/runtime';

describe('Slack conversations', () => {
  const kinds: SlackConversation[] = [
    { kind: 'thread', team: 'T1', channel: 'C1', threadTs: '1700000000.000100' },
    { kind: 'dm', team: 'T1', channel: 'D1' },
    { kind: 'command', team: 'T1', channel: 'C1', user: 'U1' },
  ];

  it.each(kinds)('round-trips a $kind conversation through a button block id', (conversation) => {
    const blockId = actionsBlockId(conversation);
    expect(blockId.length).toBeLessThanOrEqual(255);
    expect(conversationFromBlockId(blockId)).toEqual(conversation);
    expect(conversationFromBlockId(`${blockId}#2`)).toEqual(conversation);
  });

  it('does not read conversations out of block ids opsbot did not write', () => {
    expect(conversationFromBlockId(undefined)).toBeUndefined();
    expect(conversationFromBlockId('abc')).toBeUndefined();
    expect(conversationFromBlockId('opsbot/T1/C1/x')).toBeUndefined();
    expect(parseConversationKey('T1/C1/t1.2/extra')).toBeUndefined();
  });

  it("turns Slack's markup into what the person typed", () => {
    expect(plainText('<@UBOT> restart  <#C42|payments-oncall> &lt;now&gt; &amp; tell <@U7>', 'UBOT')).toBe(
      'restart #payments-oncall <now> & tell @U7',
    );
    expect(plainText('see <https://status.example.com|status page> or <https://x.example>', 'UBOT')).toBe(
      'see status page or https://x.example',
    );
    expect(plainText('<!here> is payments healthy?', undefined)).toBe('@here is payments healthy?');
  });
});

describe('Slack app manifest', () => {
  const manifest = parse(readFileSync(path.resolve(__dirname, '../../adapters/slack/manifest.yml'), 'utf8'));

  it('declares the slash command opsbot listens for, at its one endpoint', () => {
    const [command] = manifest.features.slash_commands;
    expect(command.command).toBe(testConfig().slack.slashCommand);
    for (const url of [
      command.url,
      manifest.settings.event_subscriptions.request_url,
      manifest.settings.interactivity.request_url,
    ]) {
      expect(new URL(url).pathname).toBe(SLACK_EVENTS_PATH);
    }
  });

  it('subscribes to the events and asks for the scopes the adapter uses', () => {
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(
      expect.arrayContaining(['app_mention', 'message.channels', 'message.groups', 'message.im']),
    );
    expect(manifest.oauth_config.scopes.bot).toEqual(
      expect.arrayContaining([
        'app_mentions:read',
        'chat:write',
        'commands',
        'im:history',
        'channels:history',
      ]),
    );
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
  });
});
