import { describe, expect, it } from 'vitest';
import {
  collectionEnvNames,
  parseHttpFile,
  requestCollectionEnv,
  resolveFileVariables,
  variablesIn,
} from '../../scripts/lib/request-collections';

const sample = `# a comment
@baseUrl = http://localhost:8787/v2/customer
@tenant = demo-pro

### Log in
# @name login
POST {{baseUrl}}/auth/login HTTP/1.1
X-Tenant-ID: {{tenant}}
Content-Type: application/json

{"email": "a@example.com",
 "password": "x"}

###
GET {{baseUrl}}/me
Authorization: Bearer {{login.response.body.$.accessToken}}
`;

describe('parseHttpFile', () => {
  it('reads file variables, names, request lines, headers and bodies', () => {
    expect(parseHttpFile(sample)).toEqual({
      variables: { baseUrl: 'http://localhost:8787/v2/customer', tenant: 'demo-pro' },
      requests: [
        {
          line: 7,
          name: 'login',
          method: 'POST',
          url: '{{baseUrl}}/auth/login',
          headers: { 'x-tenant-id': '{{tenant}}', 'content-type': 'application/json' },
          body: '{"email": "a@example.com",\n "password": "x"}',
        },
        {
          line: 15,
          method: 'GET',
          url: '{{baseUrl}}/me',
          headers: { authorization: 'Bearer {{login.response.body.$.accessToken}}' },
        },
      ],
    });
  });

  it('refuses what it cannot read rather than skipping it', () => {
    expect(() => parseHttpFile('FETCH http://x/')).toThrow(/line 1: expected "METHOD URL/);
    expect(() => parseHttpFile('GET http://x/\nnot a header')).toThrow(/line 2: expected a header/);
  });
});

describe('variables', () => {
  it('lists the names used and resolves file variables through one another', () => {
    expect(variablesIn('{{a}}/x/{{ $dotenv B }}')).toEqual(['a', '$dotenv B']);
    expect(resolveFileVariables('{{url}}/me', { url: '{{host}}/v2', host: 'http://h' })).toBe(
      'http://h/v2/me',
    );
    expect(() => resolveFileVariables('{{a}}', { a: '{{b}}', b: '{{a}}' })).toThrow(/loop/);
  });
});

describe('requestCollectionEnv', () => {
  it("writes every variable the collections may read, with demo-pro's credentials", () => {
    const tenant = (id: string) => ({
      id,
      tier: 'PROFESSIONAL' as const,
      admin: { email: `admin@${id}.example.com`, password: `pw-${id}` },
      complianceOfficer: { email: `co@${id}.example.com`, password: 'co' },
      client: { clientId: `cli_${id}`, clientSecret: `fcs_${id}` },
    });
    const text = requestCollectionEnv('op-token', [tenant('demo-starter'), tenant('demo-pro')]);
    const values = Object.fromEntries(
      text
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => line.split('=') as [string, string]),
    );
    expect(Object.keys(values).sort()).toEqual([...collectionEnvNames].sort());
    expect(values).toMatchObject({
      FINCORE_CLIENT_ID: 'cli_demo-pro',
      FINCORE_ADMIN_PASSWORD: 'pw-demo-pro',
      FINCORE_PLATFORM_ADMIN_TOKEN: 'op-token',
    });
  });
});
