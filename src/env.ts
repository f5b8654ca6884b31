import { z } from 'zod';

/** The half of the 60 s revocation bound an isolate may spend trusting an id's missing mark. */
export const UNMARKED_REMEMBERED_MAX_MS = 30_000;

/**
 * Secrets are not in wrangler.toml, so `wrangler types` cannot see them; they are declared here.
 * Locally `npm start` writes them to `.dev.vars`; in production `wrangler secret put`.
 */
declare global {
  namespace Cloudflare {
    interface Env {
      /** JSON `{ "current": <private ES256 JWK with kid>, "previous": <public JWK> | null }`. */
      JWT_SIGNING_KEYS: string;
      /** base64 of 32 random bytes; per-tenant keys are derived from it with HKDF. */
      FIELD_ENCRYPTION_KEY: string;
      PLATFORM_ADMIN_TOKEN: string;
      /** Overrides the issuer origin; defaults to the request's origin. */
      PUBLIC_BASE_URL?: string;
      LOG_LEVEL?: string;
      /**
       * Milliseconds an isolate trusts that a session or client was not revoked (at most, and by
       * default, 30000: half of the 60 s revocation bound). Lower only costs KV reads.
       */
      UNMARKED_REMEMBERED_MS?: string;
    }
  }
}

export type Env = Cloudflare.Env;

const configSchema = z.object({
  environment: z.enum(['development', 'test', 'production']),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']),
  publicBaseUrl: z.url().optional(),
  unmarkedRememberedMs: z.coerce.number().int().min(0).max(UNMARKED_REMEMBERED_MAX_MS),
});

export type Config = z.infer<typeof configSchema>;

let cachedConfig: { source: Env; config: Config } | undefined;

/** Non-binding configuration, validated once per isolate so a typo fails loudly at the first request. */
export function readConfig(env: Env): Config {
  if (cachedConfig?.source === env) return cachedConfig.config;
  const config = configSchema.parse({
    environment: env.ENVIRONMENT,
    logLevel: env.LOG_LEVEL ?? 'info',
    publicBaseUrl: env.PUBLIC_BASE_URL || undefined,
    unmarkedRememberedMs: env.UNMARKED_REMEMBERED_MS || UNMARKED_REMEMBERED_MAX_MS,
  });
  cachedConfig = { source: env, config };
  return config;
}
