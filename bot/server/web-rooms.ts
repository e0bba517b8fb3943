import { WebSocket } from 'ws';
import { renderForWidget } from '../../adapters/web/render';
import type { Reply } from '../core/message';
import type { NotificationReceipt, NotificationSender, NotifyTarget } from '../notify/notifier';

/** Room names travel in a URL and name a notification target: short and printable. */
export const ROOM_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Widget rooms: connections that asked for a room (`/ws?room=oncall`) receive the notifications posted to
 * it. Limits, by design: rooms live in this process, and a notification reaches the widgets connected at
 * that moment — nothing is queued for a widget that connects later.
 */
export class WebRooms implements NotificationSender {
  readonly channel = 'web';
  private readonly rooms = new Map<string, Set<WebSocket>>();

  join(room: string, ws: WebSocket): void {
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Set()));
    members.add(ws);
    ws.once('close', () => {
      members.delete(ws);
      if (members.size === 0) this.rooms.delete(room);
    });
  }

  async send(target: NotifyTarget, reply: Reply): Promise<NotificationReceipt> {
    if (target.channel !== 'web') throw new Error(`not a web room target: ${target.channel}`);
    const frame = JSON.stringify({ type: 'notification', room: target.room, reply: renderForWidget(reply) });
    let delivered = 0;
    for (const ws of this.rooms.get(target.room) ?? []) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      ws.send(frame);
      delivered += 1;
    }
    return { channel: 'web', conversation: target.room, delivered };
  }
}
