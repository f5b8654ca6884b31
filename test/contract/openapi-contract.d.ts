/** Served by vitest.config.ts from scripts/lib/openapi-contract.ts. */
declare module 'virtual:openapi-contract' {
  /** An Ajv standalone validator: true when valid, else the failures in `errors`. */
  export interface SchemaValidator {
    (data: unknown): boolean;
    errors?: { instancePath: string; message?: string }[] | null;
  }
  /** The validator of a declared response, as the document spells method, path, status and media type. */
  export function responseValidator(
    method: string,
    path: string,
    status: string,
    mediaType: string,
  ): SchemaValidator | undefined;
  /** The validator of a declared JSON or form request body, as the document spells method, path and media type. */
  export function requestValidator(
    method: string,
    path: string,
    mediaType: string,
  ): SchemaValidator | undefined;
  export const document: import('./openapi').OpenApiDocument;
}
