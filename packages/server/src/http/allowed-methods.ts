import type { FastifyInstance } from 'fastify';

/** A route's path pattern as a regular expression over a request path (`:param` one segment, `*` the rest). */
function pattern(url: string): RegExp {
  const source = url
    .split(/(:[A-Za-z0-9_]+|\*)/)
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

/**
 * Remembers every route's path and methods as they are added, so that a request no route
 * matched can be told apart: a path the server has, asked with another method (405, with
 * `Allow`), from a path it does not have (404). Call before any route is registered.
 *
 * @example
 * const allowed = trackAllowedMethods(app);
 * app.setNotFoundHandler((request, reply) => { const methods = allowed(request.url); … });
 */
export function trackAllowedMethods(app: FastifyInstance): (url: string) => string[] {
  const routes: { re: RegExp; methods: Set<string> }[] = [];
  const byUrl = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    // The CORS plugin answers OPTIONS on every path (`*`): not a path of its own.
    if (route.url === '*') return;
    let known = byUrl.get(route.url);
    if (!known) {
      known = new Set();
      byUrl.set(route.url, known);
      routes.push({ re: pattern(route.url), methods: known });
    }
    for (const m of methods) known.add(m.toUpperCase());
  });
  return (url) => {
    const path = url.split('?')[0] ?? '';
    const found = new Set<string>();
    for (const r of routes) if (r.re.test(path)) for (const m of r.methods) found.add(m);
    if (found.size === 0) return [];
    // Every path answers OPTIONS (CORS preflight, or a plain 204).
    found.add('OPTIONS');
    const order = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
    return [...found].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  };
}
