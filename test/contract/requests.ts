import { env, SELF } from 'cloudflare:test';
import fc from 'fast-check';
import { ORIGIN } from '../helpers/http';
import {
  type ContractOperation,
  fillPath,
  isJsonMediaType,
  isTenantHeader,
  type OpenApiDocument,
  type Parameter,
  type Schema,
} from './openapi';
import type { Owner, Resource } from './resources';
import { exampleValue, flatten, invalidValue, value } from './schema-values';

/** Who signs a request: the token comes from the owner (or the resource) when it is sent. */
export type Actor = 'anonymous' | 'staff' | 'customer' | 'operator';

export interface ApiRequest {
  method: string;
  /** Path and query string. */
  url: string;
  actor: Actor;
  headers: Record<string, string>;
  body?: string;
}

/** The tenant and ids a request may use, and the tokens of its actors. */
export interface RequestContext {
  owner: Owner;
  resource?: Resource;
  /** How many client addresses the requests come from in turn (`clientAddressesFor`); one by default. */
  clientAddresses?: number;
}

/** One past the API's JSON body limit (src/app.ts). */
const OVERSIZED_BODY = JSON.stringify({ padding: 'x'.repeat(1024 * 1024) });
const UNREGISTERED_TENANT = 'no-such-tenant';
/** Cloudflare answers 414 to URLs over 16 KB before a worker sees them: huge ids stop short of that. */
const MAX_PARAMETER_LENGTH = 4096;
const MULTIPART_BOUNDARY = 'fuzz-7MA4YWxkTrZu0gW';
const SHOWN_LENGTH = 300;

/** The callers an operation serves, from its `security` and `x-permissions`. */
export function actorsFor(operation: ContractOperation): Actor[] {
  switch (operation.access) {
    case 'public':
      return ['anonymous'];
    case 'operator':
      return ['operator'];
    case 'optional':
      return operation.customers ? ['anonymous', 'staff', 'customer'] : ['anonymous', 'staff'];
    default:
      return operation.customers ? ['staff', 'customer'] : ['staff'];
  }
}

export function tokenOf(actor: Actor, context: RequestContext): string | undefined {
  switch (actor) {
    case 'staff':
      return context.resource?.tokens?.staff ?? context.owner.staff.token;
    case 'customer':
      return context.resource?.tokens?.customer ?? context.owner.customer.token;
    case 'operator':
      return env.PLATFORM_ADMIN_TOKEN;
    default:
      return undefined;
  }
}

/** Lone surrogates cannot be percent-encoded; a client would send U+FFFD. */
function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** Header values are bytes a client can send: printable ASCII. */
function headerValue(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').trim();
}

function asText(input: unknown): string {
  return typeof input === 'string' ? input : JSON.stringify(input);
}

/** The members of a body schema that are files (`format: binary`): multipart sends them as file parts. */
export function fileMembers(document: OpenApiDocument, schema: Schema | undefined): Set<string> {
  const properties = (schema ? flatten(document, schema).properties : undefined) as
    | Record<string, Schema>
    | undefined;
  return new Set(
    Object.entries(properties ?? {})
      .filter(([, member]) => member.format === 'binary')
      .map(([name]) => name),
  );
}

function multipartPart(name: string, value: string, file: boolean): string {
  const disposition = file
    ? `form-data; name="${name}"; filename="${name}.bin"\r\nContent-Type: application/octet-stream`
    : `form-data; name="${name}"`;
  return `--${MULTIPART_BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n\r\n${value}\r\n`;
}

/**
 * The payload in the media type. A multipart form sends the members `files` names as file parts
 * and the others as text fields; a payload that is not an object is one file part.
 */
export function encodeBody(
  mediaType: string,
  payload: unknown,
  files: ReadonlySet<string> = new Set(),
): { contentType: string; body: string } {
  if (isJsonMediaType(mediaType)) return { contentType: mediaType, body: JSON.stringify(payload) };
  const fields =
    payload && typeof payload === 'object' && !Array.isArray(payload)
      ? Object.entries(payload).map(([name, field]) => [name, asText(field)] as [string, string])
      : undefined;
  if (mediaType === 'application/x-www-form-urlencoded') {
    return {
      contentType: mediaType,
      body: fields ? new URLSearchParams(fields).toString() : asText(payload),
    };
  }
  if (mediaType === 'multipart/form-data') {
    const parts = fields
      ? fields.map(([name, field]) => multipartPart(name, field, files.has(name)))
      : [multipartPart('value', asText(payload), true)];
    return {
      contentType: `${mediaType}; boundary=${MULTIPART_BOUNDARY}`,
      body: `${parts.join('')}--${MULTIPART_BOUNDARY}--\r\n`,
    };
  }
  return { contentType: mediaType, body: asText(payload) };
}

/** Where a parameter's known value is looked up: the path ids and the tenant header. */
function knownValue(parameter: Parameter, context: RequestContext): string | undefined {
  if (parameter.in === 'path') return context.resource?.ids[parameter.name];
  if (isTenantHeader(parameter)) return context.owner.tenant.id;
  return undefined;
}

/**
 * What to send instead of the known value. For the tenant header, not just any well-formed id: it
 * may name a tenant that fuzzing the operator routes registered with a database this deployment
 * lacks, which answers 503 `tenant_unavailable` by design. So a tenant nobody registered, or an
 * id the header's pattern refuses.
 */
function otherValue(document: OpenApiDocument, parameter: Parameter, schema: Schema): fc.Arbitrary<unknown> {
  if (!isTenantHeader(parameter)) return value(document, schema, true);
  const wellFormed = new RegExp(String(schema.pattern ?? '^'), 'u');
  return fc.oneof(
    fc.constant(UNREGISTERED_TENANT),
    invalidValue(document, schema)
      .map(asText)
      .filter((text) => !wellFormed.test(text)),
  );
}

function parameterArbitrary(
  document: OpenApiDocument,
  parameter: Parameter,
  context: RequestContext,
  fuzzy: boolean,
): fc.Arbitrary<unknown> {
  const schema: Schema = parameter.schema ?? { type: 'string' };
  const known = knownValue(parameter, context);
  const present =
    known === undefined
      ? value(document, schema, fuzzy)
      : fuzzy
        ? fc.oneof(
            { weight: 4, arbitrary: fc.constant(known) },
            { weight: 1, arbitrary: otherValue(document, parameter, schema) },
          )
        : fc.constant(known);
  if (parameter.required && (parameter.in === 'path' || !fuzzy)) return present;
  return fc.option(present, { nil: undefined, freq: parameter.required ? 8 : 2 });
}

function bodyArbitrary(
  document: OpenApiDocument,
  operation: ContractOperation,
  fuzzy: boolean,
): fc.Arbitrary<{ contentType?: string; body?: string }> {
  const content = operation.body?.content;
  if (!content) return fc.constant({});
  const encoded = fc
    .constantFrom(...Object.keys(content))
    .chain((mediaType) =>
      value(document, content[mediaType]?.schema ?? {}, fuzzy).map((payload) =>
        encodeBody(mediaType, payload, fileMembers(document, content[mediaType]?.schema)),
      ),
    );
  if (!fuzzy) return encoded;
  return fc.oneof(
    { weight: 12, arbitrary: encoded },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          encoded,
          fc.constantFrom(
            undefined,
            'text/plain',
            'application/xml',
            'application/json',
            'application/x-www-form-urlencoded',
            'multipart/form-data',
            'application/json; charset=utf-16',
          ),
        )
        .map(([request, contentType]) => ({ ...request, contentType })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(encoded, fc.nat()).map(([request, cut]) => ({
        ...request,
        body: request.body.slice(0, cut % Math.max(1, request.body.length)),
      })),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        contentType: fc.constantFrom(...Object.keys(content)),
        body: fc.constantFrom('', '{', '{"a":', '[1,]', 'nul', '\u0000', '{"a":1}{"b":2}', '\ufeff{}', '"'),
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...Object.keys(content))
        .map((contentType) => ({ contentType, body: OVERSIZED_BODY })),
    },
  );
}

function actorArbitrary(operation: ContractOperation, fuzzy: boolean) {
  const actors = actorsFor(operation);
  const own = fc.constantFrom(...actors).map((actor) => ({ actor, authorization: undefined }));
  if (!fuzzy) return own;
  return fc.oneof(
    { weight: 6, arbitrary: own },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom<Actor>('anonymous', 'staff', 'customer', 'operator')
        .map((actor) => ({ actor, authorization: undefined })),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(fc.string({ maxLength: 40 }), fc.constantFrom('Bearer', 'Basic Zm9vOmJhcg==', 'Bearer a.b.c'))
        .map((authorization) => ({ actor: 'anonymous' as Actor, authorization: headerValue(authorization) })),
    },
  );
}

/**
 * Requests for an operation built from its declared parameters and body. Valid ones use the
 * owner's tenant and real ids; fuzzy ones deviate somewhere: a member missing, unexpected, of the
 * wrong type or out of bounds, a hostile string, a malformed id or tenant, bad JSON, the wrong
 * content type, an oversized body, the wrong caller or a garbage token.
 */
export function requestArbitrary(
  document: OpenApiDocument,
  operation: ContractOperation,
  context: RequestContext,
  fuzzy: boolean,
): fc.Arbitrary<ApiRequest> {
  const parameters = operation.parameters.filter((parameter) => parameter.in !== 'cookie');
  return fc
    .record({
      values: fc.tuple(
        ...parameters.map((parameter) => parameterArbitrary(document, parameter, context, fuzzy)),
      ),
      body: bodyArbitrary(document, operation, fuzzy),
      caller: actorArbitrary(operation, fuzzy),
    })
    .map(({ values, body, caller }) => {
      const path: Record<string, string> = {};
      const query = new URLSearchParams();
      const headers: Record<string, string> = {};
      parameters.forEach((parameter, index) => {
        const raw = values[index];
        if (raw === undefined) return;
        // Arrays as OpenAPI serializes them by default: `?a=1&a=2` in the query, `1,2` elsewhere.
        const items = (Array.isArray(raw) ? raw : [raw]).map((item) =>
          asText(item).slice(0, MAX_PARAMETER_LENGTH),
        );
        if (parameter.in === 'query') {
          for (const item of items) query.append(parameter.name, item);
        } else if (parameter.in === 'path') {
          // An empty, `.` or `..` segment would address another route.
          const segment = wellFormed(items.join(','));
          path[parameter.name] = ['', '.', '..'].includes(segment) ? `${segment}_` : segment;
        } else {
          headers[parameter.name] = headerValue(items.join(','));
        }
      });
      if (caller.authorization !== undefined) headers.Authorization = caller.authorization;
      if (body.contentType !== undefined) headers['Content-Type'] = body.contentType;
      const search = query.toString();
      return describable({
        method: operation.method,
        url: `${fillPath(operation.path, path)}${search ? `?${search}` : ''}`,
        actor: caller.actor,
        headers,
        ...(body.body !== undefined ? { body: body.body } : {}),
      });
    });
}

/** fast-check prints counterexamples with this: huge bodies are cut, so the report stays readable. */
function describable(request: ApiRequest): ApiRequest {
  return Object.defineProperty(request, fc.toStringMethod, {
    enumerable: false,
    value: () => describeRequest(request),
  });
}

/** The body the document's examples describe, so a request is judged on who sends it, not its shape. */
export function exampleBody(
  document: OpenApiDocument,
  operation: ContractOperation,
): { headers: Record<string, string>; body?: string } {
  const [mediaType, content] = Object.entries(operation.body?.content ?? {})[0] ?? [];
  if (!mediaType) return { headers: {} };
  const { contentType, body } = encodeBody(
    mediaType,
    exampleValue(document, content?.schema ?? {}),
    fileMembers(document, content?.schema),
  );
  return { headers: { 'Content-Type': contentType }, body };
}

export function describeRequest(request: ApiRequest): string {
  const body = request.body === undefined ? '' : `\n${JSON.stringify(shorten(request.body))}`;
  return `${request.method} ${shorten(request.url)} as ${request.actor} ${JSON.stringify(request.headers)}${body}`;
}

function shorten(text: string): string {
  return text.length > SHOWN_LENGTH ? `${text.slice(0, SHOWN_LENGTH)}… (${text.length} characters)` : text;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** Keeps the public per-IP limit, which every route without a tenant shares, out of reach. */
const MAX_CLIENT_ADDRESSES = 128;

/**
 * How many client addresses an operation's requests rotate through: enough that a per-IP limit
 * (the public one of the routes without a required tenant, a guessing bucket in `x-rate-limit`) rarely
 * bites, and otherwise one. Each (tenant, address) pair is a rate-limit Durable Object whose
 * SQLite files local workerd keeps open until the run ends: with a new address for every request,
 * a run of some 20,000 requests exhausted the file descriptors.
 */
export function clientAddressesFor(operation: ContractOperation, runs: number): number {
  const perAddress = operation.operation['x-rate-limit'].buckets
    .map((bucket) => (bucket.per === 'tenant+ip' ? bucket.capacity : undefined))
    .find((capacity) => typeof capacity === 'number');
  if (perAddress) return Math.min(MAX_CLIENT_ADDRESSES, Math.ceil(runs / perAddress));
  const tenanted = operation.parameters.some((parameter) => isTenantHeader(parameter) && parameter.required);
  return tenanted ? 1 : MAX_CLIENT_ADDRESSES;
}

let sequence = 0;

/**
 * Sends through the worker's fetch handler as sent, byte for byte: not `call()`, which would add
 * a JSON content type and parse the answer. From the context's client addresses in turn.
 */
export async function send(request: ApiRequest, context: RequestContext): Promise<ApiResponse> {
  sequence += 1;
  const headers = new Headers(request.headers);
  headers.set('CF-Connecting-IP', `10.254.0.${(sequence % (context.clientAddresses ?? 1)) + 1}`);
  const token = tokenOf(request.actor, context);
  if (token && !headers.has('Authorization')) headers.set('Authorization', `Bearer ${token}`);
  const response = await SELF.fetch(`${ORIGIN}${request.url}`, {
    method: request.method,
    headers,
    body: request.body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}
