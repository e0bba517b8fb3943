import type { Router } from 'express';
import type { Component } from '../core/health';
import type { NotificationSender } from '../notify/notifier';

/**
 * A chat platform plugged into opsbot (Slack, Teams): it receives on its own endpoints, turns platform
 * payloads into turns for the assistant, renders replies back, and can post unprompted through its sender.
 */
export interface ChannelAdapter {
  /** The HTTP endpoints it receives on, mounted on opsbot's own Express app; absent when it connects out. */
  readonly router?: Router;
  /** Posts notifications into this platform's conversations. */
  readonly sender?: NotificationSender;
  /** Shown by /readyz and "system status". */
  readonly component: Component;
  /** Connects out where the platform needs it (Slack Socket Mode); otherwise nothing to do. */
  start(): Promise<void>;
  stop(): Promise<void>;
}
