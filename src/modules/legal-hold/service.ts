import { actorId } from '../../platform/auth/principal';
import type { ServiceContext } from '../../platform/context';
import { ApiError } from '../../platform/errors';
import { event } from '../../platform/unit-of-work';
import { type CustomerRow, commitGuarded, guardedUpdate, requireCustomerRow } from '../customers/service';
import type { LegalHoldInput, LegalHoldView } from './schemas';

function presentLegalHold(
  row: Pick<CustomerRow, 'id' | 'legalHoldReason' | 'legalHoldPlacedAt' | 'legalHoldPlacedBy'>,
): LegalHoldView {
  return {
    customerId: row.id,
    active: row.legalHoldPlacedAt !== null,
    reason: row.legalHoldReason,
    placedAt: row.legalHoldPlacedAt,
    placedBy: row.legalHoldPlacedBy,
  };
}

/** A hold leaves `updatedAt`, which the customer sees, as it was: its moving would tell of the hold. */
const unseenByTheCustomer = { touch: false };

export async function getLegalHold(ctx: ServiceContext, customerId: string): Promise<LegalHoldView> {
  return presentLegalHold(await requireCustomerRow(ctx, customerId));
}

/** Places (or restates the reason of) a legal hold; erasure is refused while it applies. */
export async function placeLegalHold(
  ctx: ServiceContext,
  customerId: string,
  input: LegalHoldInput,
): Promise<LegalHoldView> {
  const row = await requireCustomerRow(ctx, customerId);
  const hold = {
    legalHoldReason: input.reason,
    legalHoldPlacedAt: row.legalHoldPlacedAt ?? ctx.now.toISOString(),
    legalHoldPlacedBy: row.legalHoldPlacedBy ?? actorId(ctx.actor),
  };
  await commitGuarded(ctx, {
    statements: [guardedUpdate(ctx, row, hold, unseenByTheCustomer)],
    audit: [
      {
        action: 'customer.legal_hold_placed',
        targetType: 'customer',
        targetId: customerId,
        data: { reason: input.reason },
      },
    ],
    events: row.legalHoldPlacedAt === null ? [event('customer.legal_hold_placed', { customerId })] : [],
  });
  return presentLegalHold({ ...row, ...hold });
}

export async function releaseLegalHold(ctx: ServiceContext, customerId: string): Promise<void> {
  const row = await requireCustomerRow(ctx, customerId);
  if (row.legalHoldPlacedAt === null) {
    throw new ApiError('no_legal_hold', { detail: 'No legal hold applies to the customer.' });
  }
  await commitGuarded(ctx, {
    statements: [
      guardedUpdate(
        ctx,
        row,
        { legalHoldReason: null, legalHoldPlacedAt: null, legalHoldPlacedBy: null },
        unseenByTheCustomer,
      ),
    ],
    audit: [{ action: 'customer.legal_hold_released', targetType: 'customer', targetId: customerId }],
    events: [event('customer.legal_hold_released', { customerId })],
  });
}
