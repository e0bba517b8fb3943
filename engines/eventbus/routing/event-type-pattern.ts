import { EVENT_TYPE } from '../envelope';

/**
 * Event type patterns: an exact type ("order.created") or a glob where `*` stands for any part of one dotted
 * word ("order.*", "ops.saga.step_*") and a whole `**` word for one or more words ("ops.**").
 */

const GLOB_WORD = /^(?:\*\*|[a-z0-9_*-]+)$/;

export function typePatternProblem(pattern: string): string | undefined {
  const valid = pattern.includes('*')
    ? pattern.split('.').every((word) => GLOB_WORD.test(word) && (word === '**' || !word.includes('**')))
    : EVENT_TYPE.test(pattern);
  return valid
    ? undefined
    : `"${pattern}" is neither an event type (dotted lower-case words) nor a glob like "order.*" or "ops.**"`;
}

/** Exact types are looked up in a set; the globs, if any, become one regular expression, built here once. */
export function typeMatcher(patterns: readonly string[]): (type: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const globs = patterns.filter((p) => p.includes('*'));
  if (globs.length === 0) return (type) => exact.has(type);
  const glob = new RegExp(`^(?:${globs.map(globSource).join('|')})$`);
  if (exact.size === 0) return (type) => glob.test(type);
  return (type) => exact.has(type) || glob.test(type);
}

/** A valid pattern holds no regex metacharacter besides `*` and `.`. */
function globSource(pattern: string): string {
  return pattern
    .split('.')
    .map((word) => (word === '**' ? '.+' : word.replace(/\*/g, '[^.]*')))
    .join('\\.');
}
