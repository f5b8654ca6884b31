import { and, eq, gt, lte } from 'drizzle-orm';
import { tppCertificates } from '../../db/tenant';
import { type CertificateConfirmation, certificateThumbprint } from '../../platform/auth/certificate-binding';
import type { ServiceContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { tokenBinding } from './rules';
import { tppSettings } from './service';

/** Whether `sha256` is one of the TPP's certificates, inside its validity now. */
async function isValidCertificateOf(ctx: ServiceContext, tppId: string, sha256: string): Promise<boolean> {
  const now = ctx.now.toISOString();
  const row = await ctx.db
    .select({ id: tppCertificates.id })
    .from(tppCertificates)
    .where(
      and(
        eq(tppCertificates.tenantId, ctx.tenant.id),
        eq(tppCertificates.tppId, tppId),
        eq(tppCertificates.sha256, sha256),
        lte(tppCertificates.notBefore, now),
        gt(tppCertificates.notAfter, now),
      ),
    )
    .get();
  return row !== undefined;
}

/**
 * The `cnf` of the tokens /oauth/token issues to this client on this connection (see
 * `tokenBinding`), or undefined for an unbound token. Only TPP clients have registered
 * certificates; a certificate costs one indexed read, and none is read without one.
 */
export async function certificateBinding(
  ctx: ServiceContext,
  client: { tppId: string | null },
  presentedSha256: string | undefined,
): Promise<CertificateConfirmation | undefined> {
  if (client.tppId === null) return undefined;
  const registered =
    presentedSha256 !== undefined && (await isValidCertificateOf(ctx, client.tppId, presentedSha256));
  const decision = tokenBinding({
    registeredCertificatePresented: registered,
    required: tppSettings(ctx).requireCertificateBoundTokens,
  });
  if (decision === 'REFUSE') {
    throw new ApiError('certificate_binding_required', {
      detail: presentedSha256
        ? 'The client certificate of this connection is not one of the TPP’s registered, valid certificates.'
        : 'This tenant issues TPP clients certificate-bound tokens only: connect over mTLS with one of the TPP’s registered certificates.',
    });
  }
  return decision === 'BIND' && presentedSha256
    ? { 'x5t#S256': certificateThumbprint(presentedSha256) }
    : undefined;
}
