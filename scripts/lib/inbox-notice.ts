/*
 * `npm start` prints the codes and tokens the worker sends, readably, as they go out. In
 * development the worker logs each one (src/modules/registration/contact-verification.ts,
 * src/modules/auth/passwords.ts) as a JSON line; this turns such a line into a notice. The local
 * inbox (GET /v2/customer/dev/inbox) lists the same messages with their recipients.
 */

interface SecretLog {
  message?: unknown;
  tenant?: unknown;
  [field: string]: unknown;
}

function parse(line: string): SecretLog | undefined {
  const start = line.indexOf('{');
  if (start < 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(line.slice(start));
    return parsed && typeof parsed === 'object' ? (parsed as SecretLog) : undefined;
  } catch {
    return undefined;
  }
}

/** The notice for a log line that carries a code or token, or undefined for any other line. */
export function inboxNotice(line: string, baseUrl: string): string | undefined {
  const log = parse(line);
  if (!log) return undefined;
  const tenant = String(log.tenant ?? '?');
  let headline: string;
  if (log.message === 'verification_code_issued') {
    headline = `${log.contact} verification code ${log.code}  (customer ${log.customerId})`;
  } else if (log.message === 'password_token_issued') {
    headline = `${log.template} token ${log.token}  (user ${log.userId})`;
  } else {
    return undefined;
  }
  return [
    `  ✉  inbox ${tenant}: ${headline}, valid until ${log.expiresAt}`,
    `     every message with its recipient: ${baseUrl}/dev/inbox?tenant=${tenant} (platform admin token)`,
  ].join('\n');
}
