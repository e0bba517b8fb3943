import type { CatalogService, ServiceCatalog } from '../../../bot/config/catalog';
import type { EnvironmentName } from '../../../bot/config/schema';
import { PermanentActionError } from '../action';

/** A catalog service in one of the environments it runs in. */
export interface ServiceTarget {
  service: CatalogService;
  environment: EnvironmentName;
}

/**
 * The service and environment a step names, by name or alias; the catalog's default environment when it
 * names none. A name the catalog does not know is a mistake in the workflow, which retrying cannot fix.
 */
export function resolveServiceTarget(
  catalog: ServiceCatalog,
  service: unknown,
  environment: unknown,
): ServiceTarget {
  const name = typeof service === 'string' ? catalog.resolveService(service) : undefined;
  const found = name === undefined ? undefined : catalog.get(name);
  if (!found) throw new PermanentActionError(`the catalog has no service called ${String(service)}`);
  const env =
    environment === undefined
      ? catalog.defaultEnvironment
      : typeof environment === 'string'
        ? catalog.resolveEnvironment(environment)
        : undefined;
  if (env === undefined)
    throw new PermanentActionError(`there is no environment called ${String(environment)}`);
  if (!found.environments[env]) {
    const where = Object.keys(found.environments).join(', ');
    throw new PermanentActionError(`${found.name} does not run in ${env} (it runs in ${where})`);
  }
  return { service: found, environment: env };
}

/** "payments in production" for a plan, from inputs that may still hold unresolved templates. */
export function describeServiceTarget(
  catalog: ServiceCatalog,
  service: unknown,
  environment: unknown,
): { name: string; environment: string } {
  const name = typeof service === 'string' ? (catalog.resolveService(service) ?? service) : String(service);
  const env =
    typeof environment === 'string'
      ? (catalog.resolveEnvironment(environment) ?? environment)
      : catalog.defaultEnvironment;
  return { name, environment: env };
}
