import { sealPurposes } from '../../db/customer-data';
import type { Env } from '../../env';
import { base64Encode } from '../../platform/crypto';
import { decryptField, encryptField, type FieldContext } from '../../platform/field-encryption';
import { newId } from '../../platform/ids';
import { defaultApprovalsRequired, type VerificationLevel, verificationLevels } from './lifecycle';
import type {
  StoredCallbackSecret,
  VerificationPolicySchema,
  VerificationPolicyUpdate,
  VerificationSettings,
} from './schemas';

/**
 * A tenant's verification policy (docs/api.md, Verification → policy): set by the operator
 * through `PATCH /platform/tenants/{tenantId}` (`verification`), stored in the tenant's settings,
 * read by the verification service with these defaults.
 */
export const DEFAULT_REVIEW_INTERVAL_DAYS = 365;

type SettingsHolder = { settings: Record<string, unknown> };

export function verificationSettings(tenant: SettingsHolder): VerificationSettings {
  return (tenant.settings.verification ?? {}) as VerificationSettings;
}

export function requiredLevel(tenant: SettingsHolder): VerificationLevel {
  return verificationSettings(tenant).requiredLevel ?? 'BASIC';
}

export function approvalsRequiredFor(tenant: SettingsHolder, level: VerificationLevel): number {
  return verificationSettings(tenant).approvalsRequired?.[level] ?? defaultApprovalsRequired[level];
}

export function reviewIntervalDays(tenant: SettingsHolder): number {
  return verificationSettings(tenant).reviewIntervalDays ?? DEFAULT_REVIEW_INTERVAL_DAYS;
}

export function presentPolicy(
  settings: Record<string, unknown>,
): typeof VerificationPolicySchema._zod.output {
  const holder = { settings };
  const stored = verificationSettings(holder);
  return {
    requiredLevel: requiredLevel(holder),
    approvalsRequired: Object.fromEntries(
      verificationLevels.map((level) => [level, approvalsRequiredFor(holder, level)]),
    ) as Record<VerificationLevel, number>,
    reviewIntervalDays: reviewIntervalDays(holder),
    monitoringIntervalDays: stored.monitoringIntervalDays ?? null,
    callbackSecrets: (stored.callbackSecrets ?? []).map((secret, index) => ({
      id: secret.id,
      status: index === 0 ? ('CURRENT' as const) : ('PREVIOUS' as const),
      createdAt: secret.createdAt,
    })),
  };
}

function secretContext(env: Env, tenantId: string, secretId: string): FieldContext {
  return {
    rootKey: env.FIELD_ENCRYPTION_KEY,
    tenantId,
    purpose: sealPurposes.verificationCallbackSecret,
    recordId: secretId,
  };
}

/** The callback secrets an operator set or generated, newest first; empty when none was. */
export function storedCallbackSecrets(env: Env, tenant: SettingsHolder & { id: string }): Promise<string[]> {
  return Promise.all(
    (verificationSettings(tenant).callbackSecrets ?? []).map((stored) =>
      decryptField(secretContext(env, tenant.id, stored.id), stored.secret),
    ),
  );
}

/**
 * The policy after a change: each key given replaces that key, null restores its default. A
 * new callback secret goes in front of the current one, which stays accepted as the previous
 * until retired or rotated out; the secret generated is returned to be shown once.
 */
export async function changedPolicy(
  env: Env,
  tenantId: string,
  current: VerificationSettings,
  input: VerificationPolicyUpdate,
  now: Date,
): Promise<{ settings: VerificationSettings; issuedCallbackSecret?: string }> {
  const next: VerificationSettings = { ...current };
  const assign = <K extends 'requiredLevel' | 'reviewIntervalDays' | 'monitoringIntervalDays'>(key: K) => {
    const value = input[key];
    if (value === null) delete next[key];
    else if (value !== undefined) next[key] = value as VerificationSettings[K];
  };
  assign('requiredLevel');
  assign('reviewIntervalDays');
  assign('monitoringIntervalDays');
  if (input.approvalsRequired) {
    const approvals = { ...current.approvalsRequired };
    for (const level of verificationLevels) {
      const value = input.approvalsRequired[level];
      if (value === null) delete approvals[level];
      else if (value !== undefined) approvals[level] = value;
    }
    next.approvalsRequired = approvals;
  }
  const secrets = current.callbackSecrets ?? [];
  const change = input.callbackSecret;
  if (change?.action === 'RETIRE_PREVIOUS') next.callbackSecrets = secrets.slice(0, 1);
  if (change?.action !== 'GENERATE' && change?.action !== 'SET') return { settings: next };
  const secret =
    change.action === 'SET'
      ? change.secret
      : `vcsec_${base64Encode(crypto.getRandomValues(new Uint8Array(32)))}`;
  const id = newId('callbackSecret', now.getTime());
  const stored: StoredCallbackSecret = {
    id,
    secret: await encryptField(secretContext(env, tenantId, id), secret),
    createdAt: now.toISOString(),
  };
  next.callbackSecrets = [stored, ...secrets.slice(0, 1)];
  return { settings: next, ...(change.action === 'GENERATE' ? { issuedCallbackSecret: secret } : {}) };
}
