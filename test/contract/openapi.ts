/** The parts of the OpenAPI 3.1 document the contract tests read. */

export type Schema = { [keyword: string]: unknown };

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

export interface MediaType {
  schema?: Schema;
}

export interface Response {
  content?: Record<string, MediaType>;
}

type Ref = { $ref: string };

export interface Operation {
  operationId: string;
  parameters?: (Parameter | Ref)[];
  requestBody?: { required?: boolean; content: Record<string, MediaType> } | Ref;
  responses: Record<string, Response | Ref>;
  security?: Record<string, string[]>[];
  'x-permissions'?: { anyOf: string[]; selfService: boolean };
  'x-capability'?: { code: string; requiredTiers: string[] };
  /** API clients' tokens are refused with 403 `user_session_required`: the route acts on a login. */
  'x-user-session-required'?: boolean;
  /** The rate-limit buckets a request takes `cost` tokens from. */
  'x-rate-limit': {
    cost: number;
    buckets: { policy: string; per: string; capacity: number | 'tenant tier'; windowSeconds: number }[];
  };
  /** The principal the operation acts on: named by a path parameter, or described by the body. */
  'x-acts-on'?: { target: string } & ({ in: 'path'; name: string } | { in: 'body' });
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
}

/** Who may call an operation, read from `security` and `x-permissions`. */
export type Access = 'public' | 'optional' | 'tenant' | 'operator';

export interface ContractOperation {
  /** `GET /v2/customer/customers/{customerId}`: how the tests name it. */
  name: string;
  method: string;
  /** As the document spells it. */
  path: string;
  operation: Operation;
  parameters: Parameter[];
  body?: { content: Record<string, MediaType> };
  access: Access;
  /** Served to customers too: self-service, or any authenticated caller (no `x-permissions`). */
  customers: boolean;
}

export const TENANT_HEADER = 'X-Tenant-ID';

export const isTenantHeader = (parameter: Parameter) =>
  parameter.in === 'header' && parameter.name.toLowerCase() === TENANT_HEADER.toLowerCase();

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** Follows a local `$ref` (`#/components/...`) to the node it names. */
export function resolve<T>(document: OpenApiDocument, node: T | Ref): T {
  let current: unknown = node;
  for (let hops = 0; current && typeof current === 'object' && '$ref' in current; hops += 1) {
    const ref = String((current as Ref).$ref);
    if (!ref.startsWith('#/') || hops > 32) throw new Error(`Cannot resolve ${ref}`);
    current = ref
      .slice(2)
      .split('/')
      .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
      .reduce<unknown>((parent, key) => (parent as Record<string, unknown> | undefined)?.[key], document);
    if (current === undefined) throw new Error(`Dangling ${ref}`);
  }
  return current as T;
}

function accessOf(operation: Operation): Access {
  const security = operation.security ?? [];
  if (security.length === 0) return 'public';
  if (security.some((requirement) => Object.keys(requirement).length === 0)) return 'optional';
  if (security.some((requirement) => 'platformAdmin' in requirement)) return 'operator';
  return 'tenant';
}

export function contractOperations(document: OpenApiDocument): ContractOperation[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, operation]) => {
        const parameters = (operation.parameters ?? []).map((parameter) =>
          resolve<Parameter>(document, parameter),
        );
        const body = operation.requestBody ? resolve(document, operation.requestBody) : undefined;
        const permissions = operation['x-permissions'];
        const access = accessOf(operation);
        return {
          name: `${method.toUpperCase()} ${path}`,
          method: method.toUpperCase(),
          path,
          operation,
          parameters,
          body: body ? { content: body.content } : undefined,
          access,
          customers:
            access !== 'operator' && access !== 'public' && (!permissions || permissions.selfService),
        };
      }),
  );
}

export function pathParameters(operation: ContractOperation): Parameter[] {
  return operation.parameters.filter((parameter) => parameter.in === 'path');
}

/** `/v2/customer/customers/{customerId}` with `{ customerId: 'cus_1' }` → `/v2/customer/customers/cus_1`. */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`No value for {${name}} in ${path}`);
    return encodeURIComponent(value);
  });
}

/** `application/problem+json; charset=utf-8` → `application/problem+json`. */
export function mediaTypeOf(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}
