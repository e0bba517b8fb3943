import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { renderForWidget } from '../../adapters/web/render';
import { ErrorCode, isOpsbotError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Principal } from '../core/message';
import type { Runtime } from '../runtime';
import type { Authenticator } from './authenticator';
import { CONVERSATION_ID } from './chat-request';
import type { ServerMetrics } from './metrics';
import { MAX_BODY_BYTES } from './app';
import { ROOM_NAME, type WebRooms } from './web-rooms';

/** Joining a notification room shows alerts and runbook progress, so it takes more than a guest's rights. */
export const ROOM_PERMISSION = 'notifications.read';

export const WS_PATH = '/ws';
/** Connections that stop answering pings for this long are dropped, so dead tabs do not pile up. */
export const WS_HEARTBEAT_MS = 30_000;
const CLIENT_MESSAGE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

type ClientFrame =
  | { type: 'message'; id?: string; text: string }
  | { type: 'action'; id?: string; actionId: string; value: string };

/**
 * The widget's channel: `ws(s)://host/ws?conversation=<id>[&token=<signed token>]`. Protocol (JSON text
 * frames) is documented at the top of adapters/web/public/widget.js.
 */
export function attachWebSocketChat(
  server: Server,
  deps: {
    runtime: Runtime;
    authenticator: Authenticator;
    metrics: ServerMetrics;
    logger: Logger;
    rooms: WebRooms;
  },
): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WS_PATH) return rejectUpgrade(socket, 404, 'Not Found');
    const conversation = url.searchParams.get('conversation') ?? randomUUID();
    if (!CONVERSATION_ID.test(conversation)) return rejectUpgrade(socket, 400, 'Bad Request');
    const room = url.searchParams.get('room') ?? undefined;
    if (room !== undefined && !ROOM_NAME.test(room)) return rejectUpgrade(socket, 400, 'Bad Request');
    let user: Principal;
    try {
      user = deps.authenticator.authenticate(url.searchParams.get('token') ?? undefined, conversation);
    } catch {
      return rejectUpgrade(socket, 401, 'Unauthorized');
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, user, conversation, room));
  });

  function serve(ws: WebSocket, user: Principal, conversation: string, room: string | undefined): void {
    deps.metrics.wsConnections.inc();
    let alive = true;
    ws.on('pong', () => (alive = true));
    const heartbeat = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, WS_HEARTBEAT_MS).unref();
    ws.on('close', () => clearInterval(heartbeat));
    ws.on('error', (err) => deps.logger.warn({ err: err.message }, 'websocket error'));

    const decision = room === undefined ? undefined : deps.runtime.policy.decide(user, ROOM_PERMISSION);
    if (room !== undefined && decision?.allowed) deps.rooms.join(room, ws);
    send(ws, {
      type: 'welcome',
      conversationId: conversation,
      user: { name: user.name, roles: deps.runtime.policy.rolesFor(user) },
      ...(room !== undefined && decision?.allowed ? { room } : {}),
    });
    if (decision && !decision.allowed) {
      // The chat itself still works; only the room is refused, and the widget says why.
      send(ws, {
        type: 'error',
        error: { code: ErrorCode.Forbidden, message: `cannot join room ${room}: ${decision.reason}` },
      });
    }

    ws.on('message', async (data: RawData, isBinary: boolean) => {
      const frame = isBinary ? undefined : parseFrame(data.toString());
      if (!frame) {
        return send(ws, {
          type: 'error',
          error: {
            code: ErrorCode.InvalidRequest,
            message:
              'frames must be JSON: {"type":"message","text":"…"} or {"type":"action","actionId":"…","value":"…"}',
          },
        });
      }
      const inReplyTo = frame.id;
      try {
        const result = await deps.runtime.assistant.handle({
          channel: 'web',
          user,
          conversationId: `${user.id}/${conversation}`,
          text: frame.type === 'message' ? frame.text : '',
          action: frame.type === 'action' ? { actionId: frame.actionId, value: frame.value } : undefined,
        });
        send(ws, { type: 'reply', inReplyTo, reply: renderForWidget(result.reply) });
      } catch (err) {
        if (isOpsbotError(err) && err.code === ErrorCode.TextTooLong) {
          // Said in the conversation, as a reply: the person did nothing wrong but type a lot.
          return send(ws, {
            type: 'reply',
            inReplyTo,
            reply: { text: err.message, blocks: [{ type: 'section', text: err.message }] },
          });
        }
        const known = isOpsbotError(err);
        if (!known) deps.logger.error({ err }, 'websocket turn failed');
        send(ws, {
          type: 'error',
          inReplyTo,
          error: {
            code: known ? err.code : ErrorCode.Internal,
            message: known ? err.message : 'internal error',
          },
        });
      }
    });
  }

  return wss;
}

function parseFrame(text: string): ClientFrame | undefined {
  let frame: Record<string, unknown>;
  try {
    frame = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof frame !== 'object' || frame === null) return undefined;
  const id = typeof frame.id === 'string' && CLIENT_MESSAGE_ID.test(frame.id) ? frame.id : undefined;
  if (frame.type === 'message' && typeof frame.text === 'string')
    return { type: 'message', id, text: frame.text };
  if (frame.type === 'action' && typeof frame.actionId === 'string' && typeof frame.value === 'string') {
    return { type: 'action', id, actionId: frame.actionId, value: frame.value };
  }
  return undefined;
}

function send(ws: WebSocket, frame: object): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
}

function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
