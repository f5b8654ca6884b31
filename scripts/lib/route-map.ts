/*
 * docs/routes.md, rendered from the OpenAPI document, the routes file of each operation and the
 * test files' text. Pure, so test/unit/route-map.test.ts runs it in workerd; the file reading is in
 * scripts/openapi-export.ts.
 */

const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete'] as const;

interface Operation {
  operationId?: string;
  security?: Record<string, unknown>[];
  'x-capability'?: { code: string };
  'x-permissions'?: { anyOf: string[]; selfService: boolean };
}

export interface RouteMapDocument {
  paths: Record<string, Partial<Record<string, Operation>>>;
}

export interface Declaration {
  /** The routes file whose router registers the operation, from the project root. */
  file: string;
  /** The path as its router declares it (below the base path where the router is mounted there). */
  path: string;
}

export interface RouteMapInput {
  document: RouteMapDocument;
  /** The path every `call('GET', '/…')` of the tests is below: `/v2/customer`. */
  basePath: string;
  /** Where each operationId is declared. */
  declaredIn: ReadonlyMap<string, Declaration>;
  /** Each routes file's text, by its path from the project root. */
  routeSources: ReadonlyMap<string, string>;
  /** Each test file's text, by its path from the project root. */
  testFiles: ReadonlyMap<string, string>;
}

/** The contract tests run every operation the document has, so they would be listed on every row. */
export function isListedTestFile(path: string): boolean {
  return (
    !path.startsWith('test/contract/') &&
    ((path.startsWith('test/') && path.endsWith('.test.ts')) ||
      (path.startsWith('test/e2e/') && path.endsWith('.e2e.ts')))
  );
}

interface Row {
  operationId: string;
  method: string;
  path: string;
  operation: Operation;
}

function rowsOf(document: RouteMapDocument): Row[] {
  return Object.entries(document.paths)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([path, item]) =>
      METHODS.flatMap((method) => {
        const operation = item[method];
        if (!operation) return [];
        if (!operation.operationId) throw new Error(`${method.toUpperCase()} ${path} has no operationId`);
        return [{ operationId: operation.operationId, method: method.toUpperCase(), path, operation }];
      }),
    );
}

/** A path segment a test wrote with an interpolation (`${id}`, `cus_${n}`) or as a template (`{id}`). */
const PARAMETER = Symbol('parameter');
type Segment = string | typeof PARAMETER;

function segments(path: string): Segment[] {
  return path
    .replace(/\/$/, '')
    .split('/')
    .slice(1)
    .map((segment) => (segment.includes('${') || /^\{[^}]*\}$/.test(segment) ? PARAMETER : segment));
}

/**
 * A path where a test spells one: right after a quote, after `${BASE}`, `${ISSUER}` or `${ORIGIN}`,
 * or after a method and a space (a title such as `'GET /events'`). `${…}` is taken whole, so an
 * interpolation never ends the path; the query and fragment are left out.
 */
const SPELLED_PATH =
  /(?<=['"`]|\$\{(?:BASE|ISSUER|ORIGIN)\}|\b(?:GET|POST|PUT|PATCH|DELETE) )\/(?:\$\{[^}]*\}|[^'"`\s?#$])*/g;
/** The method the test names right before the path: `call('DELETE', '/…')`, `'GET /…'`. */
const METHOD_BEFORE = /\b(GET|POST|PUT|PATCH|DELETE)(?:'\s*,\s*['"`]| )$/;

interface SpelledPath {
  method: string | undefined;
  segments: Segment[];
}

function spelledPaths(text: string, basePath: string): SpelledPath[] {
  return [...text.matchAll(SPELLED_PATH)].map((match) => {
    const before = text.slice(Math.max(0, match.index - 40), match.index);
    const absolute = /\$\{ORIGIN\}$/.test(before);
    const method = METHOD_BEFORE.exec(before.replace(/\$\{(?:BASE|ISSUER|ORIGIN)\}$/, ''))?.[1];
    return { method, segments: segments(absolute ? match[0] : `${basePath}${match[0]}`) };
  });
}

/** Static segments are compared as the router does: literally, and before parameters. */
function staticScore(template: Segment[], spelled: Segment[]): string | undefined {
  if (template.length !== spelled.length) return undefined;
  let score = '';
  for (const [index, segment] of template.entries()) {
    const written = spelled[index];
    if (segment === PARAMETER) score += '0';
    else if (segment === written) score += '1';
    else return undefined;
  }
  return score;
}

/** The operations a spelled path reaches: the routes the router would pick for it. */
function operationsReached(rows: readonly Row[], spelled: SpelledPath): Row[] {
  let best = '';
  let reached: Row[] = [];
  for (const row of rows) {
    if (spelled.method && spelled.method !== row.method) continue;
    const score = staticScore(segments(row.path), spelled.segments);
    if (score === undefined || score < best) continue;
    if (score > best) {
      best = score;
      reached = [];
    }
    reached.push(row);
  }
  return reached;
}

function testFilesByOperation(rows: readonly Row[], input: RouteMapInput): Map<string, string[]> {
  const byOperation = new Map<string, string[]>();
  const files = [...input.testFiles]
    .filter(([path]) => isListedTestFile(path))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [file, text] of files) {
    const reached = new Set(
      spelledPaths(text, input.basePath).flatMap((spelled) =>
        operationsReached(rows, spelled).map((row) => row.operationId),
      ),
    );
    for (const operationId of reached)
      byOperation.set(operationId, [...(byOperation.get(operationId) ?? []), file]);
  }
  return byOperation;
}

function auth(operation: Operation): string {
  const schemes = (operation.security ?? []).map((requirement) => Object.keys(requirement)[0] ?? 'anonymous');
  if (schemes.includes('platformAdmin')) return 'platform admin';
  if (schemes.includes('bearerAuth')) return schemes.includes('anonymous') ? 'token or anonymous' : 'token';
  return 'none';
}

function permission(operation: Operation): string {
  const declared = operation['x-permissions'];
  if (!declared) return '—';
  return `${declared.anyOf.map((name) => `\`${name}\``).join(' or ')}${declared.selfService ? ' + self' : ''}`;
}

const code = (value: string) => `\`${value}\``;

/**
 * Routes kept outside the layout rule (the module is named after a static segment of its path),
 * each with the reason. Everything else is found from its URL: `/customers/{customerId}/consents`
 * in `src/modules/consents/`, `/access/users` in `src/modules/access/users/`.
 */
export const OUTSIDE_THE_LAYOUT: Readonly<Record<string, string>> = {
  '/me': 'the caller’s own principal and permissions: src/modules/access/, beside the permissions it lists',
  '/individuals': 'self-registration of an individual customer: src/modules/registration/',
  '/health': 'service routes without a resource: src/modules/system/',
  '/openapi.json': 'service routes without a resource: src/modules/system/',
  '/problems/{code}': 'service routes without a resource: src/modules/system/',
  '/customers/{customerId}/verification-requirements':
    'what verification still needs, computed by the requirements engine: src/modules/verifications/',
  '/customers/{customerId}/activation-readiness':
    'activation follows from verifications and consents: src/modules/verifications/',
  '/customers/{customerId}/activation':
    'activation follows from verifications and consents: src/modules/verifications/',
  '/verification-providers/{provider}/callback':
    'a provider’s answer to a verification: src/modules/verifications/',
  '/tpps/{tppId}/consents':
    'the consents a TPP holds are TPP consents, with their rules: src/modules/tpp-consents/',
  '/.well-known/': 'discovery documents, named by RFC 8414 and OpenID Connect: with the server they describe',
};

function followsTheLayout(file: string, path: string): boolean {
  if (
    Object.keys(OUTSIDE_THE_LAYOUT).some((key) => (key.endsWith('/') ? path.includes(key) : path === key))
  ) {
    return true;
  }
  const folders = file
    .replace(/^src\/modules\//, '')
    .split('/')
    .slice(0, -1);
  const module = folders[folders.length - 1];
  return module !== undefined && path.split('/').includes(module);
}

/**
 * Every operation has one routes file, which spells its path as a string, so a search for the
 * path finds the route; and every routes file's operation is mounted.
 */
function checkDeclarations(rows: readonly Row[], input: RouteMapInput): void {
  const { declaredIn, routeSources } = input;
  const inDocument = new Set(rows.map((row) => row.operationId));
  for (const row of rows) {
    if (!declaredIn.has(row.operationId)) {
      throw new Error(
        `${row.method} ${row.path} (${row.operationId}) is in the document but no src/modules/**/routes.ts declares it: declare it in its module's routes.ts`,
      );
    }
  }
  for (const [operationId, { file, path }] of declaredIn) {
    if (!inDocument.has(operationId)) {
      throw new Error(`${file} declares ${operationId}, which src/app.ts does not mount`);
    }
    const source = routeSources.get(file) ?? '';
    if (!["'", '"', '`'].some((quote) => source.includes(`path: ${quote}${path}${quote}`))) {
      throw new Error(
        `${file} declares ${operationId} with a path it does not spell: write path: '${path}', so a search for the path finds it`,
      );
    }
    const below = path.startsWith(`${input.basePath}/`) ? path.slice(input.basePath.length) : path;
    if (!followsTheLayout(file, below)) {
      throw new Error(
        `${file} declares ${operationId} (${path}): move it to the module named after its first path segment or its sub-resource, or list it in OUTSIDE_THE_LAYOUT with the reason`,
      );
    }
  }
}

const HEADER = `# Route map

Generated by \`npm run openapi:export\` (scripts/openapi-export.ts, scripts/lib/route-map.ts)
from the OpenAPI document the worker serves; do not edit it. \`npm test\` fails when it is stale
(\`npm run openapi:check\`). One row per operation, sorted by path.

- **Auth**: from the operation's \`security\`: \`token\` (a bearer access token),
  \`token or anonymous\`, \`platform admin\` (\`PLATFORM_ADMIN_TOKEN\`) or \`none\` (no access
  token: a public route, or one that takes its own credential, such as a password, a refresh
  token or an OAuth client's secret).
- **Capability**: the tenant capability the route needs (\`x-capability\`).
- **Permission**: the permission it needs (\`x-permissions\`); \`+ self\` means a customer user may
  also call it for its own record without the permission.
- **Declared in**: the routes file whose router registers the operation. The export calls every
  function each \`src/modules/**/routes.ts\` exports (router factories such as \`customerRoutes()\`,
  and registrars such as \`openApiDocument(app)\`, on a fresh router) and reads the operationIds
  from that router's OpenAPI registry. It fails when an operation of the document has no routes
  file or two, when a routes file declares one \`src/app.ts\` does not mount, and when the routes
  file does not spell the path as a literal (\`path: '/customers/{customerId}/legal-hold'\`), so searching
  the sources for a path always finds its route.
- **Tests**: the test files (\`test/**/*.test.ts\`, \`test/e2e/*.e2e.ts\`) that spell the
  operation's path in a string, read as the router reads a URL: \`\${…}\` or \`{name}\` stands for a
  path parameter, a static segment wins over a parameter, the query is ignored. A path starts
  with \`/\` below the base path (as \`call\` takes it) or after \`\${BASE}\`, \`\${ISSUER}\` or
  \`\${ORIGIN}\`. A method right before the path (\`call('DELETE', '/…')\`, a title \`'GET /…'\`)
  narrows it to that method; otherwise the file counts for every method of the path. Paths put
  together from variables (\`\${base}/…\`) are not seen, so \`—\` means that no test spells the path,
  not that none calls it. The contract tests in \`test/contract/\` (cross-tenant matrix, fuzzer)
  run every operation of the document and are not listed.

Events posted to webhook endpoints are the document's \`webhooks\`, not rows here.
`;

export function renderRouteMap(input: RouteMapInput): string {
  const rows = rowsOf(input.document);
  checkDeclarations(rows, input);
  const tests = testFilesByOperation(rows, input);
  const lines = [
    '| Operation | Method | Path | Auth | Capability | Permission | Declared in | Tests |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows
      .map((row) =>
        [
          code(row.operationId),
          row.method,
          code(row.path),
          auth(row.operation),
          row.operation['x-capability'] ? code(row.operation['x-capability'].code) : '—',
          permission(row.operation),
          code(input.declaredIn.get(row.operationId)?.file ?? ''),
          (tests.get(row.operationId) ?? []).map(code).join('<br>') || '—',
        ].join(' | '),
      )
      .map((cells) => `| ${cells} |`),
  ];
  return `${HEADER}\n${lines.join('\n')}\n`;
}
