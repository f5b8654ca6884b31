import { z } from 'zod';

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
    }
  }
}

export type Env = Cloudflare.Env;

const configSchema = z.object({
  environment: z.enum(['development', 'test', 'production']),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']),
  publicBaseUrl: z.url().optional(),
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
  });
  cachedConfig = { source: env, config };
  return config;
}
