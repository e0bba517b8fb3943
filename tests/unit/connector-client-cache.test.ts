import { ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { cacheConnectorClients } from '../../adapters/teams/connector-client-cache';

describe('Teams connector client cache', () => {
  // An anonymous caller's identity: no claims, so no app id (ClaimsIdentity's shape).
  const anonymous = { isAuthenticated: true, claims: [], getClaimValue: () => null } as any;
  const cachedAuthentication = () => cacheConnectorClients(new ConfigurationBotFrameworkAuthentication({}));

  it('hands out one client per service URL and audience, across factories', async () => {
    const authentication = cachedAuthentication();
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

  it('caches the factory of an authenticated request too, which is the one CloudAdapter replies with', async () => {
    const authentication = cachedAuthentication();
    const activity = { type: 'message', channelId: 'msteams', serviceUrl: 'http://127.0.0.1:3' } as any;
    const { connectorFactory } = await authentication.authenticateRequest(activity, '');
    const { connectorFactory: next } = await authentication.authenticateRequest(activity, '');
    const client = await connectorFactory!.create('http://127.0.0.1:3', 'aud');
    expect(await next!.create('http://127.0.0.1:3', 'aud')).toBe(client);
    expect(await authentication.createConnectorFactory(anonymous).create('http://127.0.0.1:3', 'aud')).toBe(
      client,
    );
  });

  it('keeps one cache per adapter', async () => {
    const first = await cachedAuthentication().createConnectorFactory(anonymous).create('http://127.0.0.1:4');
    const other = await cachedAuthentication().createConnectorFactory(anonymous).create('http://127.0.0.1:4');
    expect(other).not.toBe(first);
  });

  it('forgets the least recently used client beyond its bound, not every client', async () => {
    const factory = cachedAuthentication().createConnectorFactory(anonymous);
    const oldest = await factory.create('http://127.0.0.1:5/0');
    const kept = await factory.create('http://127.0.0.1:5/1');
    for (let i = 2; i <= 100; i++) {
      await factory.create(`http://127.0.0.1:5/${i}`);
      // Used on every turn, so never the least recently used.
      await factory.create('http://127.0.0.1:5/1');
    }
    expect(await factory.create('http://127.0.0.1:5/1')).toBe(kept);
    expect(await factory.create('http://127.0.0.1:5/0')).not.toBe(oldest);
  });
});
