import type { EnvironmentName, OpsbotConfig, ServiceConfig } from './schema';

export interface CatalogService extends ServiceConfig {
  name: string;
}

/** The service catalog: canonical names, aliases and where each service runs. Built once from configuration. */
export class ServiceCatalog {
  private readonly services = new Map<string, CatalogService>();
  private readonly serviceAliases = new Map<string, string>();
  private readonly environmentAliases = new Map<string, EnvironmentName>();

  constructor(config: Pick<OpsbotConfig, 'services' | 'environments' | 'defaultEnvironment'>) {
    this.defaultEnvironment = config.defaultEnvironment;
    for (const [name, service] of Object.entries(config.services)) {
      this.services.set(name, { name, ...service });
      for (const word of [name, ...service.aliases]) this.serviceAliases.set(word.toLowerCase(), name);
    }
    for (const [env, def] of Object.entries(config.environments)) {
      const canonical = env as EnvironmentName;
      for (const word of [env, ...(def?.aliases ?? [])])
        this.environmentAliases.set(word.toLowerCase(), canonical);
    }
  }

  readonly defaultEnvironment: EnvironmentName;

  list(): CatalogService[] {
    return [...this.services.values()];
  }

  get(name: string): CatalogService | undefined {
    return this.services.get(name);
  }

  /** Canonical service name for a name or alias, case-insensitive. */
  resolveService(word: string): string | undefined {
    return this.serviceAliases.get(word.toLowerCase());
  }

  resolveEnvironment(word: string): EnvironmentName | undefined {
    return this.environmentAliases.get(word.toLowerCase());
  }

  /** Every name and alias with its canonical service, for lexicon-based entity extraction. */
  serviceLexicon(): ReadonlyMap<string, string> {
    return this.serviceAliases;
  }

  environmentLexicon(): ReadonlyMap<string, EnvironmentName> {
    return this.environmentAliases;
  }
}
