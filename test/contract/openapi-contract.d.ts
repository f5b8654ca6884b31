/** Served by vitest.config.ts from scripts/lib/openapi-contract.ts. */
declare module 'virtual:openapi-contract' {
  /** An Ajv standalone validator: true when valid, else the failures in `errors`. */
  export interface ResponseValidator {
    (data: unknown): boolean;
    errors?: { instancePath: string; message?: string }[] | null;
  }
  /** The validator of a declared response, as the document spells method, path, status and media type. */
  export function responseValidator(
    method: string,
    path: string,
    status: string,
    mediaType: string,
  ): ResponseValidator | undefined;
  export const document: import('./openapi').OpenApiDocument;
}
