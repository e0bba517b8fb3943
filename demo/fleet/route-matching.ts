/** A route by its template, e.g. `/orders/:id/cancel`: the template is also its metrics label. */
export interface RouteDefinition {
  method: string;
  template: string;
}

export type RouteMatch<R extends RouteDefinition> =
  | { kind: 'matched'; route: R; params: Record<string, string> }
  | { kind: 'method_not_allowed'; template: string; allowed: string[] }
  | { kind: 'unmatched' };

function segments(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

/** Templates split once: the routes are fixed, so the set stays as small as the services' route tables. */
const templateSegments = new Map<string, readonly string[]>();

function segmentsOf(template: string): readonly string[] {
  let found = templateSegments.get(template);
  if (!found) templateSegments.set(template, (found = segments(template)));
  return found;
}

/** The path's parameters if it fits the template, else undefined (also for a parameter that is not valid %-encoding). */
function matchTemplate(
  wanted: readonly string[],
  actual: readonly string[],
): Record<string, string> | undefined {
  if (wanted.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of wanted.entries()) {
    const value = actual[i]!;
    if (part.startsWith(':')) {
      try {
        params[part.slice(1)] = decodeURIComponent(value);
      } catch {
        return undefined;
      }
    } else if (part !== value) {
      return undefined;
    }
  }
  return params;
}

export function matchRoute<R extends RouteDefinition>(
  routes: readonly R[],
  method: string,
  path: string,
): RouteMatch<R> {
  const actual = segments(path);
  const fitting = routes.flatMap((route) => {
    const params = matchTemplate(segmentsOf(route.template), actual);
    return params ? [{ route, params }] : [];
  });
  const exact = fitting.find(({ route }) => route.method === method);
  if (exact) return { kind: 'matched', ...exact };
  const first = fitting[0];
  if (!first) return { kind: 'unmatched' };
  return {
    kind: 'method_not_allowed',
    template: first.route.template,
    allowed: fitting.map(({ route }) => route.method),
  };
}
