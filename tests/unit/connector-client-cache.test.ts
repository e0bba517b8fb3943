import { ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { cacheConnectorClients } from '../../adapters/teams/connector-client-cache';

describe('Teams connector client cache', () => {
  // An anonymous caller's identity: no claims, so no app id (ClaimsIdentity's shape).
  const anonymous = { isAuthenticated: true, claims: [], getClaimValue: () => null } as any;

  it('hands out one client per service URL and audience, across factories', async () => {
    const authentication = cacheConnectorClients(new ConfigurationBotFrameworkAuthentication({}));
    const first = await authentication.createConnectorFactory(anonymous).create('http://127.0.0.1:1', 'aud');
    const again = await authentication.createConnectorFactory(anonymous).create('http://127.0.0.1:1', 'aud');
    const otherUrl = await authentication
      .createConnectorFactory(anonymous)
      .create('http://127.0.0.1:2', 'aud');
    const otherAudience = await authentication
      .createConnectorFactory(anonymous)
      .create('http://127.0.0.1:1', 'x');
    expect(again).toBe(first);
    expect(otherUrl).not.toBe(first);
    expect(otherAudience).not.toBe(first);
    expect((first as any).baseUri).toBe('http://127.0.0.1:1');
  });

  it('keeps clients apart from an uncached authentication (the cache is per adapter)', async () => {
    const cached = cacheConnectorClients(new ConfigurationBotFrameworkAuthentication({}));
    const plain = new ConfigurationBotFrameworkAuthentication({});
    const a = await cached.createConnectorFactory(anonymous).create('http://127.0.0.1:3', 'aud');
    const b = await plain.createConnectorFactory(anonymous).create('http://127.0.0.1:3', 'aud');
    expect(a).not.toBe(b);
  });
});
