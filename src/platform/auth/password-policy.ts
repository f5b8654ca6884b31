import { z } from '@hono/zod-openapi';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/** Length rules of API.md §3; the rules that need the email are applied by `passwordProblems`. */
export const PasswordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`)
  .openapi({
    description: `Password, ${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters, not the email.`,
    example: 'correct-horse-battery-staple',
  });

/** Problems with a password in the context of its account; empty when it is acceptable. */
export function passwordProblems(password: string, email: string): string[] {
  const problems: string[] = [];
  const lowered = password.toLowerCase();
  if (lowered === email.toLowerCase() || lowered === email.split('@')[0]?.toLowerCase()) {
    problems.push('must not be the email address');
  }
  return problems;
}
