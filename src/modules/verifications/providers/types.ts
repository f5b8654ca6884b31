import type { Env } from '../../../env';
import type { Tenant } from '../../../platform/tenancy';
import type { HitDisposition, ProviderDecision, VerificationLevel } from '../lifecycle';
import type { DocumentFact } from '../requirements';
import type { CheckStatus, CheckType } from '../schemas';

/**
 * What a KYC/KYB provider does for FinCore (docs/architecture.md, Verification). The queue
 * consumer calls `start` with the verification id as the provider's idempotency key, so a
 * retried start never creates a second applicant; outcomes come back as signed callbacks
 * (`verifyCallback` on the raw bytes, then `parseCallback`), or from `poll` when a callback is late.
 */
export interface VerificationProvider {
  readonly name: string;
  start(job: StartJob): Promise<StartResult>;
  /** The outcome if the provider has one, for verifications stuck IN_PROGRESS past the deadline. */
  poll?(job: StartJob, providerRef: string): Promise<ProviderOutcome | null>;
  /** Every secret a callback may be signed with now, newest first (more than one during a rotation). */
  callbackSecrets(env: Env, tenant: Tenant): Promise<string[]>;
  verifyCallback(request: {
    rawBody: Uint8Array;
    headers: Headers;
    secrets: string[];
    now: Date;
  }): Promise<boolean>;
  /** Parses a verified callback; throws on a body that is not one. */
  parseCallback(rawBody: Uint8Array, headers: Headers): ProviderEvent;
}

export interface SubjectFacts {
  id: string;
  kind: 'CUSTOMER' | 'DIRECTOR' | 'SHAREHOLDER';
  schema: 'Person' | 'Company';
  name: string;
  /** For people: the family name (the sandbox's magic inputs read it). */
  lastName?: string;
  isPep?: boolean;
  registrationNumber?: string;
}

export interface StartJob {
  tenantId: string;
  /** The provider's idempotency key. */
  verificationId: string;
  attempt: number;
  level: VerificationLevel;
  customerType: 'INDIVIDUAL' | 'BUSINESS';
  customer: SubjectFacts;
  /** For businesses: the directors and UBOs to screen. */
  people: SubjectFacts[];
  documents: DocumentFact[];
  /** How many times the queue has tried this start, from 1. */
  deliveryAttempt: number;
}

export interface CheckResult {
  type: CheckType;
  subject: string;
  status: CheckStatus;
  resultCode?: string;
  providerReference?: string;
}

export interface HitResult {
  subject: string;
  checkType: 'SANCTIONS' | 'PEP';
  listEntryId: string;
  caption: string;
  datasets: string[];
  topics: string[];
  score: number;
  matchedOn: string[];
  disposition: HitDisposition;
}

export interface OutcomeReason {
  code: string;
  reason: string;
  /** The requirement to provide again, for ADDITIONAL_INFO_REQUIRED. */
  requirement?: string;
  subject?: string;
}

export interface ProviderOutcome {
  decision: ProviderDecision;
  rejectType?: 'FINAL' | 'RETRYABLE';
  checks: CheckResult[];
  hits: HitResult[];
  reasons: OutcomeReason[];
}

export interface StartResult {
  providerRef: string;
  checks: CheckResult[];
  /**
   * A provider running inside this worker (the sandbox) hands its callback to the verification
   * queue, delivered after `delaySeconds` through the same callback path an external one takes.
   */
  selfDelivery?: { outcome: ProviderOutcome; delaySeconds: number };
}

export interface ProviderEvent {
  eventId: string;
  occurredAt: string;
  /** FinCore's verification id, sent to the provider as its idempotency key. */
  verificationId: string;
  attempt: number;
  outcome: ProviderOutcome;
}

/** Thrown by a provider that is unavailable; the queue retries with backoff, then dead-letters. */
export class ProviderUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderUnavailable';
  }
}
