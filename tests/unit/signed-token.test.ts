import { createHash } from 'node:crypto';
import { Authenticator } from '../../bot/server/authenticator';
import { signToken, verifyToken } from '../../bot/server/signed-token';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';

describe('signed tokens', () => {
  it('round-trips the claims', () => {
    const token = signToken({ sub: 'alice', name: 'Alice', ttlSeconds: 60 }, SECRET, 1_000_000);
    expect(verifyToken(token, SECRET, 1_000_000)).toEqual({
      sub: 'alice',
      name: 'Alice',
      iat: 1000,
      exp: 1060,
    });
  });

  it('refuses tampering, expiry, other secrets and alg=none', () => {
    const token = signToken({ sub: 'alice', name: 'Alice', ttlSeconds: 60 }, SECRET);
    const [h, p, s] = token.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ sub: 'admin', name: 'x', exp: 9e9 })).toString('base64url');
    expect(verifyToken(`${h}.${forged}.${s}`, SECRET)).toEqual({ invalid: 'bad token signature' });
    expect(verifyToken(token, SECRET, Date.now() + 61_000)).toEqual({ invalid: 'token expired' });
    expect(verifyToken(token, 'another-secret-0123456789-0123456789')).toEqual({
      invalid: 'bad token signature',
    });
    const none = Buffer.from('{"alg":"none"}').toString('base64url');
    expect(verifyToken(`${none}.${p}.`, SECRET)).toEqual({ invalid: 'unsupported token algorithm' });
  });
});

describe('authenticator', () => {
  const auth = new Authenticator({
    tokenSecret: SECRET,
    apiKeys: [
      { id: 'plain', key: 'plain-key-0123456789', user: { id: 'ci', name: 'CI' } },
      {
        id: 'hashed',
        keySha256: createHash('sha256').update('hashed-key-0123456789').digest('hex'),
        user: { id: 'deployer', name: 'Deployer' },
      },
    ],
  });

  it('makes callers without a credential anonymous guests', () => {
    expect(auth.authenticate(undefined, 'conv-1')).toEqual({
      id: 'guest:conv-1',
      name: 'guest',
      authenticated: false,
    });
  });

  it('identifies API keys and tokens', () => {
    expect(auth.authenticate('plain-key-0123456789', 'c')).toEqual({
      id: 'api:ci',
      name: 'CI',
      authenticated: true,
    });
    expect(auth.authenticate('hashed-key-0123456789', 'c')).toEqual({
      id: 'api:deployer',
      name: 'Deployer',
      authenticated: true,
    });
    const token = signToken({ sub: 'alice', name: 'Alice', ttlSeconds: 60 }, SECRET);
    expect(auth.authenticate(token, 'c')).toEqual({ id: 'web:alice', name: 'Alice', authenticated: true });
  });

  it('refuses a credential that does not verify instead of treating it as a guest', () => {
    expect(() => auth.authenticate('wrong-key-0123456789', 'c')).toThrow('unknown API key');
    expect(() => auth.authenticate('a.b.c', 'c')).toThrow(/malformed token|bad token signature/);
  });
});
