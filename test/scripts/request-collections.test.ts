import { env } from 'cloudflare:test';
import { document, requestValidator } from 'virtual:openapi-contract';
import { describe, expect, it } from 'vitest';
import {
  collectionEnvNames,
  type HttpFile,
  type HttpRequest,
  parseHttpFile,
  resolveFileVariables,
  variablesIn,
} from '../../scripts/lib/request-collections';
import { type ContractOperation, contractOperations, resolve, type Schema } from '../contract/openapi';

/*
 * requests/*.http checked against the OpenAPI document, so the collections cannot rot: every request
 * names an operation that exists, sends its required parameters, headers and credentials, and a body
 * its schema accepts; every variable is defined, and every reference to an earlier answer names a
 * field that answer's schema has.
 */

declare global {
  namespace Cloudflare {
    interface Env {
      /** requests/*.http by file name (vitest.config.ts). */
      REQUEST_COLLECTIONS: Record<string, string>;
    }
  }
}

const ORIGIN = 'http://localhost:8787';
const operations = contractOperations(document);
const dotenvNames = new Set<string>(collectionEnvNames);

/** The operation `method path` names; `{{…}}` segments stand for path parameters. */
function operationOf(method: string, path: string): ContractOperation | undefined {
  const segments = path.split('/');
  const matches = operations.filter((candidate) => {
    const template = candidate.path.split('/');
    return (
      candidate.method === method &&
      template.length === segments.length &&
      template.every((part, index) => {
        const segment = segments[index] ?? '';
        if (part.startsWith('{')) return true;
        return !segment.includes('{{') && segment === part;
      })
    );
  });
  // `/customers/export`-like literals win over a parameter in the same place.
  const literals = (candidate: ContractOperation) =>
    candidate.path.split('/').filter((part) => !part.startsWith('{')).length;
  return matches.sort((a, b) => literals(b) - literals(a))[0];
}

/** Whether `schema` describes a value at `path` (`data`, `0`, `message`, …), through refs and combinators. */
function schemaHas(schema: Schema | undefined, path: string[]): boolean {
  if (!schema) return false;
  const node = resolve<Schema>(document, schema);
  if (path.length === 0) return true;
  const [head = '', ...rest] = path;
  for (const keyword of ['allOf', 'anyOf', 'oneOf']) {
    const branches = node[keyword] as Schema[] | undefined;
    if (branches?.some((branch) => schemaHas(branch, path))) return true;
  }
  if (/^\d+$/.test(head)) return schemaHas(node.items as Schema | undefined, rest);
  const properties = node.properties as Record<string, Schema> | undefined;
  if (properties?.[head]) return schemaHas(properties[head], rest);
  const additional = node.additionalProperties;
  return typeof additional === 'object' && schemaHas(additional as Schema, rest);
}

/** `$.data[0].message.code` as path segments. */
const jsonPath = (expression: string) =>
  expression
    .replace(/^\$\.?/, '')
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter(Boolean);

/** The value at a JSON Pointer (Ajv's `instancePath`). */
function at(value: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], value);
}

function successSchema(operation: ContractOperation): Schema | undefined {
  for (const [status, response] of Object.entries(operation.operation.responses)) {
    if (!status.startsWith('2')) continue;
    const content = resolve(document, response).content ?? {};
    const json = Object.entries(content).find(([mediaType]) => mediaType.includes('json'));
    if (json) return json[1].schema;
  }
  return undefined;
}

/** What is wrong with one variable of a request; `earlier` are the named requests above it. */
function variableProblem(
  name: string,
  earlier: Map<string, { request: HttpRequest; operation?: ContractOperation }>,
) {
  if (/^\$(timestamp|guid|randomInt \d+ \d+)$/.test(name)) return undefined;
  const dotenv = /^\$dotenv (\S+)$/.exec(name);
  if (dotenv)
    return dotenvNames.has(dotenv[1] ?? '') ? undefined : `${name}: npm start writes no such variable`;
  const reference = /^([\w-]+)\.(request|response)\.body\.(\$.*)$/.exec(name);
  if (!reference) return `{{${name}}} is not defined`;
  const [, requestName = '', side, expression = ''] = reference;
  const named = earlier.get(requestName);
  if (!named) return `{{${name}}}: no request named ${requestName} above it`;
  if (side === 'request') {
    const body = named.request.body ? JSON.parse(named.request.body) : undefined;
    return jsonPath(expression).reduce<unknown>(
      (node, key) => (node as Record<string, unknown>)?.[key],
      body,
    ) === undefined
      ? `{{${name}}}: ${requestName}'s body has no ${expression}`
      : undefined;
  }
  const schema = named.operation ? successSchema(named.operation) : undefined;
  return schemaHas(schema, jsonPath(expression))
    ? undefined
    : `{{${name}}}: ${requestName}'s answer has no ${expression}`;
}

function bodyProblems(request: HttpRequest, operation: ContractOperation): string[] {
  const declared = operation.body?.content ?? {};
  const required = operation.operation.requestBody
    ? resolve(document, operation.operation.requestBody).required === true
    : false;
  if (request.body === undefined) return required ? ['the operation needs a body'] : [];
  const contentType = request.headers['content-type']?.split(';')[0]?.trim() ?? '';
  if (!(contentType in declared))
    return [`Content-Type "${contentType}" is not one of ${Object.keys(declared).join(', ') || 'none'}`];
  let body: unknown;
  try {
    body =
      contentType === 'application/x-www-form-urlencoded'
        ? Object.fromEntries(new URLSearchParams(request.body))
        : JSON.parse(request.body);
  } catch (error) {
    return [`the body is not ${contentType} (variables go inside JSON strings): ${error}`];
  }
  const validate = requestValidator(operation.method.toLowerCase(), operation.path, contentType);
  if (!validate) return [`no compiled schema for ${contentType}`];
  if (validate(body)) return [];
  // A value that comes from a variable is known only when sent: its format is checked then.
  return (validate.errors ?? [])
    .filter((error) => !String(at(body, error.instancePath)).includes('{{'))
    .map((error) => `body${error.instancePath} ${error.message}`);
}

function requestProblems(
  request: HttpRequest,
  operation: ContractOperation,
  query: URLSearchParams,
): string[] {
  const problems: string[] = [];
  for (const name of query.keys()) {
    if (!operation.parameters.some((parameter) => parameter.in === 'query' && parameter.name === name)) {
      problems.push(`query parameter ${name} is not declared`);
    }
  }
  for (const parameter of operation.parameters.filter((declared) => declared.required)) {
    const present =
      parameter.in === 'query'
        ? query.has(parameter.name)
        : parameter.in === 'header'
          ? parameter.name.toLowerCase() in request.headers
          : true;
    if (!present) problems.push(`${parameter.in} parameter ${parameter.name} is required`);
  }
  if ((operation.access === 'tenant' || operation.access === 'operator') && !request.headers.authorization) {
    problems.push('the operation needs an Authorization header');
  }
  return [...problems, ...bodyProblems(request, operation)];
}

function fileProblems(file: HttpFile): string[] {
  const earlier = new Map<string, { request: HttpRequest; operation?: ContractOperation }>();
  const problems: string[] = [];
  for (const request of file.requests) {
    const where = `line ${request.line} (${request.method} ${request.url})`;
    const url = resolveFileVariables(request.url, file.variables);
    const headers = Object.values(request.headers).map((value) =>
      resolveFileVariables(value, file.variables),
    );
    const body = request.body === undefined ? '' : resolveFileVariables(request.body, file.variables);
    for (const name of [url, ...headers, body].flatMap(variablesIn)) {
      const problem = variableProblem(name, earlier);
      if (problem) problems.push(`${where}: ${problem}`);
    }
    let operation: ContractOperation | undefined;
    if (!url.startsWith(`${ORIGIN}/v2/customer/`)) {
      problems.push(`${where}: the URL must start with {{baseUrl}} (${ORIGIN}/v2/customer)`);
    } else {
      const [path = '', search = ''] = url.slice(ORIGIN.length).split('?');
      operation = operationOf(request.method, path);
      if (!operation) problems.push(`${where}: the document has no ${request.method} ${path}`);
      else {
        const resolved = { ...request, body: request.body === undefined ? undefined : body };
        for (const problem of requestProblems(resolved, operation, new URLSearchParams(search))) {
          problems.push(`${where}: ${problem}`);
        }
      }
    }
    if (request.name) earlier.set(request.name, { request: { ...request, body }, operation });
  }
  return problems;
}

describe('the request collections (requests/*.http)', () => {
  const files = Object.entries(env.REQUEST_COLLECTIONS);

  it('cover the main journeys', () => {
    expect(Object.keys(env.REQUEST_COLLECTIONS).sort()).toEqual(
      expect.arrayContaining(['b2b.http', 'b2c.http', 'staff.http', 'webhooks.http']),
    );
  });

  it.each(files)('%s: every request matches the OpenAPI document', (_name, text) => {
    const file = parseHttpFile(text);
    expect(file.requests.length).toBeGreaterThan(0);
    expect(file.variables.baseUrl).toBe(`${ORIGIN}/v2/customer`);
    expect(fileProblems(file)).toEqual([]);
  });
});
