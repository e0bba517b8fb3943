import type { PiiType } from '../pii/finding';
import type { RedactionMode } from '../pii/redact';
import { PiiFirewall, type FirewallPath, type FirewallPathRule } from './pii-firewall';

/** The `quality.firewall` section of the configuration, as validated. */
export interface FirewallConfig {
  enabled: boolean;
  threshold: number;
  salt?: string;
  redaction: { default: RedactionMode; perType: Partial<Record<PiiType, RedactionMode>> };
  paths: Partial<Record<FirewallPath, FirewallPathRule>>;
}

/**
 * Path rules that apply unless the configuration names the path. Team docs name team addresses, on-call
 * phones and example hosts on purpose, and redacting them would cost answers; secrets and financial or
 * government ids never belong in the index.
 */
export const DEFAULT_PATH_RULES: Partial<Record<FirewallPath, FirewallPathRule>> = {
  knowledge: { enabled: true, types: ['secret', 'credit_card', 'iban', 'us_ssn'] },
};

export function buildFirewall(config: FirewallConfig): PiiFirewall {
  return new PiiFirewall({
    enabled: config.enabled,
    threshold: config.threshold,
    salt: config.salt,
    redaction: config.redaction,
    paths: { ...DEFAULT_PATH_RULES, ...config.paths },
  });
}
