import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { accepts } from 'hono/accepts';
import type { AppEnv } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { createRouter, defineRoute } from '../../platform/openapi';
import { isProblemCode, type ProblemCode, problemTypes, problemTypeUri } from '../../platform/problems';
import { problemIndexPage, problemTypePage } from './pages';

/**
 * Every problem's `type` URI points here. Programs get JSON; a browser that follows the link
 * (its Accept prefers text/html) gets a page a person can read.
 */

const publicAccess = { auth: 'none', tenant: false } as const;

const ProblemTypeSchema = z
  .object({
    type: z
      .string()
      .max(200)
      .openapi({ description: 'The problem type URI.', example: '/v2/customer/problems/email_taken' }),
    code: z.string().max(64).openapi({ description: 'Stable code.', example: 'email_taken' }),
    status: z
      .number()
      .int()
      .min(100)
      .max(599)
      .openapi({ description: 'HTTP status it is returned with.', example: 409, format: 'int32' }),
    title: z.string().max(200).openapi({ description: 'Short summary.', example: 'Email taken' }),
    description: z.string().max(2000).openapi({
      description: 'When and why it occurs.',
      example: 'Another account of this tenant already uses this email address.',
    }),
  })
  .openapi('ProblemType');

const ProblemTypeListSchema = z
  .object({
    data: z
      .array(ProblemTypeSchema)
      .max(500)
      .openapi({ description: 'Every problem type, ordered by status, then code.' }),
  })
  .openapi('ProblemTypeList');

const HtmlSchema = z
  .string()
  .max(500_000)
  .openapi({ description: 'The same, as an HTML page.', example: '<!doctype html>…' });

/** The pages hold no script and no style: nothing may run or load from them. */
const PAGE_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const pageHeaders = {
  'Content-Security-Policy': {
    description: 'On HTML answers: nothing may load or run.',
    schema: { type: 'string' as const, maxLength: 200 },
  },
  Vary: { description: '`Accept`.', schema: { type: 'string' as const, maxLength: 20 } },
};

/** A 200 that is JSON for programs and the same content as a page for people. */
function jsonOrPage(schema: z.ZodType, description: string) {
  return {
    description,
    headers: pageHeaders,
    content: { 'application/json': { schema }, 'text/html': { schema: HtmlSchema } },
  };
}

function view(code: ProblemCode) {
  return { type: problemTypeUri(code), code, ...problemTypes[code] };
}

function wantsHtml(c: Context<AppEnv>): boolean {
  return (
    accepts(c, {
      header: 'Accept',
      supports: ['application/json', 'text/html'],
      default: 'application/json',
    }) === 'text/html'
  );
}

function htmlPage(c: Context<AppEnv>, page: string) {
  c.header('Content-Security-Policy', PAGE_POLICY);
  c.header('X-Content-Type-Options', 'nosniff');
  return c.html(page, 200);
}

export function problemRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/problems',
      operationId: 'listProblemTypes',
      summary: 'List problem types',
      description:
        'Every problem type this API answers with: code, status, title and when it occurs. JSON, or an HTML page when `Accept` prefers `text/html`.',
      tags: ['Discovery'],
      access: publicAccess,
      responses: { 200: jsonOrPage(ProblemTypeListSchema, 'The catalogue.') },
    }),
    (c) => {
      c.header('Vary', 'Accept');
      const data = (Object.keys(problemTypes) as ProblemCode[])
        .map(view)
        .sort((a, b) => a.status - b.status || a.code.localeCompare(b.code));
      if (wantsHtml(c)) return htmlPage(c, problemIndexPage(data));
      return c.json({ data }, 200);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/problems/{code}',
      operationId: 'getProblemType',
      summary: 'Describe a problem type',
      description:
        'The target of every problem’s `type` URI: status, title and when the problem occurs. JSON, or an HTML page when `Accept` prefers `text/html`.',
      tags: ['Discovery'],
      access: publicAccess,
      request: {
        params: z.object({
          code: z.string().max(64).openapi({ description: 'Problem code.', example: 'validation_failed' }),
        }),
      },
      responses: { 200: jsonOrPage(ProblemTypeSchema, 'The problem type.') },
    }),
    (c) => {
      const { code } = c.req.valid('param');
      if (!isProblemCode(code)) throw new ApiError('not_found', { detail: `No problem type '${code}'.` });
      c.header('Vary', 'Accept');
      if (wantsHtml(c)) return htmlPage(c, problemTypePage(view(code)));
      return c.json(view(code), 200);
    },
  );

  return router;
}
