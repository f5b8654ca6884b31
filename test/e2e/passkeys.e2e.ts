/*
 * Passkeys end to end in a real browser: Debian's Chromium, headless, with a CDP virtual
 * authenticator standing in for Touch ID or a security key, and @simplewebauthn/browser on a
 * page at the API's own origin (http://localhost:<port>, so the RP id is `localhost`).
 * `npm run test:e2e`; not part of `npm test`, which runs inside workerd.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_FLAGS } from './chromium';
import { type LocalWorker, startLocalWorker } from './local-worker';
import type { Answer, PasskeyPage } from './passkeys-page';

const here = fileURLToPath(new URL('.', import.meta.url));
const TENANT_BINDING = 'TENANT_DB_DEMO_PRO';
const PASSWORD = 'correct-horse-battery-staple';

let worker: LocalWorker;
let context: BrowserContext;
let page: Page;
let cdp: CDPSession;
let tenant: string;
let email: string;

function claimsOf(token: unknown): Record<string, unknown> {
  const payload = String(token).split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}

/** Setup calls from Node, straight to the server (no browser involved). */
async function post(path: string, body: unknown, headers: Record<string, string>) {
  const response = await fetch(`http://127.0.0.1:${worker.port}/v2/customer${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as Record<string, unknown>;
}

/** Runs one step of the page script in the browser. */
function inPage<K extends keyof PasskeyPage>(step: K, ...args: Parameters<PasskeyPage[K]>): Promise<Answer> {
  return page.evaluate(
    ([name, values]) => {
      const api = (
        globalThis as unknown as { passkeyPage: Record<string, (...a: unknown[]) => Promise<Answer>> }
      ).passkeyPage;
      return api[name as string]?.(...(values as unknown[])) as Promise<Answer>;
    },
    [step, args] as const,
  );
}

async function addAuthenticator(): Promise<string> {
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return authenticatorId;
}

beforeAll(async () => {
  worker = await startLocalWorker(['CONTROL_DB', TENANT_BINDING]);
  tenant = `e2e-${randomBytes(4).toString('hex')}`;
  email = `ada-${tenant}@example.com`;
  await post(
    '/platform/tenants',
    { id: tenant, name: 'E2E Bank', tier: 'PROFESSIONAL', d1Binding: TENANT_BINDING },
    { Authorization: `Bearer ${worker.platformAdminToken}` },
  );
  await post(
    '/individuals',
    {
      email,
      password: PASSWORD,
      firstName: 'Ada',
      lastName: 'Lovelace',
      dateOfBirth: '1990-12-10',
      nationality: 'GB',
      phone: '+447911123456',
      address: { line1: '12 St James’s Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
      consents: { termsAndConditions: true, privacyPolicy: true },
    },
    { 'X-Tenant-ID': tenant },
  );

  const script = await build({
    entryPoints: [join(here, 'passkeys-page.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
  });
  const origin = `http://localhost:${worker.port}`;
  context = await chromium.launchPersistentContext(join(worker.directory, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  page = context.pages()[0] ?? (await context.newPage());
  // The page and its script live at the API's own origin; every other request reaches the worker.
  await page.route(`${origin}/e2e/passkeys.html`, (route) =>
    route.fulfill({ contentType: 'text/html', body: readFileSync(join(here, 'passkeys.html'), 'utf8') }),
  );
  await page.route(`${origin}/e2e/passkeys.js`, (route) =>
    route.fulfill({ contentType: 'text/javascript', body: script.outputFiles[0]?.text ?? '' }),
  );
  await page.goto(`${origin}/e2e/passkeys.html`);
  cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
}, 240_000);

afterAll(async () => {
  await context?.close();
  await worker?.stop();
});

describe('passkeys in Chromium with a virtual authenticator', () => {
  let authenticatorId: string;
  let accessToken: string;

  it('enrols a passkey after a password login', async () => {
    authenticatorId = await addAuthenticator();
    const login = await inPage('login', tenant, email, PASSWORD);
    expect(login.status).toBe(200);
    accessToken = String(login.body?.accessToken);

    const enrolled = await inPage('enrol', tenant, accessToken, 'Virtual authenticator');
    expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(201);
    expect(enrolled.body).toMatchObject({ name: 'Virtual authenticator', cloneSuspectedAt: null });

    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]).toMatchObject({ rpId: 'localhost', isResidentCredential: true });
    const list = await inPage('list', tenant, accessToken);
    expect(list.body?.data).toEqual([expect.objectContaining({ id: enrolled.body?.id })]);
  });

  it('signs in without a password', async () => {
    const signedIn = await inPage('signIn', tenant);
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    expect(claimsOf(signedIn.body?.accessToken)).toMatchObject({ tid: tenant, amr: ['pop', 'user', 'mfa'] });
  });

  it('is asked for, and accepted, as the second factor of a password login', async () => {
    const login = await inPage('login', tenant, email, PASSWORD);
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ mfaRequired: true, methods: ['WEBAUTHN'] });

    const verified = await inPage('secondFactor', tenant, String(login.body?.mfaToken));
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    expect(claimsOf(verified.body?.accessToken)).toMatchObject({ amr: ['pwd', 'pop', 'user', 'mfa'] });
  });

  it('refuses a clone of the passkey whose signature counter is behind', async () => {
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    const [original] = credentials;
    if (!original) throw new Error('the virtual authenticator holds no credential');
    expect(original.signCount).toBeGreaterThan(1);

    // The copy: the same private key on another authenticator, with an older counter.
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    const copyId = await addAuthenticator();
    await cdp.send('WebAuthn.addCredential', {
      authenticatorId: copyId,
      credential: { ...original, signCount: 0 },
    });

    const refused = await inPage('signIn', tenant);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'passkey_clone_suspected' });
    const list = await inPage('list', tenant, accessToken);
    expect(list.body?.data).toEqual([expect.objectContaining({ cloneSuspectedAt: expect.any(String) })]);
  });
});
