/**
 * The methods each registered path answers, so that a known path asked with another method gets 405 and
 * `Allow` rather than 404. Paths are Fastify patterns (`/v1/officers/:id`); wildcards (`*`, Swagger UI's
 * assets, the CORS preflight catch-all) are left out: they would make every path look known.
 */
export class RouteTable {
  readonly #routes: { pattern: RegExp; methods: Set<string> }[] = [];
  readonly #byUrl = new Map<string, Set<string>>();

  add(url: string, methods: string | string[]) {
    if (url.includes('*')) return;
    let known = this.#byUrl.get(url);
    if (!known) {
      known = new Set();
      this.#byUrl.set(url, known);
      const source = url
        .split('/')
        .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      this.#routes.push({ pattern: new RegExp(`^${source}/?$`), methods: known });
    }
    for (const method of Array.isArray(methods) ? methods : [methods]) known.add(method.toUpperCase());
  }

  /** The methods `path` (no query string) answers, sorted; empty when no route has that path. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.#routes) if (route.pattern.test(path)) for (const m of route.methods) methods.add(m);
    return [...methods].sort();
  }
}
