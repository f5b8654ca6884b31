/*
 * The API reference page in a real browser, with every other origin unreachable: it must load
 * from the worker alone, take the tenant and a client-credentials token in its Authorize dialog,
 * and answer the first "Execute" of GET /customers with 200. `npm run test:e2e`.
 */
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_FLAGS } from './chromium';
import { type LocalWorker, startLocalWorker } from './local-worker';

const TENANT = 'demo-pro';

let worker: LocalWorker;
let browser: Browser;
let page: Page;
let origin: string;
/** Requests the page tried to send anywhere but the worker: all refused. */
const foreign: string[] = [];
/** URLs of the API calls the page made. */
const sent: string[] = [];

beforeAll(async () => {
  worker = await startLocalWorker(['CONTROL_DB', 'TENANT_DB_DEMO_PRO'], { seed: TENANT });
  origin = `http://localhost:${worker.port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  page = await browser.newPage();
  // Swagger UI renders a document of some 1.7 MB: slow on a busy machine, so waits are long.
  page.setDefaultTimeout(90_000);
  // Offline but for the worker: anything else (a CDN, a font, a validator) is aborted and noted.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`)) {
      sent.push(url);
      return route.continue();
    }
    foreign.push(url);
    return route.abort('internetdisconnected');
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
});

describe('the API reference page in Chromium, offline', () => {
  it('renders from the worker alone', async () => {
    await page.goto(`${origin}/v2/customer/docs`);
    await page.locator('.swagger-ui .info .title').waitFor();
    expect(await page.locator('.swagger-ui .info .title').textContent()).toContain('FinCore Customer API');
    expect(foreign).toEqual([]);
  }, 180_000);

  it('takes the tenant and a client-credentials token in the Authorize dialog', async () => {
    const demo = worker.demo;
    if (!demo) throw new Error('the worker was not seeded');
    await page.locator('.auth-wrapper .btn.authorize').click();
    const tenant = page.locator('.auth-container', { has: page.locator('h4', { hasText: '(apiKey)' }) });
    await tenant.locator('input').fill(TENANT);
    await tenant.locator('.btn.modal-btn.auth.authorize').click();

    const oauth = page.locator('.auth-container', { has: page.locator('#client_id_clientCredentials') });
    await oauth.locator('#client_id_clientCredentials').fill(demo.client.clientId);
    await oauth.locator('#client_secret_clientCredentials').fill(demo.client.clientSecret);
    const token = page.waitForResponse((response) => response.url().endsWith('/v2/customer/oauth/token'));
    await oauth.locator('.btn.modal-btn.auth.authorize').click();
    expect((await token).status()).toBe(200);
    await expect.poll(() => oauth.locator('.btn.modal-btn.auth.authorize').count()).toBe(0);
    await page.locator('.dialog-ux .close-modal').click();
  }, 180_000);

  it('answers the first Execute of GET /customers with 200, after a reload kept the authorization', async () => {
    // Swagger UI renders only the tags in view: the operation is reached by its deep link, which
    // opens it (a click on its summary would close it again).
    await page.goto(`${origin}/v2/customer/docs#/Profiles/listCustomers`);
    await page.reload();
    const operation = page.locator('#operations-Profiles-listCustomers');
    await operation.locator('.btn.execute').click();
    const status = operation.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor();
    expect((await status.textContent())?.trim()).toBe('200');

    const call = sent.find((url) => new URL(url).pathname === '/v2/customer/customers');
    expect(call).toBeDefined();
    // Only what has a default is sent: no example cursor, filter or date range.
    expect([...new URL(call ?? origin).searchParams.keys()]).toEqual(['limit']);
    expect(foreign).toEqual([]);
  }, 180_000);
});
