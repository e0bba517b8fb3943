import { ServiceCatalog } from '../../bot/config/catalog';
import { loadConfig } from '../../bot/config/load';

describe('the shipped demo catalog', () => {
  const { config } = loadConfig({ OPSBOT_CONFIG: 'opsbot.config.yaml' });
  const catalog = new ServiceCatalog(config);

  it('has exactly the eight demo services', () => {
    expect(
      catalog
        .list()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['checkout', 'gateway', 'inventory', 'notifications', 'orders', 'payments', 'search', 'users']);
  });

  it.each([
    ['payment', 'payments'],
    ['payment-service', 'payments'],
    ['pay', 'payments'],
    ['PAYMENTS', 'payments'],
    ['order', 'orders'],
    ['api-gateway', 'gateway'],
  ])('resolves the alias %s to %s', (alias, name) => {
    expect(catalog.resolveService(alias)).toBe(name);
  });

  it.each([
    ['prod', 'production'],
    ['prd', 'production'],
    ['stage', 'staging'],
    ['stg', 'staging'],
    ['dev', 'development'],
  ])('resolves the environment %s to %s', (alias, env) => {
    expect(catalog.resolveEnvironment(alias)).toBe(env);
  });

  it('does not resolve unknown words', () => {
    expect(catalog.resolveService('database')).toBeUndefined();
    expect(catalog.resolveEnvironment('qa')).toBeUndefined();
  });
});
