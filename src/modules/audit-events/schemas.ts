import { z } from '@hono/zod-openapi';
import { createdRangeQuery, paginationQuery } from '../../platform/pagination';
import { TimestampSchema } from '../../platform/schemas';

const actorTypes = ['user', 'client', 'anonymous'] as const;

export const AuditEventSchema = z
  .object({
    id: z
      .string()
      .max(40)
      .openapi({ description: 'Audit entry id.', example: 'aud_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    actorType: z
      .enum(actorTypes)
      .openapi({ description: 'Who acted: a user, an API client or an anonymous caller.', example: 'user' }),
    actorId: z.string().max(40).nullable().openapi({
      description: 'The user or client; null for anonymous callers.',
      example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
    action: z.string().max(64).openapi({ description: 'What was done.', example: 'customer.registered' }),
    targetType: z
      .string()
      .max(32)
      .openapi({ description: 'Kind of the resource acted on.', example: 'customer' }),
    targetId: z
      .string()
      .max(64)
      .openapi({ description: 'The resource acted on.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
    requestId: z.string().max(64).openapi({
      description: 'The request that made the change.',
      example: 'req_01jd7w3v8m9k2q4r6t8v0x2z4b',
    }),
    ip: z
      .string()
      .max(64)
      .nullable()
      .openapi({ description: 'Client IP of that request.', example: '203.0.113.7' }),
    data: z
      .record(z.string().max(64), z.unknown())
      .openapi({ description: 'Details of the action (never secrets).', example: { type: 'INDIVIDUAL' } }),
    createdAt: TimestampSchema.openapi({
      description: 'When it happened.',
      example: '2026-11-25T10:00:00.000Z',
    }),
  })
  .openapi('AuditEvent');
export type AuditEventView = z.infer<typeof AuditEventSchema>;

export const AuditEventListQuerySchema = z.object({
  ...paginationQuery,
  actorId: z.string().max(64).optional().openapi({
    description: 'Only actions by this user or client.',
    example: 'usr_01jd7w3v8m9k2q4r6t8v0x2z4b',
  }),
  action: z
    .string()
    .max(64)
    .optional()
    .openapi({ description: 'Only this action.', example: 'session.revoked' }),
  targetType: z
    .string()
    .max(32)
    .optional()
    .openapi({ description: 'Only actions on this kind of resource.', example: 'customer' }),
  targetId: z
    .string()
    .max(64)
    .optional()
    .openapi({ description: 'Only actions on this resource.', example: 'cus_01jd7w3v8m9k2q4r6t8v0x2z4b' }),
  ...createdRangeQuery,
});
export type AuditEventListQuery = z.infer<typeof AuditEventListQuerySchema>;
