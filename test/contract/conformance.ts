import { document, responseValidator } from 'virtual:openapi-contract';
import { type ContractOperation, isJsonMediaType, mediaTypeOf, type Response, resolve } from './openapi';
import type { ApiResponse } from './requests';

/** `application/*` and `*\/*` in the document match any subtype and type. */
function matchesMediaType(declared: string, actual: string): boolean {
  const [type, subtype] = declared.toLowerCase().split('/');
  const [actualType] = actual.split('/');
  return declared.toLowerCase() === actual || (subtype === '*' && (type === '*' || type === actualType));
}

/** The declared response for a status: exact, then `4XX`-style ranges, then `default`. */
function declaredStatus(operation: ContractOperation, status: number): string | undefined {
  const responses = operation.operation.responses;
  return [String(status), `${String(status)[0]}XX`, 'default'].find((key) => key in responses);
}

/**
 * How a response departs from the operation's contract: a 5xx, an undeclared status or content
 * type, or a body that does not match the declared schema. Empty when it conforms.
 */
export function contractViolations(operation: ContractOperation, response: ApiResponse): string[] {
  const violations: string[] = [];
  if (response.status >= 500) violations.push(`server error ${response.status}`);
  const status = declaredStatus(operation, response.status);
  if (!status) {
    const declared = Object.keys(operation.operation.responses).join(', ');
    return [...violations, `status ${response.status} is not declared (declared: ${declared})`];
  }
  const declared = resolve<Response>(document, operation.operation.responses[status] as Response);
  const content = declared.content ?? {};
  const mediaType = mediaTypeOf(response.headers.get('Content-Type'));
  if (Object.keys(content).length === 0) {
    if (response.text !== '') violations.push(`a ${response.status} declares no body, yet one was sent`);
    return violations;
  }
  const declaredType = Object.keys(content).find((candidate) => matchesMediaType(candidate, mediaType));
  if (!declaredType) {
    const declaredTypes = Object.keys(content).join(', ');
    return [
      ...violations,
      `content type '${mediaType}' is not declared for ${status} (declared: ${declaredTypes})`,
    ];
  }
  // A HEAD answer has the headers of the GET one and no content (RFC 9110 §9.3.2).
  if (operation.method === 'HEAD') {
    if (response.text !== '') violations.push('a HEAD answer carries a body');
    return violations;
  }
  if (!content[declaredType]?.schema) return violations;
  const validate = responseValidator(operation.method.toLowerCase(), operation.path, status, declaredType);
  if (!validate) return [...violations, `no compiled validator for ${status} ${declaredType}`];
  let body: unknown = response.text;
  if (isJsonMediaType(mediaType)) {
    try {
      body = JSON.parse(response.text);
    } catch {
      return [...violations, `the ${declaredType} body is not JSON`];
    }
  }
  if (!validate(body)) {
    const errors = (validate.errors ?? []).map(
      (error) => `${error.instancePath || '(body)'} ${error.message}`,
    );
    violations.push(`the body does not match the ${status} schema: ${errors.join('; ')}`);
  }
  return violations;
}
