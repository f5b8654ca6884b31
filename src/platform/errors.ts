import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { type ProblemCode, problemTypes, problemTypeUri } from './problems';

export interface FieldError {
  path: string;
  message: string;
}

export interface ProblemOptions {
  detail?: string;
  errors?: FieldError[];
  /** Extension members (RFC 9457 §3.2), e.g. `capability` or `permission`. */
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
  cause?: unknown;
}

/** The one error type of the API: every non-2xx answer is built from it. */
export class ApiError extends Error {
  readonly code: ProblemCode;
  readonly status: number;
  readonly detail: string;
  readonly errors?: FieldError[];
  readonly extensions?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(code: ProblemCode, options: ProblemOptions = {}) {
    const type = problemTypes[code];
    super(options.detail ?? type.description, { cause: options.cause });
    this.name = 'ApiError';
    this.code = code;
    this.status = type.status;
    this.detail = options.detail ?? type.description;
    this.errors = options.errors;
    this.extensions = options.extensions;
    this.headers = options.headers;
  }
}

export function notFound(what = 'resource'): ApiError {
  return new ApiError('not_found', { detail: `No ${what} with this id exists for this tenant.` });
}

export function validationError(errors: FieldError[], detail?: string): ApiError {
  return new ApiError('validation_failed', {
    detail: detail ?? errors.map((error) => `${error.path || '(body)'}: ${error.message}`).join('; '),
    errors,
  });
}

export function fieldErrorsFromZod(error: ZodError, location?: string): FieldError[] {
  return error.issues.map((issue) => ({
    path: [location, ...issue.path.map(String)].filter(Boolean).join('.'),
    message: issue.message,
  }));
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  instance: string;
  requestId: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/**
 * Bounds of the problem members the document declares (ProblemSchema): a problem echoes the
 * request path and the client's field names, so an absurd request must not make it unbounded.
 */
export const problemLimits = {
  detail: 2000,
  instance: 2048,
  errors: 200,
  errorPath: 500,
  errorMessage: 1000,
} as const;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function problemBody(error: ApiError, instance: string, requestId: string): ProblemBody {
  return {
    ...error.extensions,
    type: problemTypeUri(error.code),
    title: problemTypes[error.code].title,
    status: error.status,
    detail: clip(error.detail, problemLimits.detail),
    code: error.code,
    instance: clip(instance, problemLimits.instance),
    requestId,
    ...(error.errors
      ? {
          errors: error.errors.slice(0, problemLimits.errors).map((fieldError) => ({
            path: clip(fieldError.path, problemLimits.errorPath),
            message: clip(fieldError.message, problemLimits.errorMessage),
          })),
        }
      : {}),
  };
}

/** Routes below this prefix (of /v2/customer) answer problems in RFC 6749 form as well. */
export const OAUTH_ROUTES = '/oauth/';
const OAUTH_PATH = `/v2/customer${OAUTH_ROUTES}`;
const oauthErrorCodes = new Set<ProblemCode>([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'invalid_scope',
  'unauthorized_client',
  'unsupported_grant_type',
  'unsupported_token_type',
]);

/** Our codes that RFC 6749 knows under one of its own: the client authenticated, but not enough. */
const oauthErrorAliases: Partial<Record<ProblemCode, string>> = {
  certificate_binding_required: 'invalid_client',
};

/**
 * OAuth clients read RFC 6749 error bodies (`error`, `error_description`, JSON), so on /oauth/*
 * those members are added to the problem and the media type is plain JSON.
 */
function oauthMembers(error: ApiError, detail: string): Record<string, string> {
  const fallback =
    error.status >= 500 || error.status === 429
      ? error.status === 500
        ? 'server_error'
        : 'temporarily_unavailable'
      : 'invalid_request';
  const oauthError = oauthErrorCodes.has(error.code)
    ? error.code
    : (oauthErrorAliases[error.code] ?? fallback);
  return { error: oauthError, error_description: detail };
}

export function problemResponse(error: ApiError, instance: string, requestId: string): Response {
  const oauth = instance.startsWith(OAUTH_PATH);
  const headers = new Headers({
    'Content-Type': oauth ? 'application/json' : 'application/problem+json',
    ...(oauth && error.code === 'invalid_client' ? { 'WWW-Authenticate': 'Basic realm="fincore"' } : {}),
    ...error.headers,
  });
  const problem = problemBody(error, instance, requestId);
  const body = { ...problem, ...(oauth ? oauthMembers(error, problem.detail) : {}) };
  return new Response(JSON.stringify(body), { status: error.status, headers });
}

const httpExceptionCodes: Record<number, ProblemCode> = {
  400: 'malformed_request',
  401: 'authentication_required',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/** Maps anything thrown (ours, Hono's, a bug) to an ApiError; unknown errors become a bare 500. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof HTTPException) {
    const code = httpExceptionCodes[error.status];
    if (code) return new ApiError(code, { detail: error.message || undefined, cause: error });
  }
  return new ApiError('internal_error', { cause: error });
}
