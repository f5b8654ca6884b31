import { and, eq } from 'drizzle-orm';
import { controlDb } from '../../db/client';
import { clientDirectory } from '../../db/control';
import { clients, tpps } from '../../db/tenant';
import type { Env } from '../../env';
import { isPermission, type Permission } from '../../platform/auth/permissions';
import { base64Decode, randomToken, sha256Hex, timingSafeEqual } from '../../platform/crypto';
import { ApiError } from '../../platform/errors';
import { requireActiveTenant, type Tenant, tenantDatabase } from '../../platform/tenancy';

/** Secrets carry a prefix so secret scanners (and people) recognise a leaked one. */
const CLIENT_SECRET_PREFIX = 'fcs_';

/**
 * Client secrets are 256 random bits, so a fast hash suffices: no dictionary to guess from, and
 * SHA-256 preimages are out of reach. Only the hash is stored.
 */
function hashClientSecret(secret: string): Promise<string> {
  return sha256Hex(secret);
}

/** A new secret, to be shown once, and the hash to store. */
export async function newClientSecret(): Promise<{ secret: string; hash: string }> {
  const secret = `${CLIENT_SECRET_PREFIX}${randomToken(32)}`;
  return { secret, hash: await hashClientSecret(secret) };
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

const malformedBasic = (detail: string) =>
  new ApiError('invalid_client', { detail: `The Basic credentials ${detail}.` });

/** RFC 6749 §2.3.1: id and secret are each form-urlencoded before they are joined. */
function formDecoded(value: string): string {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    throw malformedBasic('carry malformed percent-encoding');
  }
}

function basicCredentials(encoded: string): ClientCredentials {
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(base64Decode(encoded));
  } catch {
    throw malformedBasic('are not valid base64 of UTF-8 text');
  }
  const separator = decoded.indexOf(':');
  if (separator < 0) throw malformedBasic('need `id:secret`');
  return {
    clientId: formDecoded(decoded.slice(0, separator)),
    clientSecret: formDecoded(decoded.slice(separator + 1)),
  };
}

/** The scheme is case-insensitive (RFC 9110 §11.1); other schemes are not client authentication. */
const BASIC_SCHEME = /^Basic(?:\s+(.*))?$/i;

/**
 * The one client authentication of /oauth/*: `client_secret_basic` or `client_secret_post`
 * (RFC 6749 §2.3.1), never both. A form `client_id` beside Basic credentials is allowed when it
 * names the same client (some libraries always send it).
 */
export function clientCredentials(
  authorization: string | undefined,
  form: { client_id?: string; client_secret?: string },
): ClientCredentials {
  const basic = authorization === undefined ? null : BASIC_SCHEME.exec(authorization.trim());
  if (basic) {
    const credentials = basicCredentials(basic[1] ?? '');
    if (
      form.client_secret !== undefined ||
      (form.client_id !== undefined && form.client_id !== credentials.clientId)
    ) {
      throw new ApiError('invalid_request', {
        detail:
          'Use one client authentication method (RFC 6749 §2.3): Basic credentials or `client_id` and `client_secret` in the form, not both.',
      });
    }
    return credentials;
  }
  if (form.client_id && form.client_secret)
    return { clientId: form.client_id, clientSecret: form.client_secret };
  throw new ApiError('invalid_client', {
    detail: 'Client authentication is required (client_secret_basic or client_secret_post).',
  });
}

export interface AuthenticatedClient {
  tenant: Tenant;
  clientId: string;
  permissions: Permission[];
  grantTypes: string[];
  /** A TPP's client acts for customers only under their consent (src/modules/tpps). */
  tppId: string | null;
  /** The generation its client-credentials tokens carry (`clients.tokenGeneration`). */
  tokenGeneration: number;
}

const unknownClient = () => new ApiError('invalid_client', { detail: 'Client authentication failed.' });

/**
 * Finds the client's tenant in the control-plane directory (client ids are unique across
 * tenants), then checks the secret against the tenant database. A tenant header naming another
 * tenant is refused.
 */
export async function authenticateClient(
  env: Env,
  credentials: ClientCredentials,
  tenantHeader: string | undefined,
): Promise<AuthenticatedClient> {
  const entry = await controlDb(env.CONTROL_DB)
    .select()
    .from(clientDirectory)
    .where(eq(clientDirectory.clientId, credentials.clientId))
    .get();
  if (!entry) throw unknownClient();
  if (tenantHeader !== undefined && tenantHeader !== entry.tenantId) throw unknownClient();
  const tenant = await requireActiveTenant(env, entry.tenantId);
  const row = await tenantDatabase(env, tenant)
    .select({ client: clients, tppStatus: tpps.status })
    .from(clients)
    .leftJoin(tpps, and(eq(tpps.tenantId, clients.tenantId), eq(tpps.id, clients.tppId)))
    .where(and(eq(clients.tenantId, tenant.id), eq(clients.id, credentials.clientId)))
    .get();
  const client = row?.client;
  if (client?.status !== 'ACTIVE') throw unknownClient();
  if (!timingSafeEqual(await hashClientSecret(credentials.clientSecret), client.secretHash))
    throw unknownClient();
  // A suspended or revoked TPP's clients get no tokens; the secret was checked first, so only
  // the client itself learns why.
  if (client.tppId !== null && row?.tppStatus !== 'ACTIVE') {
    throw new ApiError('invalid_client', { detail: 'The TPP of this client is suspended or revoked.' });
  }
  return {
    tenant,
    clientId: client.id,
    permissions: client.permissions.filter(isPermission),
    grantTypes: client.grantTypes,
    tppId: client.tppId,
    tokenGeneration: client.tokenGeneration,
  };
}
