import { ErrorCode, RequestError } from '../core/errors';
import type { TurnAction } from '../core/message';

/** The body of POST /api/chat: `{text, user?:{id,name}, conversation?, action?}`. */
export interface ChatRequest {
  text: string;
  user?: { id: string; name?: string };
  conversation: string;
  action?: TurnAction;
}

/** Conversation ids become session keys: keep them short and printable. */
export const CONVERSATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function parseChatRequest(body: unknown): ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('the body must be a JSON object like {"text": "is payments healthy?"}');
  }
  const b = body as Record<string, unknown>;
  if (typeof b.text !== 'string') throw invalid('"text" is required and must be a string');
  if (b.text.trim() === '' && b.action === undefined) throw invalid('"text" must not be empty');

  let user: ChatRequest['user'];
  if (b.user !== undefined) {
    const u = b.user as Record<string, unknown>;
    if (typeof u !== 'object' || u === null || typeof u.id !== 'string' || !CONVERSATION_ID.test(u.id)) {
      throw invalid(
        '"user" must be {"id": string, "name"?: string} with an id of 1-128 letters, digits or ._:-',
      );
    }
    if (u.name !== undefined && typeof u.name !== 'string') throw invalid('"user.name" must be a string');
    user = { id: u.id, name: u.name as string | undefined };
  }

  const conversation = b.conversation ?? 'default';
  if (typeof conversation !== 'string' || !CONVERSATION_ID.test(conversation)) {
    throw invalid('"conversation" must be 1-128 letters, digits or ._:-');
  }

  let action: TurnAction | undefined;
  if (b.action !== undefined) {
    const a = b.action as Record<string, unknown>;
    if (
      typeof a !== 'object' ||
      a === null ||
      typeof a.actionId !== 'string' ||
      typeof a.value !== 'string'
    ) {
      throw invalid('"action" must be {"actionId": string, "value": string}');
    }
    action = { actionId: a.actionId, value: a.value };
  }
  return { text: b.text, user, conversation, action };
}

function invalid(message: string): RequestError {
  return new RequestError(ErrorCode.InvalidRequest, message);
}
