import { detectPii } from '../pii/detect';
import { DEFAULT_THRESHOLD, PII_TYPES, type Finding, type PiiType } from '../pii/finding';
import { redactText, validatePolicy, type RedactionMode, type RedactionPolicy } from '../pii/redact';

/**
 * Where text crosses into something opsbot keeps or hands on, each with its own rule:
 * - `chat`: inbound chat text, before the dialogue sees it (so before it is stored in a session, logged,
 *   indexed or put in a run's parameters);
 * - `replies`: what opsbot posts (answers, plans, run progress, notifications);
 * - `logs`: structured log lines;
 * - `audit`: audit records, before they are hashed into the chain;
 * - `events`: event payloads, where a routing rule's `redact` transform asks for it;
 * - `knowledge`: documents, before they are chunked, embedded and indexed;
 * - `llm`: the question and passages sent to a language model.
 */
export const FIREWALL_PATHS = ['chat', 'replies', 'logs', 'audit', 'events', 'knowledge', 'llm'] as const;
export type FirewallPath = (typeof FIREWALL_PATHS)[number];

export interface FirewallPathRule {
  enabled: boolean;
  /** Only these types are looked for on this path; every type unless given. */
  types?: readonly PiiType[];
  /** Overrides of the firewall-wide modes for this path. */
  redaction?: { default?: RedactionMode; perType?: Partial<Record<PiiType, RedactionMode>> };
}

export interface PiiFirewallOptions {
  enabled: boolean;
  /** Findings scoring below this are left alone. */
  threshold?: number;
  /** The HMAC key of `hash` mode's pseudonyms; required when any path uses it. */
  salt?: string;
  redaction: { default: RedactionMode; perType?: Partial<Record<PiiType, RedactionMode>> };
  /** Paths not named here are on, with every type and the firewall-wide modes. */
  paths?: Partial<Record<FirewallPath, FirewallPathRule>>;
}

/** What a scan of one text found, and the text with those findings rewritten. */
export interface Screened {
  text: string;
  findings: Finding[];
}

interface CompiledPath {
  enabled: boolean;
  types?: readonly PiiType[];
  policy: RedactionPolicy;
}

/**
 * Shorter strings cannot hold any finding the detectors report (the shortest, an email like a@b.io, has 6
 * characters), and most strings in logs and replies are short: they skip detection.
 */
const MIN_SCANNED_CHARS = 6;

/**
 * The PII and secrets firewall: one policy, applied on every path where text is kept or handed on. It never
 * changes its input: a value with nothing to redact comes back as the same reference, so callers can tell
 * cheaply whether anything was found, and one with findings comes back as a copy.
 */
export class PiiFirewall {
  private readonly threshold: number;
  private readonly paths: Record<FirewallPath, CompiledPath>;
  private readonly counts = new Map<string, number>();

  constructor(options: PiiFirewallOptions) {
    this.threshold = options.threshold ?? DEFAULT_THRESHOLD;
    const compiled = {} as Record<FirewallPath, CompiledPath>;
    for (const path of FIREWALL_PATHS) {
      const rule = options.paths?.[path];
      const policy: RedactionPolicy = {
        default: rule?.redaction?.default ?? options.redaction.default,
        perType: { ...options.redaction.perType, ...rule?.redaction?.perType },
        ...(options.salt ? { salt: options.salt } : {}),
      };
      const enabled = options.enabled && (rule?.enabled ?? true);
      // A policy that cannot be applied (hash mode without a salt) stops opsbot at start, not at the first leak.
      if (enabled) validatePolicy(policy);
      compiled[path] = { enabled, types: rule?.types, policy };
    }
    this.paths = compiled;
  }

  /** A firewall that lets everything through: for tools that must show data as it is. */
  static off(): PiiFirewall {
    return new PiiFirewall({ enabled: false, redaction: { default: 'type' } });
  }

  /** The standard policy: every type on every path, replaced by `<TYPE>`. */
  static standard(): PiiFirewall {
    return new PiiFirewall({ enabled: true, redaction: { default: 'type' } });
  }

  enabled(path: FirewallPath): boolean {
    return this.paths[path].enabled;
  }

  /** The findings in `text` on this path and the text with them redacted. */
  screen(text: string, path: FirewallPath): Screened {
    const rule = this.paths[path];
    if (!rule.enabled || text.length < MIN_SCANNED_CHARS) return { text, findings: [] };
    const findings = detectPii(text, { threshold: this.threshold, types: rule.types });
    if (findings.length === 0) return { text, findings };
    for (const finding of findings) this.count(path, finding.type);
    return { text: redactText(text, findings, rule.policy), findings };
  }

  redactText(text: string, path: FirewallPath): string {
    return this.screen(text, path).text;
  }

  /**
   * `value` with every string in it (at any depth, not object keys) screened for this path. Errors keep their
   * class, and their message and stack are screened too; cycles are left as they are.
   */
  redactValue<T>(value: T, path: FirewallPath): T {
    if (!this.paths[path].enabled) return value;
    return this.redactAny(value, path, new Set()) as T;
  }

  /** Findings per path and type since start: "chat secret" → 3. Values are never kept. */
  findingCounts(): { path: FirewallPath; type: PiiType; count: number }[] {
    return [...this.counts].map(([key, count]) => {
      const [path, type] = key.split(' ') as [FirewallPath, PiiType];
      return { path, type, count };
    });
  }

  private count(path: FirewallPath, type: PiiType): void {
    const key = `${path} ${type}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  private redactAny(value: unknown, path: FirewallPath, seen: Set<object>): unknown {
    if (typeof value === 'string') return this.redactText(value, path);
    if (typeof value !== 'object' || value === null || seen.has(value)) return value;
    seen.add(value);
    try {
      if (value instanceof Error) return this.redactError(value, path, seen);
      if (Array.isArray(value)) {
        let copy: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          const redacted = this.redactAny(item, path, seen);
          if (redacted !== item) (copy ??= value.slice())[i] = redacted;
        }
        return copy ?? value;
      }
      // Only plain data: a Date, a Buffer or a Map is not text a person wrote.
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return value;
      let copy: Record<string, unknown> | undefined;
      for (const key of Object.keys(value)) {
        const item = (value as Record<string, unknown>)[key];
        const redacted = this.redactAny(item, path, seen);
        if (redacted !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = redacted;
      }
      return copy ?? value;
    } finally {
      seen.delete(value);
    }
  }

  private redactError(err: Error, path: FirewallPath, seen: Set<object>): Error {
    const message = this.redactText(err.message, path);
    const stack = err.stack === undefined ? undefined : this.redactText(err.stack, path);
    const fields: Record<string, unknown> = {};
    let changed = message !== err.message || stack !== err.stack;
    for (const key of Object.keys(err)) {
      const item = (err as unknown as Record<string, unknown>)[key];
      fields[key] = this.redactAny(item, path, seen);
      if (fields[key] !== item) changed = true;
    }
    if (!changed) return err;
    // Same prototype, so the class name a log shows (and instanceof) survive the copy.
    const copy = Object.create(Object.getPrototypeOf(err) as object) as Error;
    Object.assign(copy, fields);
    Object.defineProperty(copy, 'message', { value: message, writable: true, configurable: true });
    Object.defineProperty(copy, 'stack', { value: stack, writable: true, configurable: true });
    if (!Object.hasOwn(fields, 'name') && Object.hasOwn(err, 'name'))
      Object.defineProperty(copy, 'name', { value: err.name, writable: true, configurable: true });
    return copy;
  }
}

/** How people read a type in a warning: "a secret", "2 email addresses". */
const TYPE_WORDS: Record<PiiType, [string, string]> = {
  email: ['an email address', 'email addresses'],
  phone: ['a phone number', 'phone numbers'],
  credit_card: ['a card number', 'card numbers'],
  iban: ['an IBAN', 'IBANs'],
  us_ssn: ['a US social security number', 'US social security numbers'],
  ip_address: ['an IP address', 'IP addresses'],
  secret: ['a secret (a token, key or password)', 'secrets (tokens, keys or passwords)'],
  person_name: ["a person's name", "people's names"],
};

/** "a secret and 2 email addresses": what was found, by type, never the values. */
export function describeFindings(findings: readonly Pick<Finding, 'type'>[]): string {
  const byType = new Map<PiiType, number>();
  for (const f of findings) byType.set(f.type, (byType.get(f.type) ?? 0) + 1);
  const parts = PII_TYPES.filter((t) => byType.has(t)).map((t) => {
    const n = byType.get(t) as number;
    return n === 1 ? TYPE_WORDS[t][0] : `${n} ${TYPE_WORDS[t][1]}`;
  });
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}
