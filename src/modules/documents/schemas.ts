import { z } from '@hono/zod-openapi';
import { paginationQuery } from '../../platform/pagination';
import { CountrySchema, DateSchema, TimestampSchema } from '../../platform/schemas';
import { documentScanners, NO_SCANNER, sandboxScanner } from './scanner';

export const documentTypes = [
  'PASSPORT',
  'NATIONAL_ID',
  'DRIVING_LICENSE',
  'RESIDENCE_PERMIT',
  'PROOF_OF_ADDRESS',
  'SOURCE_OF_FUNDS',
  'SELFIE',
  'BANK_STATEMENT',
  'CERTIFICATE_OF_INCORPORATION',
  'ARTICLES_OF_ASSOCIATION',
  'SHAREHOLDER_REGISTER',
  'BENEFICIAL_OWNERSHIP_DECLARATION',
  'FINANCIAL_STATEMENTS',
  'BUSINESS_LICENSE',
  'OTHER',
] as const;
export type DocumentType = (typeof documentTypes)[number];

export const documentStatuses = ['UPLOADED', 'VERIFIED', 'REJECTED', 'EXPIRED'] as const;
export const scanStatuses = ['PENDING', 'CLEAN', 'INFECTED', 'SKIPPED', 'FAILED'] as const;
/** What the bytes may be: detected from them, never taken from the client. */
export const acceptedMimeTypes = ['application/pdf', 'image/jpeg', 'image/png'] as const;
export type AcceptedMimeType = (typeof acceptedMimeTypes)[number];

/** The tenant setting: which installed scanner scans its uploads (./scanner.ts). */
export const DocumentScannerSettingSchema = z
  .enum([NO_SCANNER, ...Object.keys(documentScanners)] as [string, ...string[]])
  .openapi({
    description: `The malware scanner of uploaded documents: an installed scanner's name, or \`${NO_SCANNER}\` for a tenant without one (its documents are \`SKIPPED\`). The default, \`${sandboxScanner.name}\`, flags only the EICAR test file.`,
    example: NO_SCANNER,
  });

export const DocumentIdSchema = z
  .string()
  .max(40)
  .openapi({ description: 'Document id.', example: 'doc_01jd7w3v8m9k2q4r6t8v0x2z4b' });

const DocumentTypeSchema = z
  .enum(documentTypes)
  .openapi({ description: 'What the document is.', example: 'PASSPORT' });

/** The text fields of the upload form; the file is the part named `file`. */
export const DocumentFieldsSchema = z
  .strictObject({
    documentType: DocumentTypeSchema,
    issuingCountry: CountrySchema.optional(),
    documentNumber: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .optional()
      .openapi({ description: 'The number printed on the document.', example: '925076473' }),
    expiresAt: DateSchema.optional().openapi({
      description: 'The date the document expires (YYYY-MM-DD).',
      example: '2031-05-14',
    }),
  })
  .openapi('DocumentFields');
export type DocumentFields = z.infer<typeof DocumentFieldsSchema>;

/**
 * The upload form as the document describes it: a plain schema, not zod, on purpose. A zod
 * `multipart/form-data` body would make @hono/zod-openapi attach a form validator that reads the
 * whole body into memory before the handler; the handler stream-parses it with limits instead,
 * and validates the text fields with DocumentFieldsSchema (registered as a component).
 */
export function uploadFormSchema(maxFileBytes: number) {
  return {
    allOf: [
      { $ref: '#/components/schemas/DocumentFields' },
      {
        type: 'object' as const,
        required: ['file'],
        properties: {
          file: {
            type: 'string' as const,
            format: 'binary',
            maxLength: maxFileBytes,
            description: `The file: a PDF, JPEG or PNG of at most ${maxFileBytes} bytes, as its bytes show (its declared type and name are recorded, not trusted).`,
            example: '%PDF-1.4',
          },
        },
      },
    ],
  };
}

export const DocumentSchema = z
  .object({
    id: DocumentIdSchema,
    customerId: z
      .string()
      .max(40)
      .openapi({ description: 'The customer it belongs to.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    documentType: DocumentTypeSchema,
    status: z.enum(documentStatuses).openapi({ description: 'Lifecycle status.', example: 'UPLOADED' }),
    rejectionReason: z.string().max(64).nullable().openapi({
      description: 'Why it was rejected (`malware_detected`, …); null unless REJECTED.',
      example: null,
    }),
    scanStatus: z.enum(scanStatuses).openapi({
      description:
        'Malware scan: PENDING until the scanner ran; SKIPPED where the tenant has no scanner; FAILED when it could not run.',
      example: 'CLEAN',
    }),
    scanner: z.string().max(64).nullable().openapi({
      description:
        'The scanner that decided `scanStatus` (`sandbox-eicar` only detects the EICAR test file).',
      example: 'sandbox-eicar',
    }),
    mimeType: z
      .enum(acceptedMimeTypes)
      .openapi({ description: 'The type detected from the bytes.', example: 'application/pdf' }),
    size: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31)
      .openapi({ description: 'Size in bytes.', example: 48213, format: 'int64' }),
    sha256: z
      .string()
      .max(64)
      .openapi({
        description: 'SHA-256 of the bytes (hex); the content’s strong ETag.',
        example: 'ab'.repeat(32),
      }),
    fileName: z
      .string()
      .max(255)
      .nullable()
      .openapi({ description: 'The file name the client sent, sanitised.', example: 'passport.pdf' }),
    declaredMimeType: z.string().max(255).nullable().openapi({
      description: 'The type the client declared for the file (recorded, not trusted).',
      example: 'application/pdf',
    }),
    issuingCountry: z
      .string()
      .max(2)
      .nullable()
      .openapi({ description: 'ISO 3166-1 alpha-2 issuing country.', example: 'GB' }),
    documentNumberLast4: z
      .string()
      .max(4)
      .nullable()
      .openapi({ description: 'The last 4 characters of the document number.', example: '6473' }),
    expiresAt: z
      .string()
      .max(10)
      .nullable()
      .openapi({ description: 'When the document expires (YYYY-MM-DD).', example: '2031-05-14' }),
    uploadedBy: z.string().max(40).nullable().openapi({
      description: 'Who uploaded it (user or client id).',
      example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
    uploadedAt: TimestampSchema.openapi({ description: 'When it was uploaded.' }),
    updatedAt: TimestampSchema.openapi({ description: 'When it last changed.' }),
  })
  .openapi('Document', {
    description: 'A document’s metadata; the bytes are at `/documents/{documentId}/content`.',
  });
export type DocumentView = z.infer<typeof DocumentSchema>;

export const DocumentListQuerySchema = z.object({
  ...paginationQuery,
  documentType: DocumentTypeSchema.optional(),
  status: z
    .enum(documentStatuses)
    .optional()
    .openapi({ description: 'Only documents in this status.', example: 'UPLOADED' }),
});

export const DocumentListSchema = z
  .object({
    data: z
      .array(DocumentSchema)
      .max(100)
      .openapi({ description: 'The documents of this page, newest first.' }),
    nextCursor: z.string().max(512).nullable().openapi({
      description: 'Pass as `cursor` to get the next page; null on the last page.',
      example: null,
    }),
  })
  .openapi('DocumentList');

/** A document in the GDPR export: its metadata and where its bytes are, never the bytes. */
export const ExportedDocumentSchema = DocumentSchema.extend({
  deletedAt: TimestampSchema.nullable().openapi({ description: 'When it was deleted; null if it was not.' }),
  contentUrl: z.string().max(200).nullable().openapi({
    description: 'Where its bytes can be read (`GET`), below the API base path; null once deleted.',
    example: '/v2/customer/documents/doc_01jd7w3v8m9k2q4r6t8v0x2z4b/content',
  }),
}).openapi('ExportedDocument');
