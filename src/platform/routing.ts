interface RouteTable {
  routes: { method: string; path: string }[];
}

const patterns = new WeakMap<object, { method: string; pattern: RegExp }[]>();

function compile(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) =>
      segment.startsWith(':')
        ? '[^/]+'
        : segment === '*'
          ? '.*'
          : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source}/?$`);
}

/** Methods registered for a path, so an unmatched request can be told 405 with `Allow` rather than 404. */
export function allowedMethods(app: RouteTable, path: string): string[] {
  let compiled = patterns.get(app);
  if (!compiled) {
    compiled = app.routes
      .filter((route) => route.method !== 'ALL')
      .map((route) => ({ method: route.method, pattern: compile(route.path) }));
    patterns.set(app, compiled);
  }
  const methods = new Set(compiled.filter((route) => route.pattern.test(path)).map((route) => route.method));
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}
