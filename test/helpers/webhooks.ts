import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test';
import { beforeAll, expect } from 'vitest';
import worker from '../../src/index';
import type { WebhookQueueMessage } from '../../src/platform/queues';
import { createStaff, type TestStaff, type TestTenant, unique } from './factories';
import { call } from './http';

export const RECEIVER_ORIGIN = 'https://receiver.example';

export interface ReceivedRequest {
  path: string;
  method: string;
  redirect: string;
  hasSignal: boolean;
  headers: Record<string, string>;
  body: string;
}

export type Responder = (request: ReceivedRequest) => Response | Promise<Response>;

interface ReceiverState {
  everyHost: boolean;
  received: ReceivedRequest[];
  fetched: string[];
  responders: Map<string, Responder>;
}

/**
 * The one interception of the isolate's `fetch`, kept on globalThis: with `isolate: false` test
 * files share an isolate, one after another or side by side, so each file's receiver joins it
 * instead of replacing another file's. Paths are unique per receiver, so a path finds its own.
 */
const RECEIVERS = Symbol.for('fincore.test.receivers');
type InterceptedGlobal = typeof globalThis & { [RECEIVERS]?: ReceiverState[] };

function receivers(): ReceiverState[] {
  const scope = globalThis as InterceptedGlobal;
  const existing = scope[RECEIVERS];
  if (existing) return existing;
  const installed: ReceiverState[] = [];
  scope[RECEIVERS] = installed;
  const original = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    for (const receiver of installed) receiver.fetched.push(request.url);
    const url = new URL(request.url);
    const owner = installed.find(
      (receiver) =>
        (url.origin === RECEIVER_ORIGIN || receiver.everyHost) && receiver.responders.has(url.pathname),
    );
    const answering = owner
      ? [owner]
      : installed.filter((receiver) => url.origin === RECEIVER_ORIGIN || receiver.everyHost);
    if (answering.length === 0) return original(input, init);
    const record: ReceivedRequest = {
      path: url.pathname,
      method: request.method,
      redirect: request.redirect,
      hasSignal: init?.signal instanceof AbortSignal,
      headers: Object.fromEntries(request.headers),
      body: await request.text(),
    };
    for (const receiver of answering) receiver.received.push(record);
    const responder =
      owner?.responders.get(url.pathname) ?? (() => new Response('no such hook', { status: 404 }));
    return responder(record);
  };
  return installed;
}

/**
 * Stands in for tenants' receivers at https://receiver.example: the worker's outbound fetches to
 * that host are recorded and answered here, each path as its test programs it; other requests go
 * out as usual. The worker runs in the test's isolate, so this sees the real consumer's
 * requests, whether the queue or the test delivered the message. It stays in place until the
 * isolate ends: deliveries still queued when a test (or the last one) finishes must not go out
 * to the network. With `everyHost`, requests to any other host are answered here too (404
 * unless a path is programmed), for tests that register endpoints at URLs they do not choose.
 */
export function installReceiver(options: { everyHost?: boolean } = {}) {
  const state: ReceiverState = {
    everyHost: options.everyHost ?? false,
    received: [],
    fetched: [],
    responders: new Map(),
  };
  beforeAll(() => {
    receivers().push(state);
  });
  return {
    /** A fresh path on the receiver, answering with `responder` until told otherwise. */
    path(responder: Responder = () => new Response('ok')): string {
      const path = `/${unique('hook')}`;
      state.responders.set(path, responder);
      return path;
    },
    respond(path: string, responder: Responder): void {
      state.responders.set(path, responder);
    },
    requests(path: string): ReceivedRequest[] {
      return state.received.filter((request) => request.path === path);
    },
    /** Every URL the worker fetched, to any host, while this receiver was installed. */
    fetched(): readonly string[] {
      return state.fetched;
    },
  };
}

export type Receiver = ReturnType<typeof installReceiver>;

export interface TestEndpoint {
  id: string;
  secret: string;
  url: string;
  path: string;
}

/** Registers an endpoint through the API, pointing at a fresh path of the receiver. */
export async function createEndpoint(
  tenant: TestTenant,
  receiver: Receiver,
  options: { events?: string[]; responder?: Responder; staff?: TestStaff } = {},
): Promise<TestEndpoint & { staff: TestStaff }> {
  const staff = options.staff ?? (await createStaff(tenant));
  const path = receiver.path(options.responder);
  const url = `${RECEIVER_ORIGIN}${path}`;
  const response = await call<{ id: string; secret: string }>('POST', '/webhooks/endpoints', {
    tenant: tenant.id,
    token: staff.token,
    // Not `*` by default: the staff login above emits `session.created`, whose dispatch may
    // come after the endpoint exists and would add a delivery the test did not ask for.
    body: { url, events: options.events ?? ['customer.created', 'webhook.test'] },
  });
  expect(response.status, response.text).toBe(201);
  return { id: response.body.id, secret: response.body.secret, url, path, staff };
}

export function failWith(status: number, body = 'receiver is down'): Responder {
  return () => new Response(body, { status });
}

export interface Attempt {
  number: number;
  attemptedAt: string;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseBody: string | null;
}

export interface Delivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: 'PENDING' | 'DELIVERED' | 'RETRYING' | 'FAILED';
  attemptCount: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  failedAt: string | null;
  voidedAt: string | null;
  voidReason: string | null;
  deliveredAt: string | null;
  attempts: Attempt[];
}

export type Endpoint = Awaited<ReturnType<typeof createEndpoint>>;

export async function delivery(tenant: TestTenant, endpoint: Endpoint, id: string): Promise<Delivery> {
  const response = await call<Delivery>('GET', `/webhooks/deliveries/${id}`, {
    tenant: tenant.id,
    token: endpoint.staff.token,
  });
  expect(response.status, response.text).toBe(200);
  return response.body;
}

export async function deliveries(tenant: TestTenant, endpoint: Endpoint, query = ''): Promise<Delivery[]> {
  const response = await call<{ data: Delivery[] }>(
    'GET',
    `/webhooks/endpoints/${endpoint.id}/deliveries${query}`,
    {
      tenant: tenant.id,
      token: endpoint.staff.token,
    },
  );
  expect(response.status, response.text).toBe(200);
  return response.body.data;
}

/** Waits until the delivery, moved along by the real queue, satisfies `done`. */
export async function settled(
  tenant: TestTenant,
  endpoint: Endpoint,
  id: string,
  done: (delivery: Delivery) => boolean,
): Promise<Delivery> {
  await expect.poll(async () => done(await delivery(tenant, endpoint, id)), { timeout: 15_000 }).toBe(true);
  return delivery(tenant, endpoint, id);
}

/** Calls the worker's queue handler with a built batch, as the queue would. */
export async function runQueue(
  queue: string,
  messages: { id: string; attempts: number; body: WebhookQueueMessage }[],
) {
  const batch = createMessageBatch<WebhookQueueMessage>(
    queue,
    messages.map((message) => ({ ...message, timestamp: new Date() })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, env);
  return getQueueResult(batch, ctx);
}

export function attemptMessage(tenant: TestTenant, deliveryId: string): WebhookQueueMessage {
  return { kind: 'delivery.attempt', tenantId: tenant.id, deliveryId };
}
