import type { ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { LruMap } from '../../bot/core/lru-map';

type Authentication = ConfigurationBotFrameworkAuthentication;
type ConnectorFactory = ReturnType<Authentication['createConnectorFactory']>;
type ConnectorClient = Awaited<ReturnType<ConnectorFactory['create']>>;

/** Bot Connector endpoints are few (one per region and cloud); the bound only guards against a flood of fakes. */
const MAX_CACHED_CLIENTS = 100;

/**
 * Makes CloudAdapter reuse one ConnectorClient per service URL and audience instead of building a new one,
 * with its whole HTTP pipeline, for every activity: that construction was a tenth of the CPU of a Teams turn
 * in bench:adapters. botbuilder's older BotFrameworkAdapter kept the same cache; a client holds only the
 * app's credentials, which renew their own tokens.
 */
export function cacheConnectorClients(authentication: Authentication): Authentication {
  const clients = new LruMap<string, ConnectorClient>(MAX_CACHED_CLIENTS);
  const cached = (factory: ConnectorFactory): ConnectorFactory =>
    Object.assign(Object.create(factory) as ConnectorFactory, {
      async create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
        const key = `${serviceUrl}|${audience ?? ''}`;
        // Only a built client is kept, so a failed creation is tried again next time; concurrent first
        // calls for one key may each build one, and the last is kept.
        let client = clients.get(key);
        if (!client) {
          client = await factory.create(serviceUrl, audience);
          clients.set(key, client);
        }
        return client;
      },
    });

  const createConnectorFactory = authentication.createConnectorFactory.bind(authentication);
  const authenticateRequest = authentication.authenticateRequest.bind(authentication);
  authentication.createConnectorFactory = (claims) => cached(createConnectorFactory(claims));
  authentication.authenticateRequest = async (activity, authHeader) => {
    const result = await authenticateRequest(activity, authHeader);
    return result.connectorFactory
      ? { ...result, connectorFactory: cached(result.connectorFactory) }
      : result;
  };
  return authentication;
}
