import { z } from '@hono/zod-openapi';

const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/** Length rules of docs/api.md (Authentication); the rules that need the email are applied by `passwordProblems`. */
export const PasswordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`)
  .openapi({
    description: `Password, ${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters, not the email, not a common password.`,
    example: 'correct-horse-battery-staple',
  });

let commonPasswordSet: Promise<ReadonlySet<string>> | undefined;

/**
 * The common-password list of zxcvbn-ts (`passwords-common` of @zxcvbn-ts/language-common,
 * about 49,000 entries, lower-case): maintained, and the list behind the most widely used
 * password-strength estimator. The package decompresses it when it is imported, so it is
 * imported on the first password check rather than at isolate start-up, and the set is built
 * once per isolate.
 */
export function commonPasswords(): Promise<ReadonlySet<string>> {
  commonPasswordSet ??= import('@zxcvbn-ts/language-common').then(
    ({ dictionary }) => new Set(dictionary['passwords-common']),
    (error: unknown) => {
      commonPasswordSet = undefined;
      throw error;
    },
  );
  return commonPasswordSet;
}

/** Problems with a password in the context of its account; empty when it is acceptable. */
export async function passwordProblems(password: string, email: string): Promise<string[]> {
  const problems: string[] = [];
  const lowered = password.toLowerCase();
  if (lowered === email.toLowerCase() || lowered === email.split('@')[0]?.toLowerCase()) {
    problems.push('must not be the email address');
  }
  if ((await commonPasswords()).has(lowered)) {
    problems.push('is one of the most commonly used passwords: choose another');
  }
  return problems;
}
