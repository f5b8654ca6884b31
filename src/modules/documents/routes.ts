import { z } from '@hono/zod-openapi';
import { fieldErrorsFromZod, validationError } from '../../platform/errors';
import { serviceContext } from '../../platform/http';
import { runIdempotently } from '../../platform/idempotency';
import { createRouter, defineRoute, jsonResponse } from '../../platform/openapi';
import type { RouteAccess } from '../../platform/pipeline';
import { CustomerParams } from '../customers/schemas';
import {
  acceptedMimeTypes,
  DocumentFieldsSchema,
  DocumentIdSchema,
  DocumentListQuerySchema,
  DocumentListSchema,
  DocumentSchema,
  uploadFormSchema,
} from './schemas';
import {
  deleteDocument,
  getDocument,
  listDocuments,
  readDocumentContent,
  requireUploadTarget,
  storeDocument,
} from './service';
import { readUpload, uploadLimits } from './upload';

const tags = ['Documents'];
const documentParams = z.object({ documentId: DocumentIdSchema });
const readAccess = {
  auth: 'required',
  tenant: true,
  capability: 'SCT11',
  permission: 'documents:read',
  selfService: true,
} satisfies RouteAccess;
const writeAccess = { ...readAccess, permission: 'documents:write' } satisfies RouteAccess;

const binary = { type: 'string' as const, format: 'binary', maxLength: uploadLimits.fileBytes };
const contentHeaders = {
  ETag: { description: 'The strong ETag: `"<sha256>"`.', schema: { type: 'string' as const, maxLength: 66 } },
  'Content-Disposition': {
    description: 'Always `attachment`, with the file name (RFC 6266).',
    schema: { type: 'string' as const, maxLength: 1024 },
  },
};
const contentResponse = (description: string) => ({
  description,
  headers: contentHeaders,
  content: Object.fromEntries(acceptedMimeTypes.map((type) => [type, { schema: binary }])),
});

function contentRoute(method: 'get' | 'head') {
  return defineRoute({
    method,
    path: '/documents/{documentId}/content',
    operationId: method === 'get' ? 'getDocumentContent' : 'headDocumentContent',
    summary: method === 'get' ? 'Download a document' : 'A document’s size and ETag, without the bytes',
    description:
      'The bytes as uploaded, decrypted as they stream, with `Content-Type` the detected type and `ETag` their SHA-256. `If-None-Match` → 304; one `Range` (`bytes=a-b`, `a-`, `-n`) → 206, past the end → 416; other ranges are ignored. Served as an attachment with `nosniff`, `Content-Security-Policy: sandbox` and `Cache-Control: private, no-store`. Each download is an audit entry.',
    tags,
    access: readAccess,
    errors: ['range_not_satisfiable', 'document_unreadable'],
    request: { params: documentParams },
    responses: {
      200: contentResponse('The document’s bytes.'),
      206: contentResponse('The requested range of the bytes, with `Content-Range`.'),
      304: { description: 'Not modified: the client’s copy (`If-None-Match`) is current.' },
    },
  });
}

export function documentRoutes() {
  const router = createRouter();
  router.openAPIRegistry.register('DocumentFields', DocumentFieldsSchema);

  router.openapi(
    defineRoute({
      method: 'post',
      path: '/customers/{customerId}/documents',
      operationId: 'uploadDocument',
      summary: 'Upload a document',
      description: `\`multipart/form-data\` with exactly one part \`file\` and the text fields. At most ${uploadLimits.fileBytes} bytes of file and ${uploadLimits.envelopeBytes} of fields and part headers, ${uploadLimits.parts} parts: a larger \`Content-Length\` is refused at once and a larger chunked body as soon as it passes the limit (413). The type is detected from the bytes (PDF, JPEG, PNG; else 415 with \`detectedType\`). Stored encrypted under the customer's key; scanned for malware after the answer (\`scanStatus\`). The same bytes as another document of the customer and type: 409 \`document_duplicate\`. \`Idempotency-Key\` replays are fingerprinted by the file's SHA-256 and the fields.`,
      tags,
      access: { ...writeAccess, rateLimit: { cost: 5 } },
      idempotent: 'in-handler',
      errors: [
        'customer_closed',
        'customer_erased',
        'document_duplicate',
        'idempotency_key_in_use',
        'idempotency_key_reused',
      ],
      request: {
        params: CustomerParams,
        body: {
          required: true,
          content: { 'multipart/form-data': { schema: uploadFormSchema(uploadLimits.fileBytes) } },
        },
      },
      responses: {
        201: jsonResponse(DocumentSchema, 'The stored document, `UPLOADED`, its scan `PENDING`.'),
      },
    }),
    async (c) => {
      const ctx = serviceContext(c);
      const customer = await requireUploadTarget(ctx, c.req.valid('param').customerId);
      const { fields, file } = await readUpload(c.req.raw);
      const parsed = DocumentFieldsSchema.safeParse(fields);
      if (!parsed.success) throw validationError(fieldErrorsFromZod(parsed.error));
      const fingerprint = [
        c.req.method,
        c.req.path,
        file.sha256,
        file.fileName,
        file.declaredMimeType,
        JSON.stringify(Object.entries(fields).sort()),
      ].join('\n');
      const stored = () => storeDocument(ctx, customer, parsed.data, file);
      // The reply is the JSON of a 201 or a problem, stored or replayed: typed as what it replays.
      return (await runIdempotently(c, fingerprint, async () => c.json(await stored(), 201))) as never;
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/customers/{customerId}/documents',
      operationId: 'listDocuments',
      summary: "A customer's documents",
      tags,
      access: readAccess,
      errors: ['customer_erased', 'invalid_cursor'],
      request: { params: CustomerParams, query: DocumentListQuerySchema },
      responses: {
        200: jsonResponse(DocumentListSchema, 'The documents, newest first; deleted ones are not listed.'),
      },
    }),
    async (c) =>
      c.json(
        await listDocuments(serviceContext(c), c.req.valid('param').customerId, c.req.valid('query')),
        200,
      ),
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/documents/{documentId}',
      operationId: 'getDocument',
      summary: 'A document’s metadata',
      tags,
      access: readAccess,
      request: { params: documentParams },
      responses: { 200: jsonResponse(DocumentSchema, 'The document.') },
    }),
    async (c) => c.json(await getDocument(serviceContext(c), c.req.valid('param').documentId), 200),
  );

  router.openapi(
    defineRoute({
      method: 'delete',
      path: '/documents/{documentId}',
      operationId: 'deleteDocument',
      summary: 'Delete a document',
      description:
        'Removes the bytes and keeps a tombstone of the metadata. Refused (409 `document_in_use`) while a verification relies on the document.',
      tags,
      access: writeAccess,
      errors: ['document_in_use'],
      request: { params: documentParams },
      responses: { 204: { description: 'Deleted.' } },
    }),
    async (c) => {
      await deleteDocument(serviceContext(c), c.req.valid('param').documentId);
      return c.body(null, 204);
    },
  );

  // Hono answers HEAD with the GET route (without the body); the HEAD route declares it in the
  // document, and the service reads no bytes for it.
  for (const method of ['get', 'head'] as const) {
    router.openapi(contentRoute(method), async (c) =>
      readDocumentContent(serviceContext(c), c.req.valid('param').documentId, {
        method: c.req.method === 'HEAD' ? 'HEAD' : 'GET',
        ifNoneMatch: c.req.header('If-None-Match'),
        range: c.req.header('Range'),
      }),
    );
  }

  return router;
}
