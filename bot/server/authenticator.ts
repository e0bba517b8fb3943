import { createHash, timingSafeEqual } from 'node:crypto';
import type { OpsbotConfig } from '../config/schema';
import { ErrorCode, RequestError } from '../core/errors';
import type { Principal } from '../core/message';
import type { Permission, Policy } from '../policy/policy';
import { verifyToken } from './signed-token';

/**
 * Establishes who is calling from a credential, never from the request body: a signed token (web users,
 * principal "web:<sub>") or an API key from config (integrations, principal "api:<user id>"). No credential
 * means an anonymous guest; a credential that does not verify is refused, not downgraded.
 */
export class Authenticator {
  private readonly keys: { digest: Buffer; user: { id: string; name: string } }[];

  constructor(private readonly auth: OpsbotConfig['auth']) {
    this.keys = auth.apiKeys.map((k) => ({
      digest: k.keySha256 ? Buffer.from(k.keySha256, 'hex') : sha256(k.key ?? ''),
      user: k.user,
    }));
  }

  /** `credential` is the bearer token or API key; undefined for an anonymous caller. */
  authenticate(credential: string | undefined, guestLabel: string): Principal {
    if (credential === undefined || credential === '') {
      return { id: `guest:${guestLabel}`, name: 'guest', authenticated: false };
    }
    const digest = sha256(credential);
    const key = this.keys.find((k) => timingSafeEqual(k.digest, digest));
    if (key) return { id: `api:${key.user.id}`, name: key.user.name, authenticated: true };
    if (credential.split('.').length === 3) {
      if (!this.auth.tokenSecret) throw unauthorized('signed tokens are not enabled on this server');
      const claims = verifyToken(credential, this.auth.tokenSecret);
      if ('invalid' in claims) throw unauthorized(claims.invalid);
      return { id: `web:${claims.sub}`, name: claims.name, authenticated: true };
    }
    throw unauthorized('unknown API key');
  }
}

/**
 * The caller of an API request, from its `Authorization` header, if policy grants it `permission`; a
 * RequestError (401 or 403) otherwise. `guestLabel` names an anonymous caller in logs.
 */
export function authorisedCaller(
  authenticator: Authenticator,
  policy: Policy,
  authorization: string | undefined,
  permission: Permission,
  guestLabel: string,
): Principal {
  const user = authenticator.authenticate(bearerCredential(authorization), guestLabel);
  const decision = policy.decide(user, permission);
  if (!decision.allowed) throw new RequestError(ErrorCode.Forbidden, decision.reason);
  return user;
}

/** The credential of an `Authorization: Bearer …` header; undefined when there is none. */
export function bearerCredential(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthorized('the Authorization header must be "Bearer <token or API key>"');
  return match[1];
}

function unauthorized(reason: string): RequestError {
  return new RequestError(ErrorCode.Unauthorized, reason);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
