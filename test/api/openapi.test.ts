import { describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_TTL_SECONDS } from '../../src/platform/auth/tokens';
import { rateLimitPolicies } from '../../src/platform/rate-limit/policies';
import { call } from '../helpers/http';

type Operation = Record<string, unknown> & { responses: Record<string, unknown>; security?: unknown[] };
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
};

async function document(): Promise<Document> {
  const response = await call<Document>('GET', '/openapi.json');
  expect(response.status).toBe(200);
  return response.body;
}

function operations(doc: Document): [string, string, Operation][] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(
      ([method, operation]) => [path, method, operation] as [string, string, Operation],
    ),
  );
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 and names every operation, its tag, summary and problem responses', async () => {
    const doc = await document();
    expect(doc.openapi).toBe('3.1.0');
    const ids = new Set<string>();
    for (const [path, method, operation] of operations(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(operation.operationId, where).toEqual(expect.any(String));
      expect(ids.has(String(operation.operationId)), where).toBe(false);
      ids.add(String(operation.operationId));
      expect(operation.summary, where).toEqual(expect.any(String));
      expect((operation.tags as string[]).length, where).toBe(1);
      expect(operation.responses, where).toHaveProperty('500');
      expect(path.startsWith('/v2/customer/') || path.startsWith('/.well-known/'), where).toBe(true);
    }
  });

  it('declares capability and permission on the routes that have them', async () => {
    const doc = await document();
    const register = doc.paths['/v2/customer/individuals']?.post;
    expect(register?.['x-capability']).toEqual({
      code: 'SCT01',
      requiredTiers: ['STARTER', 'PROFESSIONAL', 'ENTERPRISE', 'CUSTOM'],
    });
    expect(register?.['x-permissions']).toEqual({ anyOf: ['customers:write'], selfService: false });
    expect(register?.security).toEqual([{ bearerAuth: [] }, { clientCredentials: ['customers:write'] }, {}]);
    expect(register?.responses).toHaveProperty('409');
    const get = doc.paths['/v2/customer/customers/{customerId}']?.get;
    expect(get?.['x-permissions']).toEqual({ anyOf: ['customers:read'], selfService: true });
    expect(get?.responses).toHaveProperty('403');
    expect(get?.parameters).toEqual(expect.arrayContaining([{ $ref: '#/components/parameters/TenantId' }]));
  });

  it('marks the step-up routes with x-step-up, and which of them API clients may call', async () => {
    const doc = await document();
    const enrolment = [
      ['/v2/customer/auth/mfa/totp', 'post'],
      ['/v2/customer/auth/mfa/totp/confirm', 'post'],
      ['/v2/customer/auth/webauthn/registration/options', 'post'],
      ['/v2/customer/auth/webauthn/registration/verify', 'post'],
    ] as const;
    for (const [path, method] of enrolment) {
      const operation = doc.paths[path]?.[method];
      expect(operation?.['x-step-up'], path).toEqual({ maxAgeSeconds: 300 });
      expect(JSON.stringify(operation?.responses['401']), path).toContain('step_up_required');
      expect(JSON.stringify(operation?.responses['403']), path).toContain('user_session_required');
    }
    const exported = doc.paths['/v2/customer/customers/{customerId}/export']?.get;
    expect(exported?.['x-step-up']).toEqual({ maxAgeSeconds: 300, apiClientsExempt: true });
    expect(JSON.stringify(exported?.responses['401'])).toContain('step_up_required');
    // Third parties acting for the customer are refused: they cannot step up.
    expect(JSON.stringify(exported?.responses['403'])).toContain('user_session_required');
  });

  it('shows on every operation the rate-limit buckets it charges and its cost (x-rate-limit)', async () => {
    const doc = await document();
    for (const [path, method, operation] of operations(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      const limit = operation['x-rate-limit'] as { cost: number; buckets: { policy: string }[] } | undefined;
      expect(limit?.cost, where).toBeGreaterThanOrEqual(1);
      const tenanted = JSON.stringify(operation.parameters ?? []).includes('TenantId');
      expect(limit?.buckets[0]?.policy, where).toBe(tenanted ? 'tenant' : 'public');
      expect(JSON.stringify(operation.responses['429']), where).toContain('rate_limited');
    }
    const tenantBucket = {
      policy: 'tenant',
      per: 'tenant+principal',
      capacity: 'tenant tier',
      windowSeconds: 60,
    };
    expect(doc.paths['/v2/customer/auth/login']?.post?.['x-rate-limit']).toEqual({
      cost: 1,
      buckets: [
        tenantBucket,
        { policy: 'login', per: 'tenant+ip', capacity: rateLimitPolicies.login.capacity, windowSeconds: 60 },
      ],
    });
    expect(doc.paths['/v2/customer/customers/{customerId}/export']?.get?.['x-rate-limit']).toEqual({
      cost: 10,
      buckets: [tenantBucket],
    });
    // The tenant of /oauth/* is the authenticating client's: its bucket is charged after the IP's.
    expect(doc.paths['/v2/customer/oauth/token']?.post?.['x-rate-limit']).toEqual({
      cost: 1,
      buckets: [
        { policy: 'public', per: 'ip', capacity: rateLimitPolicies.public.capacity, windowSeconds: 60 },
        tenantBucket,
      ],
    });
  });

  it('describes every field with an example and bounds every string and array', async () => {
    const doc = await document();
    const problems: string[] = [];
    const visit = (schema: unknown, where: string, isProperty: boolean) => {
      if (!schema || typeof schema !== 'object') return;
      const node = schema as Record<string, unknown>;
      if ('$ref' in node) return;
      if (isProperty && node.description === undefined) problems.push(`${where}: no description`);
      if (
        isProperty &&
        node.example === undefined &&
        node.examples === undefined &&
        node.type !== 'object' &&
        node.type !== 'array'
      ) {
        problems.push(`${where}: no example`);
      }
      if (
        node.type === 'string' &&
        node.maxLength === undefined &&
        node.enum === undefined &&
        node.const === undefined &&
        node.format === undefined
      ) {
        problems.push(`${where}: string without maxLength`);
      }
      if (node.type === 'array' && node.maxItems === undefined)
        problems.push(`${where}: array without maxItems`);
      for (const [name, property] of Object.entries((node.properties as Record<string, unknown>) ?? {}))
        visit(property, `${where}.${name}`, true);
      if (node.items) visit(node.items, `${where}[]`, false);
      for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
        for (const [index, part] of ((node[key] as unknown[]) ?? []).entries())
          visit(part, `${where}|${index}`, false);
      }
    };
    for (const [name, schema] of Object.entries(doc.components.schemas ?? {})) visit(schema, name, false);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('offers the client-credentials flow wherever API clients are served, the permission as its scope', async () => {
    const doc = await document();
    const scheme = doc.components.securitySchemes?.clientCredentials as {
      type: string;
      flows: { clientCredentials: { tokenUrl: string; scopes: Record<string, string> } };
    };
    expect(scheme.type).toBe('oauth2');
    expect(scheme.flows.clientCredentials.tokenUrl).toBe('/v2/customer/oauth/token');
    expect(scheme.flows.clientCredentials.scopes).toHaveProperty('customers:read');
    expect(doc.paths['/v2/customer/customers']?.get?.security).toEqual([
      { bearerAuth: [] },
      { clientCredentials: ['customers:read'] },
    ]);
    // A user's own login: API clients are refused (403 user_session_required), so not offered.
    expect(doc.paths['/v2/customer/auth/mfa/totp']?.post?.security).toEqual([{ bearerAuth: [] }]);
    for (const [path, method, operation] of operations(doc)) {
      const offered = (operation.security ?? []).some(
        (requirement) => 'clientCredentials' in (requirement as object),
      );
      expect(offered, `${method.toUpperCase()} ${path}`).toBe(
        JSON.stringify(operation.security ?? []).includes('bearerAuth') &&
          !operation['x-user-session-required'],
      );
    }
  });

  it('states the lifetime access tokens are issued with', async () => {
    const doc = await document();
    const bearer = doc.components.securitySchemes?.bearerAuth as { description?: string } | undefined;
    expect(bearer?.description).toContain(`tokens live at most ${ACCESS_TOKEN_TTL_SECONDS / 60} minutes`);
  });
});
