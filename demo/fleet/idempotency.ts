import type { IncomingMessage } from 'node:http';
import { LruMap } from '../../bot/core/lru-map';
import { HttpError } from './http-json';

const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Set on a response that was replayed from the store rather than produced by doing the work again. */
export const IDEMPOTENT_REPLAY_HEADER = 'idempotent-replayed';
const MAX_KEY_LENGTH = 255;
/** Keys are remembered for the recent past only: a saga retries within seconds, not days. */
const MAX_STORED_RESPONSES = 10_000;

export interface StoredResponse {
  status: number;
  text: string;
}

/**
 * Responses of POSTs sent with an Idempotency-Key, so a retried request returns the first answer instead of
 * charging, reserving or creating twice. Only successes are kept: a refusal did no work, so a retry may
 * as well be judged afresh. Per process, like all of a replica's state.
 */
export class IdempotencyStore {
  private readonly responses = new LruMap<string, StoredResponse>(MAX_STORED_RESPONSES);

  /** The store key for this request, undefined when it carries no Idempotency-Key; 400 for a bad key. */
  keyFor(req: IncomingMessage, path: string): string | undefined {
    const header = req.headers[IDEMPOTENCY_HEADER];
    if (header === undefined) return undefined;
    if (typeof header !== 'string' || header === '' || header.length > MAX_KEY_LENGTH) {
      throw new HttpError(
        400,
        'invalid_idempotency_key',
        `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters`,
      );
    }
    // By path, not route template: the same key cancelling two different orders is two requests.
    return `${path}\n${header}`;
  }

  get(key: string): StoredResponse | undefined {
    return this.responses.get(key);
  }

  remember(key: string, response: StoredResponse): void {
    if (response.status >= 200 && response.status < 300) this.responses.set(key, response);
  }
}
