// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the fixtures are test sources; their `${…}` is meant literally
import { describe, expect, it } from 'vitest';
import {
  type Declaration,
  type RouteMapDocument,
  type RouteMapInput,
  renderRouteMap,
} from '../../scripts/lib/route-map';

const token = [{ bearerAuth: [] }];

const document: RouteMapDocument = {
  paths: {
    '/v2/customer/widgets/{id}': {
      get: {
        operationId: 'getWidget',
        security: token,
        'x-permissions': { anyOf: ['widgets:read'], selfService: true },
      },
      delete: {
        operationId: 'deleteWidget',
        security: token,
        'x-permissions': { anyOf: ['widgets:erase'], selfService: false },
      },
    },
    '/v2/customer/widgets/search': { get: { operationId: 'searchWidgets', security: token } },
    '/v2/customer/gadgets': {
      post: {
        operationId: 'registerGadget',
        security: [{ bearerAuth: [] }, {}],
        'x-capability': { code: 'SCT01' },
      },
    },
    '/v2/customer/operator/shops': { get: { operationId: 'listShops', security: [{ platformAdmin: [] }] } },
    '/.well-known/widget-metadata/v2/customer': { get: { operationId: 'getMetadata', security: [] } },
  },
};

const declaredIn = new Map<string, Declaration>([
  ['getWidget', { file: 'src/modules/widgets/routes.ts', path: '/widgets/{id}' }],
  ['deleteWidget', { file: 'src/modules/widgets/routes.ts', path: '/widgets/{id}' }],
  ['searchWidgets', { file: 'src/modules/widgets/routes.ts', path: '/widgets/search' }],
  ['registerGadget', { file: 'src/modules/gadgets/routes.ts', path: '/gadgets' }],
  ['listShops', { file: 'src/modules/operator/routes.ts', path: '/operator/shops' }],
  [
    'getMetadata',
    { file: 'src/modules/discovery/routes.ts', path: '/.well-known/widget-metadata/v2/customer' },
  ],
]);

/** Each routes file spells the paths it declares. */
const routeSources = new Map<string, string>();
for (const { file, path } of declaredIn.values()) {
  routeSources.set(file, `${routeSources.get(file) ?? ''}path: '${path}',\n`);
}

function render(testFiles: Record<string, string>, overrides: Partial<RouteMapInput> = {}): string {
  return renderRouteMap({
    document,
    basePath: '/v2/customer',
    declaredIn,
    routeSources,
    testFiles: new Map(Object.entries(testFiles)),
    ...overrides,
  });
}

/** The cells of the operation's row, by column name. */
function row(map: string, operationId: string): Record<string, string> {
  const lines = map.split('\n').filter((line) => line.startsWith('| '));
  const names = (lines[0] ?? '')
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());
  const found = lines.find((line) => line.startsWith(`| \`${operationId}\` |`));
  if (!found) throw new Error(`no row for ${operationId}`);
  const cells = found
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());
  return Object.fromEntries(names.map((name, index) => [name, cells[index] ?? '']));
}

describe('the route map', () => {
  it('shows each operation’s auth, capability, permission with the self-service mark, and its routes file', () => {
    const map = render({});
    expect(row(map, 'getWidget')).toMatchObject({
      Method: 'GET',
      Path: '`/v2/customer/widgets/{id}`',
      Auth: 'token',
      Capability: '—',
      Permission: '`widgets:read` + self',
      'Declared in': '`src/modules/widgets/routes.ts`',
      Tests: '—',
    });
    expect(row(map, 'deleteWidget').Permission).toBe('`widgets:erase`');
    expect(row(map, 'registerGadget')).toMatchObject({ Auth: 'token or anonymous', Capability: '`SCT01`' });
    expect(row(map, 'listShops').Auth).toBe('platform admin');
    expect(row(map, 'getMetadata').Auth).toBe('none');
  });

  it('finds the test files that spell a path, an interpolation standing for a parameter', () => {
    const map = render({
      'test/api/widgets.test.ts': "await call('GET', `/widgets/${widget.id}?expand=all`);",
      'test/api/profile.test.ts': "describe('GET /widgets/{id}', () => {});",
    });
    expect(row(map, 'getWidget').Tests).toBe('`test/api/profile.test.ts`<br>`test/api/widgets.test.ts`');
  });

  it('narrows a path to the method written right before it', () => {
    const map = render({
      'test/api/removal.test.ts': "await call('DELETE', `/widgets/${id}`, { token });",
      'test/api/read.test.ts': "describe('GET /widgets/{id}', () => {});",
      'test/api/any.test.ts': 'setup: async () => ({ path: `/widgets/${id}` }),',
    });
    expect(row(map, 'deleteWidget').Tests).toBe('`test/api/any.test.ts`<br>`test/api/removal.test.ts`');
    expect(row(map, 'getWidget').Tests).toBe('`test/api/any.test.ts`<br>`test/api/read.test.ts`');
  });

  it('prefers a static segment over a parameter, as the router does', () => {
    const map = render({ 'test/api/search.test.ts': "await call('GET', '/widgets/search?q=ada');" });
    expect(row(map, 'searchWidgets').Tests).toBe('`test/api/search.test.ts`');
    expect(row(map, 'getWidget').Tests).toBe('—');
  });

  it('reads paths after ${BASE} below the base path and after ${ORIGIN} from the root', () => {
    const map = render({
      'test/api/discovery.test.ts': 'await SELF.fetch(`${ORIGIN}/.well-known/widget-metadata/v2/customer`);',
      'test/api/operator.test.ts': "await SELF.fetch(`${BASE}/operator/shops`, { method: 'GET' });",
    });
    expect(row(map, 'getMetadata').Tests).toBe('`test/api/discovery.test.ts`');
    expect(row(map, 'listShops').Tests).toBe('`test/api/operator.test.ts`');
  });

  it('leaves out the contract tests, helpers, paths built from variables and paths inside other strings', () => {
    const map = render({
      'test/contract/cross-tenant.test.ts': "await call('GET', '/operator/shops');",
      'test/helpers/factories.ts': "await call('GET', '/operator/shops');",
      'test/api/built.test.ts': "const base = '/operator'; await call('GET', `${base}/shops`);",
      'test/api/location.test.ts': "expect(location).toBe('/v2/customer/operator/shops');",
    });
    expect(row(map, 'listShops').Tests).toBe('—');
  });

  it('refuses an operation no routes file declares, and a declared one the app does not mount', () => {
    const missing = new Map(declaredIn);
    missing.delete('listShops');
    expect(() => render({}, { declaredIn: missing })).toThrow(
      'GET /v2/customer/operator/shops (listShops) is in the document but no src/modules/**/routes.ts declares it',
    );
    const unmounted = new Map([
      ...declaredIn,
      ['getOrphan', { file: 'src/modules/orphan/routes.ts', path: '/orphans' }],
    ]);
    expect(() => render({}, { declaredIn: unmounted })).toThrow(
      'src/modules/orphan/routes.ts declares getOrphan, which src/app.ts does not mount',
    );
  });

  it('refuses a routes file that builds a path instead of spelling it', () => {
    const built = new Map(routeSources).set(
      'src/modules/operator/routes.ts',
      "const shops = '/operator/shops';\nrouter.openapi(defineRoute({ path: shops }));",
    );
    expect(() => render({}, { routeSources: built })).toThrow(
      "src/modules/operator/routes.ts declares listShops with a path it does not spell: write path: '/operator/shops'",
    );
  });

  it('refuses a route kept in a module its path does not name, unless it is listed with a reason', () => {
    const moved = new Map(declaredIn).set('searchWidgets', {
      file: 'src/modules/gadgets/routes.ts',
      path: '/widgets/search',
    });
    const sources = new Map(routeSources).set(
      'src/modules/gadgets/routes.ts',
      "path: '/gadgets',\npath: '/widgets/search',\n",
    );
    expect(() => render({}, { declaredIn: moved, routeSources: sources })).toThrow(
      'src/modules/gadgets/routes.ts declares searchWidgets (/widgets/search): move it to the module named after its first path segment or its sub-resource',
    );
    const nested = new Map(declaredIn).set('searchWidgets', {
      file: 'src/modules/gadgets/widgets/routes.ts',
      path: '/widgets/search',
    });
    const nestedSources = new Map(routeSources).set(
      'src/modules/gadgets/widgets/routes.ts',
      "path: '/widgets/search',\n",
    );
    expect(() => render({}, { declaredIn: nested, routeSources: nestedSources })).not.toThrow();
  });
});
