/*
 * The request collections of requests/*.http (VS Code REST Client format): how `npm start` fills
 * their credentials and how test/scripts/request-collections.test.ts reads them. Pure, with no
 * Node import: the test runs inside workerd.
 */
import type { DemoCredentials } from './demo-seed.ts';

/** The tenant the collections call, whose credentials `npm start` writes to requests/.env. */
export const COLLECTION_TENANT = 'demo-pro';

/**
 * The contents of requests/.env, which REST Client reads with `{{$dotenv NAME}}`: the demo
 * tenant's API client and admin, and the operator token the local inbox needs.
 */
export function requestCollectionEnv(platformAdminToken: string, tenants: DemoCredentials[]): string {
  const tenant = tenants.find((candidate) => candidate.id === COLLECTION_TENANT);
  if (!tenant) throw new Error(`no demo tenant ${COLLECTION_TENANT}`);
  const values: Record<(typeof collectionEnvNames)[number], string> = {
    FINCORE_CLIENT_ID: tenant.client.clientId,
    FINCORE_CLIENT_SECRET: tenant.client.clientSecret,
    FINCORE_ADMIN_EMAIL: tenant.admin.email,
    FINCORE_ADMIN_PASSWORD: tenant.admin.password,
    FINCORE_PLATFORM_ADMIN_TOKEN: platformAdminToken,
  };
  return [
    `# Written by npm start for requests/*.http ({{$dotenv NAME}}): ${COLLECTION_TENANT}'s credentials.`,
    ...Object.entries(values).map(([name, value]) => `${name}=${value}`),
    '',
  ].join('\n');
}

export const collectionEnvNames = [
  'FINCORE_CLIENT_ID',
  'FINCORE_CLIENT_SECRET',
  'FINCORE_ADMIN_EMAIL',
  'FINCORE_ADMIN_PASSWORD',
  'FINCORE_PLATFORM_ADMIN_TOKEN',
] as const;

export interface HttpRequest {
  /** 1-based line of the request line, for messages. */
  line: number;
  /** `# @name login`: what later requests call it by (`{{login.response.body.$.accessToken}}`). */
  name?: string;
  method: string;
  url: string;
  /** By lower-case name. */
  headers: Record<string, string>;
  body?: string;
}

export interface HttpFile {
  /** `@name = value` file variables, as written. */
  variables: Record<string, string>;
  requests: HttpRequest[];
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/**
 * The requests of a `.http` file as REST Client reads them: blocks separated by `###` lines; in a
 * block, comments (`#`, `//`), `# @name` and `@variable = value` lines, then the request line
 * `METHOD URL [HTTP/1.1]`, its headers up to a blank line, and the body. Anything it cannot read
 * is an error rather than skipped, so a typo cannot hide a request from the checks.
 */
export function parseHttpFile(text: string): HttpFile {
  const variables: Record<string, string> = {};
  const requests: HttpRequest[] = [];
  const lines = text.split(/\r?\n/);
  let index = 0;
  while (index < lines.length) {
    let name: string | undefined;
    let request: HttpRequest | undefined;
    for (; index < lines.length && !lines[index]?.startsWith('###'); index++) {
      const line = lines[index] ?? '';
      const trimmed = line.trim();
      if (request === undefined) {
        const variable = /^@([\w.-]+)\s*=\s*(.*)$/.exec(trimmed);
        const named = /^(?:#|\/\/)\s*@name\s+(\S+)$/.exec(trimmed);
        if (variable?.[1] !== undefined) variables[variable[1]] = variable[2] ?? '';
        else if (named) name = named[1];
        else if (trimmed !== '' && !trimmed.startsWith('#') && !trimmed.startsWith('//')) {
          const [method = '', url = '', version, ...rest] = trimmed.split(/\s+/);
          if (
            !METHODS.has(method) ||
            !url ||
            rest.length > 0 ||
            (version && !/^HTTP\/[\d.]+$/.test(version))
          ) {
            throw new Error(`line ${index + 1}: expected "METHOD URL [HTTP/1.1]", got "${trimmed}"`);
          }
          request = { line: index + 1, ...(name ? { name } : {}), method, url, headers: {} };
        }
        continue;
      }
      if (request.body === undefined) {
        if (trimmed === '') {
          request.body = '';
          continue;
        }
        const header = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
        if (!header?.[1]) throw new Error(`line ${index + 1}: expected a header, got "${line}"`);
        request.headers[header[1].toLowerCase()] = header[2] ?? '';
        continue;
      }
      request.body += `${line}\n`;
    }
    if (request) {
      const body = request.body?.trim();
      if (body) request.body = body;
      else delete request.body;
      requests.push(request);
    }
    index += 1;
  }
  return { variables, requests };
}

/** The names inside `{{…}}` in `text`, in order. */
export function variablesIn(text: string): string[] {
  return [...text.matchAll(/\{\{\s*([^}]+?)\s*\}\}/g)].map((match) => match[1] ?? '');
}

/** `text` with every file variable replaced by its value (values may use other variables). */
export function resolveFileVariables(text: string, variables: Record<string, string>): string {
  let resolved = text;
  for (let depth = 0; depth < 10; depth++) {
    const next = resolved.replace(
      /\{\{\s*([\w.-]+)\s*\}\}/g,
      (whole, name: string) => variables[name] ?? whole,
    );
    if (next === resolved) return resolved;
    resolved = next;
  }
  throw new Error(`file variables refer to each other in a loop: ${text}`);
}
