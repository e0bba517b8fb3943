import { createSlackAdapter } from '../../adapters/slack/slack-adapter';
import { createTeamsAdapter } from '../../adapters/teams/teams-adapter';
import type { Logger } from '../core/logger';
import type { Runtime } from '../runtime';
import type { ChannelAdapter } from './channel-adapter';

/** The chat platforms this configuration turns on; each is off until its credentials are configured. */
export function createChannelAdapters(runtime: Runtime, logger: Logger): ChannelAdapter[] {
  const adapters: ChannelAdapter[] = [];
  const { slack, teams } = runtime.config;
  if (slack.botToken) adapters.push(createSlackAdapter(runtime, slack, logger));
  if (teams.appId || teams.enabled) adapters.push(createTeamsAdapter(runtime, teams, logger));
  return adapters;
}
