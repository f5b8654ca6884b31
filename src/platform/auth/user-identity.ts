import { and, eq, type Placeholder, type SQL, sql } from 'drizzle-orm';
import { sealPurposes } from '../../db/customer-data';
import { users } from '../../db/tenant';
import type { ServiceContext } from '../context';
import { emailDigest, normaliseEmail } from '../lookup-digests';
import { type CustomerKey, ERASED, loadCustomerKeys, seal, unseal } from '../personal-data';

/** The email and name a user is known by. */
export interface UserIdentity {
  email: string;
  displayName: string;
}

/**
 * Staff and customers are separate email namespaces: one address may have a login of each kind,
 * and every lookup by email names the kind it looks in, never falling back to the other.
 */
export type AccountKind = (typeof users.kind.enumValues)[number];

/** A login email in its namespace. */
export interface LoginEmail {
  kind: AccountKind;
  email: string;
}

/**
 * A user's id, or a subquery that yields it: queries about a user (second factors, roles) can
 * then ride in the round trip that finds the user.
 */
export type UserIdRef = string | SQL<string>;

/** The id of the user a row condition names, as a subquery (NULL when there is none). */
export function userIdWhere(condition: SQL | undefined): SQL<string> {
  return sql<string>`(SELECT ${users.id} FROM ${users} WHERE ${condition})`;
}

/** The `users` row a login email names, if any (the unique index holds at most one). */
export async function loginEmailIs(ctx: ServiceContext, login: LoginEmail): Promise<SQL | undefined> {
  return loginDigestIs(ctx.tenant.id, login.kind, await loginEmailDigest(ctx, login.email));
}

/** What `loginDigestIs` looks a login email up by. */
export function loginEmailDigest(ctx: ServiceContext, email: string): Promise<string> {
  return emailDigest(ctx.env.FIELD_ENCRYPTION_KEY, ctx.tenant.id, email);
}

/** `loginEmailIs` by the email's digest; kind and digest may be placeholders of a statement built once. */
export function loginDigestIs(
  tenantId: string,
  kind: AccountKind | Placeholder,
  digest: string | Placeholder,
): SQL | undefined {
  return and(eq(users.tenantId, tenantId), eq(users.kind, kind), eq(users.emailDigest, digest));
}

/**
 * Sealed values are bound to their customer by its key; the user id in the purpose binds them
 * to their row too, so one login's sealed email copied onto another login fails to open.
 */
function sealedAs(purpose: string, userId: string): string {
  return `${purpose}:${userId}`;
}

/**
 * The `users` columns for a login's identity. Staff keep theirs in the clear (they are the
 * tenant's employees, listed and searched by email); a customer's login is personal data of
 * that customer, sealed under its data key so that erasure takes it along.
 */
export async function identityColumns(
  ctx: ServiceContext,
  userId: string,
  identity: UserIdentity,
  customerKey: CustomerKey | null,
): Promise<UserIdentity & { emailDigest: string }> {
  const email = normaliseEmail(identity.email);
  const digest = await emailDigest(ctx.env.FIELD_ENCRYPTION_KEY, ctx.tenant.id, email);
  if (!customerKey) return { email, displayName: identity.displayName, emailDigest: digest };
  return {
    email: await seal(customerKey, ctx.tenant.id, sealedAs(sealPurposes.userEmail, userId), email),
    displayName: await seal(
      customerKey,
      ctx.tenant.id,
      sealedAs(sealPurposes.userDisplayName, userId),
      identity.displayName,
    ),
    emailDigest: digest,
  };
}

/**
 * Opens what `identityColumns` stored, with the data key of the login's customer (null for
 * staff) for sealing what is written about them. Logins of erased customers no longer exist.
 */
export async function identityOf(
  ctx: ServiceContext,
  user: {
    id: string;
    kind: AccountKind;
    customerId: string | null;
    email: string;
    displayName: string;
  },
  /** The customer's key when the caller holds it already, saving a read. */
  knownKey?: CustomerKey,
): Promise<UserIdentity & { customerKey: CustomerKey | null }> {
  if (user.kind === 'STAFF' || user.customerId === null) {
    return { email: user.email, displayName: user.displayName, customerKey: null };
  }
  const key =
    knownKey?.customerId === user.customerId
      ? knownKey
      : (await loadCustomerKeys(ctx.db, ctx.env.FIELD_ENCRYPTION_KEY, ctx.tenant.id, [user.customerId])).get(
          user.customerId,
        );
  if (!key) return { email: ERASED, displayName: ERASED, customerKey: null };
  return {
    email: await unseal<string>(key, ctx.tenant.id, sealedAs(sealPurposes.userEmail, user.id), user.email),
    displayName: await unseal<string>(
      key,
      ctx.tenant.id,
      sealedAs(sealPurposes.userDisplayName, user.id),
      user.displayName,
    ),
    customerKey: key,
  };
}
