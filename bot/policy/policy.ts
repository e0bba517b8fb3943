import type { Principal } from '../core/message';
import type { OpsbotConfig } from '../config/schema';

/** A permission such as "service.restart"; roles grant them, "*" and "service.*" grant by wildcard. */
export type Permission = string;

export type PolicyDecision =
  { allowed: true; roles: string[] } | { allowed: false; roles: string[]; reason: string };

/**
 * Maps a principal to roles and roles to permissions, from configuration alone. Anonymous principals get
 * the anonymous role whatever they claim to be; authenticated ones are looked up by their channel identity
 * ("web:alice"), then by the channel wildcard ("terminal:*"), then get the authenticated default.
 */
export class Policy {
  private readonly grants = new Map<string, Set<Permission>>();

  constructor(private readonly config: OpsbotConfig['policy']) {
    for (const role of Object.keys(config.roles)) this.grants.set(role, this.expand(role, new Set()));
  }

  rolesFor(user: Principal): string[] {
    if (!user.authenticated) return [this.config.anonymousRole];
    const channel = user.id.slice(0, user.id.indexOf(':'));
    return this.config.users[user.id] ?? this.config.users[`${channel}:*`] ?? [this.config.authenticatedRole];
  }

  decide(user: Principal, permission: Permission | null): PolicyDecision {
    const roles = this.rolesFor(user);
    if (permission === null || roles.some((role) => grants(this.grants.get(role), permission))) {
      return { allowed: true, roles };
    }
    return {
      allowed: false,
      roles,
      reason: `this needs the permission ${permission}, which your role${roles.length > 1 ? 's' : ''} (${roles.join(', ')}) do${roles.length > 1 ? '' : 'es'} not grant`,
    };
  }

  allows(user: Principal, permission: Permission | null): boolean {
    return this.decide(user, permission).allowed;
  }

  /** For a caller known by its roles alone (an approver recorded earlier, an engine acting for someone). */
  rolesAllow(roles: readonly string[], permission: Permission): boolean {
    return roles.some((role) => grants(this.grants.get(role), permission));
  }

  private expand(role: string, seen: Set<string>): Set<Permission> {
    const result = new Set<Permission>();
    if (seen.has(role)) return result; // a cycle in `inherits` adds nothing more
    seen.add(role);
    const def = this.config.roles[role];
    if (!def) return result;
    def.permissions.forEach((p) => result.add(p));
    for (const parent of def.inherits) this.expand(parent, seen).forEach((p) => result.add(p));
    return result;
  }
}

function grants(granted: Set<Permission> | undefined, wanted: Permission): boolean {
  if (!granted) return false;
  if (granted.has('*') || granted.has(wanted)) return true;
  const family = wanted.slice(0, wanted.indexOf('.'));
  return granted.has(`${family}.*`);
}
