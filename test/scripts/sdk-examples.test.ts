import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { b2bJourney } from '../../examples/b2b-journey';
import { b2cJourney } from '../../examples/b2c-journey';
import { createApiClient, createTenant } from '../helpers/factories';
import { ORIGIN } from '../helpers/http';

/* The examples of examples/ as `npm run example:b2c|b2b` runs them, against the worker itself. */

async function connection() {
  const tenant = await createTenant({ tier: 'PROFESSIONAL' });
  const client = await createApiClient(tenant, ['customers:read', 'customers:write']);
  const lines: string[] = [];
  return {
    lines,
    options: {
      baseUrl: `${ORIGIN}/v2/customer`,
      tenant: tenant.id,
      clientId: client.id,
      clientSecret: client.clientSecret,
      fetch: (request: Request) => SELF.fetch(request),
      log: (line: string) => lines.push(line),
    },
  };
}

describe('the SDK examples', () => {
  it('runs the B2C journey', async () => {
    const { options, lines } = await connection();
    const result = await b2cJourney(options);
    expect(result).toMatchObject({
      customerId: expect.stringMatching(/^cus_/),
      status: 'PENDING_EMAIL_VERIFICATION',
    });
    expect(lines.at(-1)).toMatch(/^refused {5}409 email_taken/);
  });

  it('runs the B2B journey', async () => {
    const { options, lines } = await connection();
    const result = await b2bJourney(options);
    expect(result).toEqual({ organizationId: expect.stringMatching(/^cus_/), shareholderIsUbo: true });
    expect(lines).toHaveLength(4);
  });
});
