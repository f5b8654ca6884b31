import { env, SELF } from 'cloudflare:test';
import { expect } from 'vitest';
import { requireCustomerRow } from '../../src/modules/customers/service';
import type { DocumentType } from '../../src/modules/documents/schemas';
import { storeDocument } from '../../src/modules/documents/service';
import { systemContext } from '../../src/platform/context';
import { sha256Hex } from '../../src/platform/crypto';
import { type DocumentQueueMessage, queueNames } from '../../src/platform/queues';
import { requireActiveTenant } from '../../src/platform/tenancy';
import { database, type TestTenant } from './factories';
import { type ApiResponse, BASE, call } from './http';
import { deliver } from './queues';

declare global {
  namespace Cloudflare {
    interface Env {
      /** test/fixtures/documents/*, base64 by file name (vitest.config.ts). */
      DOCUMENT_FIXTURES: Record<string, string>;
    }
  }
}

export type FixtureName =
  | 'valid.pdf'
  | 'valid.png'
  | 'valid.jpg'
  | 'html-as.pdf'
  | 'program.exe'
  | 'image.svg'
  | 'eicar.pdf';

/** A committed fixture's bytes. */
export function fixture(name: FixtureName): Uint8Array {
  const encoded = env.DOCUMENT_FIXTURES[name];
  if (encoded === undefined) throw new Error(`no fixture ${name}`);
  return Uint8Array.from(atob(encoded), (character) => character.charCodeAt(0));
}

/** A PDF of exactly `size` bytes: a valid header, then padding the test chooses. */
export function pdfOfSize(
  size: number,
  fill: (index: number) => number = (index) => index % 251,
): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let index = 0; index < size; index += 1) bytes[index] = fill(index);
  bytes.set(new TextEncoder().encode('%PDF-1.4\n'));
  return bytes;
}

export interface UploadOptions {
  bytes?: Uint8Array;
  fileName?: string;
  fileType?: string;
  fields?: Record<string, string>;
  headers?: Record<string, string>;
}

export function uploadForm(options: UploadOptions = {}): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries({ documentType: 'PASSPORT', ...options.fields }))
    form.append(name, value);
  form.append(
    'file',
    new Blob([options.bytes ?? fixture('valid.pdf')], { type: options.fileType ?? 'application/pdf' }),
    options.fileName ?? 'passport.pdf',
  );
  return form;
}

export function upload(
  tenant: TestTenant,
  token: string,
  customerId: string,
  options: UploadOptions = {},
): Promise<ApiResponse> {
  return call('POST', `/customers/${customerId}/documents`, {
    tenant: tenant.id,
    token,
    multipart: uploadForm(options),
    headers: options.headers,
  });
}

/** Uploads and expects a 201; the document's id. */
export async function uploadDocument(
  tenant: TestTenant,
  token: string,
  customerId: string,
  options: UploadOptions = {},
): Promise<string> {
  const response = await upload(tenant, token, customerId, options);
  expect(response.status, response.text).toBe(201);
  return response.body.id as string;
}

/** Runs the worker's document-jobs consumer on one scan, as the queue would. */
export function runScan(tenant: TestTenant, documentId: string): Promise<void> {
  return deliver<DocumentQueueMessage>(queueNames.documents, {
    kind: 'document.scan',
    tenantId: tenant.id,
    documentId,
  });
}

/** Runs the dead-letter consumer on a scan whose retries ran out. */
export function runDeadScan(tenant: TestTenant, documentId: string): Promise<void> {
  return deliver<DocumentQueueMessage>(queueNames.documentsDeadLetter, {
    kind: 'document.scan',
    tenantId: tenant.id,
    documentId,
  });
}

/** A document-jobs producer that keeps what is sent instead of queueing it. */
export function recordingQueue(): { queue: Queue; sent: DocumentQueueMessage[] } {
  const sent: DocumentQueueMessage[] = [];
  const queue = {
    send: async (body: DocumentQueueMessage) => {
      sent.push(body);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<DocumentQueueMessage>>) => {
      for (const message of messages) sent.push(message.body);
    },
  };
  return { queue: queue as unknown as Queue, sent };
}

/**
 * A PDF stored as an upload stores it, whose scan message was lost: it stays PENDING until the
 * test delivers a scan, where an upload through the route would be scanned by the queue of the
 * test run about a second later, whenever that falls in the test.
 */
export async function storeUnscanned(
  tenant: TestTenant,
  customerId: string,
  bytes: Uint8Array = fixture('valid.pdf'),
  documentType: DocumentType = 'PASSPORT',
): Promise<string> {
  const ctx = systemContext(
    { ...env, DOCUMENT_QUEUE: recordingQueue().queue },
    await requireActiveTenant(env, tenant.id),
    database(tenant),
  );
  const customer = await requireCustomerRow(ctx, customerId);
  const stored = await storeDocument(
    ctx,
    customer,
    { documentType },
    {
      pieces: [bytes],
      size: bytes.length,
      sha256: await sha256Hex(bytes),
      mimeType: 'application/pdf',
      fileName: 'lost.pdf',
      declaredMimeType: 'application/pdf',
    },
  );
  await ctx.settle();
  return stored.id;
}

/** The raw response of a content request, bytes included. */
export async function download(
  tenant: TestTenant,
  token: string,
  documentId: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Headers; bytes: Uint8Array }> {
  const response = await SELF.fetch(`${BASE}/documents/${documentId}/content`, {
    method,
    headers: { 'X-Tenant-ID': tenant.id, Authorization: `Bearer ${token}`, ...headers },
  });
  return {
    status: response.status,
    headers: response.headers,
    bytes: new Uint8Array(await response.arrayBuffer()),
  };
}
