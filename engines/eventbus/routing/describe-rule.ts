import type { Condition, RoutingRule, TargetSpec, Transform } from './routing-rule';

/**
 * One line for chat and the CLI:
 * "order.created from /services/* where total > 1000 → topic finance.orders, webhook finance.example.com".
 */
export function describeRule(rule: RoutingRule): string {
  const { match = {} } = rule;
  const types = match.type === undefined ? [] : typeof match.type === 'string' ? [match.type] : match.type;
  const parts = [types.length > 0 ? types.join(' or ') : 'any event'];
  if (match.source !== undefined) parts.push(`from ${attribute(match.source)}`);
  if (match.subject !== undefined) parts.push(`about ${attribute(match.subject)}`);
  if (match.correlationid !== undefined) parts.push(`in correlation ${attribute(match.correlationid)}`);
  if (match.data !== undefined && match.data.length > 0)
    parts.push(`where ${match.data.map(condition).join(' and ')}`);
  parts.push(`→ ${rule.targets.map(target).join(', ')}`);
  if (rule.transforms !== undefined && rule.transforms.length > 0)
    parts.push(`(transforms: ${rule.transforms.map(transform).join(', ')})`);
  return `${rule.enabled ? '' : '(disabled) '}${parts.join(' ')}`;
}

function attribute(match: string | { prefix: string }): string {
  return typeof match === 'string' ? match : `${match.prefix}*`;
}

function condition(c: Condition): string {
  if ('eq' in c) return `${c.field} = ${String(c.eq)}`;
  if ('ne' in c) return `${c.field} ≠ ${String(c.ne)}`;
  if ('in' in c) return `${c.field} is ${c.in.map(String).join(' or ')}`;
  if ('prefix' in c) return `${c.field} starts with ${c.prefix}`;
  if ('exists' in c) return `${c.field} ${c.exists ? 'exists' : 'is absent'}`;
  if ('gt' in c) return `${c.field} > ${c.gt}`;
  if ('gte' in c) return `${c.field} ≥ ${c.gte}`;
  if ('lt' in c) return `${c.field} < ${c.lt}`;
  return `${c.field} ≤ ${c.lte}`;
}

function transform(t: Transform): string {
  if ('rename' in t) return `rename ${t.rename.from}→${t.rename.to}`;
  if ('map' in t) return `map ${t.map.field}`;
  if ('drop' in t) return `drop ${t.drop.join(', ')}`;
  if ('redact' in t) return `redact ${t.redact.join(', ')}`;
  return `enrich ${t.enrich.into}`;
}

function target(t: TargetSpec): string {
  if ('topic' in t) return `topic ${t.topic}`;
  if ('engine' in t) return `engine ${t.engine}`;
  return `webhook ${new URL(t.webhook.url).host}`;
}
