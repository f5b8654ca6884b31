import { SELF } from 'cloudflare:test';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { handleError } from '../../src/platform/http';
import { problemTypes } from '../../src/platform/problems';
import { createStaff, createTenant, individualInput } from '../helpers/factories';
import { BASE, call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';

describe('every error class is problem+json', () => {
  it('404 for an unknown route', async () => {
    expectProblem(await call('GET', '/no-such-thing'), 404, 'not_found');
  });

  it('405 with Allow for a known path and the wrong method', async () => {
    const response = await call('DELETE', '/health');
    expectProblem(response, 405, 'method_not_allowed');
    expect(response.headers.get('Allow')).toBe('GET, HEAD');
  });

  it('400 for malformed JSON', async () => {
    const tenant = await createTenant();
    expectProblem(
      await call('POST', '/individuals', { tenant: tenant.id, body: '{"email": ' }),
      400,
      'malformed_request',
    );
  });

  it('415 for a body of the wrong content type', async () => {
    const tenant = await createTenant();
    const response = await call('POST', '/individuals', {
      tenant: tenant.id,
      body: 'email=a@b.c',
      headers: { 'Content-Type': 'text/plain' },
    });
    expectProblem(response, 415, 'unsupported_media_type');
  });

  it('413 for an oversized body, without reading it whole', async () => {
    const tenant = await createTenant();
    const response = await call('POST', '/individuals', {
      tenant: tenant.id,
      body: JSON.stringify({ ...individualInput(), occupation: 'x'.repeat(1_100_000) }),
    });
    expectProblem(response, 413, 'payload_too_large');
  });

  it('422 with the failing fields for invalid input, never the validator’s own shape', async () => {
    const tenant = await createTenant();
    const response = await call('POST', '/individuals', {
      tenant: tenant.id,
      body: { ...individualInput(), email: 'not-an-email', address: { city: 'London' }, unknownField: 1 },
    });
    expectProblem(response, 422, 'validation_failed');
    const paths = (response.body.errors as { path: string }[]).map((error) => error.path);
    expect(paths).toEqual(expect.arrayContaining(['email', 'address.line1', 'address.country']));
    expect(response.body).not.toHaveProperty('success');
    expect(response.body).not.toHaveProperty('error');
  });

  it('422 for invalid query parameters, with the parameter named', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    const response = await call('GET', '/customers?limit=1000', { tenant: tenant.id, token: staff.token });
    expectProblem(response, 422, 'validation_failed');
    expect(response.body.errors).toEqual([expect.objectContaining({ path: 'query.limit' })]);
  });

  it('keeps an echoed request path within the declared bound of `instance`', async () => {
    const response = await call('GET', `/problems/${'é'.repeat(3000)}`);
    expectProblem(response, 422, 'validation_failed');
    expect(String(response.body.instance)).toHaveLength(2048);
    expect(String(response.body.instance)).toMatch(/^\/v2\/customer\/problems\/%C3%A9.*…$/);
  });

  it('400 for a cursor the API did not issue', async () => {
    const tenant = await createTenant();
    const staff = await createStaff(tenant);
    expectProblem(
      await call('GET', '/customers?cursor=abc', { tenant: tenant.id, token: staff.token }),
      400,
      'invalid_cursor',
    );
  });

  it('500 shows a generic detail and never the internals', async () => {
    const app = new Hono();
    app.get('/boom', () => {
      throw new Error('secret internals: db password hunter2');
    });
    app.onError(handleError as never);
    const response = await app.request('/boom');
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status).toBe(500);
    expect(response.headers.get('Content-Type')).toBe('application/problem+json');
    expect(body.code).toBe('internal_error');
    expect(JSON.stringify(body)).not.toContain('hunter2');
  });

  it('echoes a valid X-Request-Id and replaces an unsafe one', async () => {
    const echoed = await SELF.fetch(`${BASE}/health`, { headers: { 'X-Request-Id': 'client-trace-42' } });
    expect(echoed.headers.get('X-Request-Id')).toBe('client-trace-42');
    const replaced = await SELF.fetch(`${BASE}/health`, { headers: { 'X-Request-Id': '<script>' } });
    expect(replaced.headers.get('X-Request-Id')).toMatch(/^req_/);
  });
});

/** What Chromium sends when it follows a link. */
const BROWSER_ACCEPT =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('problem types', () => {
  it('each code is described at its type URI', async () => {
    for (const code of Object.keys(problemTypes)) {
      const response = await call('GET', `/problems/${code}`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ code, type: `/v2/customer/problems/${code}` });
    }
  });

  it('an unknown code is 404', async () => {
    expectProblem(await call('GET', '/problems/no_such_problem'), 404, 'not_found');
    const asked = await call('GET', '/problems/no_such_problem', { headers: { Accept: BROWSER_ACCEPT } });
    expectProblem(asked, 404, 'not_found');
  });

  it('lists every code at /problems', async () => {
    const response = await call<{ data: { code: string; type: string; status: number }[] }>(
      'GET',
      '/problems',
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toMatch(/^application\/json/);
    expect(response.body.data.map((problem) => problem.code).sort()).toEqual(
      Object.keys(problemTypes).sort(),
    );
    expect(response.body.data[0]).toMatchObject({
      type: `/v2/customer/problems/${response.body.data[0]?.code}`,
    });
  });

  it('answers a browser with a page that runs and loads nothing', async () => {
    const one = await call('GET', '/problems/email_taken', { headers: { Accept: BROWSER_ACCEPT } });
    expect(one.status).toBe(200);
    expect(one.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(one.headers.get('Vary')).toBe('Accept');
    expect(one.headers.get('Content-Security-Policy')).toContain("default-src 'none'");
    expect(one.text).toContain('<h1>Email taken</h1>');
    expect(one.text).toContain('<dd>409</dd>');
    expect(one.text).not.toMatch(/<script|<style|\sstyle=/);

    const index = await call('GET', '/problems', { headers: { Accept: BROWSER_ACCEPT } });
    expect(index.headers.get('Content-Type')).toMatch(/^text\/html/);
    for (const code of Object.keys(problemTypes)) {
      expect(index.text).toContain(`<a href="/v2/customer/problems/${code}">`);
    }
  });

  it('answers JSON to anything that does not prefer HTML', async () => {
    for (const accept of ['*/*', 'application/json', 'application/json, text/html;q=0.5', 'text/plain']) {
      const response = await call('GET', '/problems/email_taken', { headers: { Accept: accept } });
      expect(response.headers.get('Content-Type'), accept).toMatch(/^application\/json/);
      expect(response.body, accept).toMatchObject({ code: 'email_taken', status: 409 });
    }
  });
});
