import type { BatchItem } from 'drizzle-orm/batch';
import type { TenantScope } from '../../db/built-once';
import type { ServiceContext } from '../context';
import type { UserIdRef } from './user-identity';

export interface SecondFactorProof {
  /** A TOTP or recovery code. */
  code?: string;
  /** A WebAuthn authentication response (the JSON @simplewebauthn/browser returns). */
  credential?: unknown;
}

/**
 * A way for a user to prove a second factor. Login's MFA step, step-up and sensitive changes
 * all go through this one interface, so adding a factor is adding an entry to `secondFactors`
 * (src/modules/auth/second-factors.ts).
 */
export interface SecondFactor {
  /** RFC 8176 `amr` values recorded in tokens when this factor is used. */
  amr: readonly string[];
  /**
   * A query that finds a row when the user has the factor; a query rather than an answer, so
   * that a login asks for all factors in one D1 round trip.
   */
  enrolment(scope: TenantScope, userId: UserIdRef): BatchItem<'sqlite'>;
  /** True when the proof is good; single-use material (codes, challenges) is spent either way. */
  verify(ctx: ServiceContext, userId: string, proof: SecondFactorProof): Promise<boolean>;
}
