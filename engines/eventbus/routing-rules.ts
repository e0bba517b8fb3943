import { ErrorCode, RequestError } from '../../bot/core/errors';
import type { RecordStore } from '../../bot/core/record-store';
import type { Routes } from './event-bus';

/** The rules compiled together: routing, and a one-line summary per rule id for people. */
export interface CompiledRules {
  routes: Routes;
  summaries: ReadonlyMap<string, string>;
}

export interface ListedRule {
  id: string;
  /** "config": from the configuration file, changed there; "api": added through the REST API. */
  origin: 'config' | 'api';
  summary: string;
  rule: unknown;
}

/**
 * The bus's routing rules: those of the configuration file plus those added through the API (kept in a
 * RecordStore, so they survive restarts and are shared where the store is). Every change compiles the whole
 * set first; a rule that does not compile is refused with the reason and the routing in force is untouched.
 */
export class RoutingRules {
  private added = new Map<string, unknown>();

  constructor(
    private readonly fromConfig: readonly unknown[],
    private readonly store: RecordStore<unknown>,
    private readonly compile: (rules: unknown[]) => CompiledRules,
    private readonly apply: (routes: Routes) => void,
  ) {}

  private compiled: CompiledRules | undefined;

  /** Compiles the configured and stored rules and puts them in force; throws when any does not compile. */
  async load(): Promise<void> {
    this.added = new Map((await this.store.list()).map(({ key, value }) => [key, value]));
    this.install(this.compile(this.all()));
  }

  async list(): Promise<ListedRule[]> {
    const summaries = this.compiled?.summaries ?? new Map<string, string>();
    const configIds = new Set(this.fromConfig.map(ruleIdOf));
    return this.all().map((rule) => {
      const id = ruleIdOf(rule);
      return {
        id,
        origin: configIds.has(id) ? 'config' : 'api',
        summary: summaries.get(id) ?? '',
        rule: withoutHeaderValues(rule),
      };
    });
  }

  async add(rule: unknown): Promise<ListedRule> {
    const id = ruleIdOf(rule);
    if (id && (this.added.has(id) || this.fromConfig.some((r) => ruleIdOf(r) === id))) {
      throw new RequestError(ErrorCode.RuleExists, `a rule with id ${id} exists; remove it first`);
    }
    const compiled = this.compile([...this.all(), rule]);
    await this.store.put(id, rule);
    this.added.set(id, rule);
    this.install(compiled);
    return { id, origin: 'api', summary: compiled.summaries.get(id) ?? '', rule: withoutHeaderValues(rule) };
  }

  async remove(id: string): Promise<void> {
    if (this.fromConfig.some((r) => ruleIdOf(r) === id)) {
      throw new RequestError(
        ErrorCode.RuleExists,
        `rule ${id} is defined in the configuration file; change it there`,
      );
    }
    if (!this.added.has(id)) throw new RequestError(ErrorCode.NotFound, `no routing rule ${id}`);
    const rest = this.all().filter((r) => ruleIdOf(r) !== id);
    const compiled = this.compile(rest);
    await this.store.delete(id);
    this.added.delete(id);
    this.install(compiled);
  }

  private all(): unknown[] {
    return [...this.fromConfig, ...this.added.values()];
  }

  private install(compiled: CompiledRules): void {
    this.compiled = compiled;
    this.apply(compiled.routes);
  }
}

/** Webhook headers usually carry credentials: a listed rule names them but does not show their values. */
function withoutHeaderValues(rule: unknown): unknown {
  const targets = (rule as { targets?: unknown }).targets;
  if (!Array.isArray(targets)) return rule;
  return {
    ...(rule as object),
    targets: targets.map((target: unknown) => {
      const webhook = (target as { webhook?: { headers?: Record<string, unknown> } }).webhook;
      if (!webhook?.headers) return target;
      const hidden = Object.fromEntries(Object.keys(webhook.headers).map((name) => [name, '[REDACTED]']));
      return { ...(target as object), webhook: { ...webhook, headers: hidden } };
    }),
  };
}

function ruleIdOf(rule: unknown): string {
  return typeof rule === 'object' && rule !== null && typeof (rule as { id?: unknown }).id === 'string'
    ? (rule as { id: string }).id
    : '';
}
