import { createHmac, timingSafeEqual } from 'node:crypto';

/** The claims opsbot puts in a signed token: who the user is, for how long. Roles come from config, not from here. */
export interface TokenClaims {
  sub: string;
  name: string;
  iat: number;
  exp: number;
}

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

/** A compact HS256 JWT, so any JWT library can mint tokens opsbot accepts. */
export function signToken(
  claims: { sub: string; name: string; ttlSeconds: number },
  secret: string,
  now = Date.now(),
): string {
  const iat = Math.floor(now / 1000);
  const payload: TokenClaims = { sub: claims.sub, name: claims.name, iat, exp: iat + claims.ttlSeconds };
  const body = `${HEADER}.${base64url(JSON.stringify(payload))}`;
  return `${body}.${hmac(body, secret)}`;
}

/** Returns the claims, or a reason the token is not acceptable. Only HS256 is accepted: never "none". */
export function verifyToken(
  token: string,
  secret: string,
  now = Date.now(),
): TokenClaims | { invalid: string } {
  const parts = token.split('.');
  if (parts.length !== 3) return { invalid: 'malformed token' };
  const [header, payload, signature] = parts as [string, string, string];
  let claims: Partial<TokenClaims>;
  try {
    const h = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string };
    if (h.alg !== 'HS256') return { invalid: 'unsupported token algorithm' };
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<TokenClaims>;
  } catch {
    return { invalid: 'malformed token' };
  }
  const expected = Buffer.from(hmac(`${header}.${payload}`, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { invalid: 'bad token signature' };
  if (typeof claims.sub !== 'string' || claims.sub === '' || typeof claims.exp !== 'number') {
    return { invalid: 'token lacks sub or exp' };
  }
  if (claims.exp * 1000 <= now) return { invalid: 'token expired' };
  return {
    sub: claims.sub,
    name: typeof claims.name === 'string' ? claims.name : claims.sub,
    iat: claims.iat ?? 0,
    exp: claims.exp,
  };
}

function hmac(data: string, secret: string): string {
  return createHmac('sha256', secret).update(data).digest('base64url');
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
