import { sealPurposes } from '../../../db/customer-data';
import type { Env } from '../../../env';
import { base64Encode } from '../../../platform/crypto';
import { fieldDigest } from '../../../platform/field-encryption';
import type { Tenant } from '../../../platform/tenancy';
import type { ProviderDecision } from '../lifecycle';
import { storedCallbackSecrets } from '../policy';
import { screenName } from '../screening';
import { sampleWatchlist } from './sample-watchlist';
import {
  type CheckResult,
  type HitResult,
  type OutcomeReason,
  type ProviderEvent,
  type ProviderOutcome,
  ProviderUnavailable,
  type StartJob,
  type StartResult,
  type SubjectFacts,
  type VerificationProvider,
} from './types';

/**
 * The built-in deterministic provider (docs/api.md, Verification → sandbox): outcomes follow
 * documented magic inputs and the bundled fictional watchlist, and arrive as signed callbacks
 * through the queue, like a real provider's.
 */
export const SANDBOX_CALLBACK_DELAY_SECONDS = 1;
/** Errors on this many first tries of a start for last name `Error`. */
const SANDBOX_ERROR_ATTEMPTS = 2;
/** A callback older than this (by its signed timestamp) is refused as a replay. */
const CALLBACK_TOLERANCE_SECONDS = 300;
const FAILING_REGISTRATION_NUMBER = '00000000';

const encoder = new TextEncoder();

function magicOf(job: StartJob): string | undefined {
  return [job.customer, ...job.people]
    .map((subject) => subject.lastName)
    .find((name) => name && MAGIC.has(name));
}
const MAGIC = new Set(['Reject', 'Review', 'Resubmit', 'Pending', 'Error']);

function screen(subject: SubjectFacts, checks: CheckResult[], hits: HitResult[], withPep: boolean) {
  const matches = screenName(subject.name, subject.schema, sampleWatchlist);
  const sanctions = matches.filter((match) => match.entry.topics.includes('sanction'));
  const peps = matches.filter((match) => match.entry.topics.includes('role.pep'));
  const hitOf = (checkType: HitResult['checkType'], match: (typeof matches)[number]): HitResult => ({
    subject: subject.id,
    checkType,
    listEntryId: match.entry.id,
    caption: match.entry.caption,
    datasets: [...match.entry.datasets],
    topics: [...match.entry.topics],
    score: match.score,
    matchedOn: ['name'],
    // An exact sanctions match needs no reviewer to call it; anything else does.
    disposition: checkType === 'SANCTIONS' && match.score === 1 ? 'TRUE_POSITIVE' : 'OPEN',
  });
  hits.push(
    ...sanctions.map((match) => hitOf('SANCTIONS', match)),
    ...peps.map((match) => hitOf('PEP', match)),
  );
  const exact = sanctions.some((match) => match.score === 1);
  checks.push({
    type: 'SANCTIONS',
    subject: subject.id,
    status: exact ? 'FAILED' : sanctions.length > 0 ? 'NEEDS_REVIEW' : 'PASSED',
    ...(exact
      ? { resultCode: 'sanctions_match' }
      : sanctions.length > 0
        ? { resultCode: 'possible_sanctions_match' }
        : {}),
  });
  if (withPep) {
    const pep = subject.isPep === true || peps.length > 0;
    checks.push({
      type: 'PEP',
      subject: subject.id,
      status: pep ? 'NEEDS_REVIEW' : 'PASSED',
      ...(pep ? { resultCode: 'politically_exposed_person' } : {}),
    });
  }
}

/** A `Pending` verification completed with a decision ends as the magic name of that decision would. */
const completionMagic: Record<ProviderDecision, string | undefined> = {
  PASS: undefined,
  FAIL: 'Reject',
  REVIEW: 'Review',
  RESUBMIT: 'Resubmit',
};

/**
 * The sandbox's verdict on a job: a pure function of its inputs (test/unit/sandbox-provider.test.ts);
 * `completion` is the decision a sandbox user completed a `Pending` verification with.
 */
export function sandboxOutcome(job: StartJob, completion?: ProviderDecision): ProviderOutcome {
  const checks: CheckResult[] = [];
  const hits: HitResult[] = [];
  const reasons: OutcomeReason[] = [];
  const magic = completion ? completionMagic[completion] : magicOf(job);
  const customer = job.customer.id;
  const withDocuments = job.level !== 'BASIC';

  if (job.customerType === 'INDIVIDUAL') {
    const identity: CheckResult =
      magic === 'Reject'
        ? { type: 'IDENTITY', subject: customer, status: 'FAILED', resultCode: 'identity_not_confirmed' }
        : magic === 'Review'
          ? {
              type: 'IDENTITY',
              subject: customer,
              status: 'NEEDS_REVIEW',
              resultCode: 'identity_inconclusive',
            }
          : { type: 'IDENTITY', subject: customer, status: 'PASSED' };
    checks.push(identity);
    screen(job.customer, checks, hits, true);
  } else {
    const registry = job.customer.registrationNumber === FAILING_REGISTRATION_NUMBER;
    checks.push({
      type: 'BUSINESS_REGISTRY',
      subject: customer,
      status: registry ? 'FAILED' : 'PASSED',
      ...(registry ? { resultCode: 'company_not_found' } : {}),
    });
    screen(job.customer, checks, hits, false);
    checks.push({ type: 'UBO', subject: customer, status: 'PASSED' });
    for (const person of job.people) screen(person, checks, hits, person.schema === 'Person');
    if (magic === 'Reject' || magic === 'Review') {
      checks.push({
        type: 'IDENTITY',
        subject: customer,
        status: magic === 'Reject' ? 'FAILED' : 'NEEDS_REVIEW',
        resultCode: magic === 'Reject' ? 'identity_not_confirmed' : 'identity_inconclusive',
      });
    }
  }
  if (withDocuments || magic === 'Resubmit') {
    const unreadable = magic === 'Resubmit';
    checks.push({
      type: 'DOCUMENT',
      subject: customer,
      status: unreadable ? 'FAILED' : 'PASSED',
      ...(unreadable ? { resultCode: 'document_unreadable' } : {}),
    });
    if (withDocuments) checks.push({ type: 'ADDRESS', subject: customer, status: 'PASSED' });
  }

  const failed = checks.filter((check) => check.status === 'FAILED');
  if (failed.some((check) => check.type === 'DOCUMENT') && failed.length === 1) {
    reasons.push({
      code: 'document_unreadable',
      reason: 'The identity document could not be read; upload a sharper image.',
      requirement: 'document.IDENTITY',
      subject: customer,
    });
    return { decision: 'RESUBMIT', rejectType: 'RETRYABLE', checks, hits, reasons };
  }
  if (failed.length > 0) {
    for (const check of failed)
      reasons.push({ code: check.resultCode ?? 'check_failed', reason: `${check.type} check failed.` });
    return { decision: 'FAIL', rejectType: 'FINAL', checks, hits, reasons };
  }
  const review = checks.filter((check) => check.status === 'NEEDS_REVIEW');
  if (review.length > 0) {
    for (const check of review)
      reasons.push({ code: check.resultCode ?? 'needs_review', reason: `${check.type} check needs review.` });
    return { decision: 'REVIEW', checks, hits, reasons };
  }
  return { decision: 'PASS', checks, hits, reasons };
}

function inProgress(outcome: ProviderOutcome): CheckResult[] {
  return outcome.checks.map((check) => ({ type: check.type, subject: check.subject, status: 'IN_PROGRESS' }));
}

/**
 * The sandbox's built-in callback secret, derived per tenant, used until the operator sets or
 * generates one (`verification.callbackSecret`): the sandbox signs its own callbacks, so a new
 * tenant needs no setup.
 */
export async function builtInSandboxSecret(env: Env, tenantId: string): Promise<string> {
  return fieldDigest(
    {
      rootKey: env.FIELD_ENCRYPTION_KEY,
      tenantId,
      purpose: sealPurposes.sandboxCallbackSecret,
      recordId: 'v1',
    },
    'sandbox-callback-secret',
  );
}

async function hmac(secret: string, parts: Uint8Array[]): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const data = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    data.set(part, offset);
    offset += part.length;
  }
  return base64Encode(new Uint8Array(await crypto.subtle.sign('HMAC', key, data)));
}

/** Standard Webhooks signing: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>." + the raw body>`. */
export async function signSandboxCallback(
  secret: string,
  id: string,
  timestamp: number,
  rawBody: Uint8Array,
) {
  return `v1,${await hmac(secret, [encoder.encode(`${id}.${timestamp}.`), rawBody])}`;
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  return left.length === right.length && crypto.subtle.timingSafeEqual(left, right);
}

export const sandboxProvider: VerificationProvider = {
  name: 'sandbox',

  async start(job: StartJob): Promise<StartResult> {
    const magic = magicOf(job);
    if (magic === 'Error' && job.deliveryAttempt <= SANDBOX_ERROR_ATTEMPTS) {
      throw new ProviderUnavailable(
        `sandbox: simulated outage (try ${job.deliveryAttempt} of ${SANDBOX_ERROR_ATTEMPTS + 1})`,
      );
    }
    const outcome = sandboxOutcome(job);
    // The verification id is the applicant's reference: a retried start is the same applicant.
    const providerRef = `sbx_${job.verificationId}`;
    return {
      providerRef,
      checks: inProgress(outcome),
      ...(magic === 'Pending'
        ? {}
        : { selfDelivery: { outcome, delaySeconds: SANDBOX_CALLBACK_DELAY_SECONDS } }),
    };
  },

  async poll(job: StartJob) {
    return magicOf(job) === 'Pending' ? null : sandboxOutcome(job);
  },

  async callbackSecrets(env: Env, tenant: Tenant) {
    const stored = await storedCallbackSecrets(env, tenant);
    return stored.length > 0 ? stored : [await builtInSandboxSecret(env, tenant.id)];
  },

  async verifyCallback({ rawBody, headers, secrets, now }) {
    const id = headers.get('webhook-id');
    const timestamp = Number(headers.get('webhook-timestamp'));
    const signatures = (headers.get('webhook-signature') ?? '')
      .split(' ')
      .filter((value) => value.startsWith('v1,'));
    if (!id || !Number.isInteger(timestamp) || signatures.length === 0) return false;
    if (Math.abs(now.getTime() / 1000 - timestamp) > CALLBACK_TOLERANCE_SECONDS) return false;
    for (const secret of secrets) {
      const expected = await signSandboxCallback(secret, id, timestamp, rawBody);
      if (signatures.some((signature) => constantTimeEqual(signature, expected))) return true;
    }
    return false;
  },

  parseCallback(rawBody: Uint8Array, headers: Headers): ProviderEvent {
    const body = JSON.parse(
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(rawBody),
    ) as Record<string, unknown>;
    const { verificationId, attempt, occurredAt, outcome } = body;
    if (typeof verificationId !== 'string' || typeof attempt !== 'number' || typeof occurredAt !== 'string') {
      throw new Error('not a sandbox verification callback');
    }
    if (typeof outcome !== 'object' || outcome === null || !('decision' in outcome)) {
      throw new Error('a sandbox callback without an outcome');
    }
    return {
      eventId: headers.get('webhook-id') ?? '',
      occurredAt,
      verificationId,
      attempt,
      outcome: outcome as ProviderOutcome,
    };
  },
};
