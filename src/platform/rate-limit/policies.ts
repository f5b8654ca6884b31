import { type Principal, principalKey } from '../auth/principal';
import type { Tenant } from '../tenancy';
import type { LeasePolicy } from './leases';
import type { BucketPolicy } from './token-bucket';

/** What one bucket of a policy counts requests per. */
export type BucketScope = 'ip' | 'tenant+principal' | 'tenant+ip';

export interface RateLimitPolicy {
  per: BucketScope;
  /** Tokens a full bucket holds; `tenant tier`: the tenant's `rateLimitPerMinute`. */
  capacity: number | 'tenant tier';
  windowSeconds: number;
  /**
   * `quota` buckets state the caller's allowance in the RateLimit headers of every answer;
   * `guessing` buckets bound attempts at a secret across accounts (where the account lockout
   * bounds them per account) and show only on their own 429.
   */
  kind: 'quota' | 'guessing';
  /**
   * The bucket's object leases isolates a share of what it holds (./leases.ts): most requests
   * then take their tokens in the isolate, never more than the bucket holds.
   */
  lease?: LeasePolicy;
}

/**
 * A quarter of what is left, so leases shrink as a bucket empties. Quotas are leased for 10 s:
 * long enough that a steady caller asks its bucket a few times a minute per isolate, short
 * enough that tokens parked in an isolate it has left come back soon. Guessing buckets are small
 * and their callers sparse, so their leases last the window.
 */
const quotaLease: LeasePolicy = { share: 0.25, lifetimeSeconds: 10 };
const guessingLease: LeasePolicy = { share: 0.25, lifetimeSeconds: 60 };

/** Every rate limit of the API. docs/api.md "Rate limits" describes them for clients. */
export const rateLimitPolicies = {
  /** Routes without a tenant, and a request whose tenant cannot be resolved. */
  public: { per: 'ip', capacity: 600, windowSeconds: 60, kind: 'quota', lease: quotaLease },
  /** Every tenant route: named after the tier in RateLimit headers; anonymous callers per IP. */
  tenant: {
    per: 'tenant+principal',
    capacity: 'tenant tier',
    windowSeconds: 60,
    kind: 'quota',
    lease: quotaLease,
  },
  login: { per: 'tenant+ip', capacity: 20, windowSeconds: 60, kind: 'guessing', lease: guessingLease },
  'password-reset': {
    per: 'tenant+ip',
    capacity: 5,
    windowSeconds: 60,
    kind: 'guessing',
    lease: guessingLease,
  },
  'code-verification': {
    per: 'tenant+ip',
    capacity: 10,
    windowSeconds: 60,
    kind: 'guessing',
    lease: guessingLease,
  },
} as const satisfies Record<string, RateLimitPolicy>;

export type RateLimitPolicyName = keyof typeof rateLimitPolicies;
export type GuessingPolicyName = {
  [Name in RateLimitPolicyName]: (typeof rateLimitPolicies)[Name]['kind'] extends 'guessing' ? Name : never;
}[RateLimitPolicyName];

/**
 * A route's rate limit. Every request takes `cost` tokens from each bucket its route charges:
 * the `public` one on a route without a tenant, the tenant's on a route with one, and the bucket
 * of `policy` on top. `policy` is a guessing policy on tenant routes, or `tenant` on a route whose
 * tenant is known only once the handler authenticates the caller (/oauth/*: the client's).
 */
export interface RouteRateLimit {
  policy?: GuessingPolicyName | 'tenant';
  /** Tokens a request takes, for routes far more expensive than a read; 1 unless set. */
  cost?: number;
}

/** The policies a route charges, in the order it charges them, and the cost of one request. */
export function routePolicies(
  tenant: boolean,
  rateLimit: RouteRateLimit = {},
): { policies: RateLimitPolicyName[]; cost: number } {
  const { policy, cost = 1 } = rateLimit;
  if (!Number.isInteger(cost) || cost < 1)
    throw new Error(`A rate-limit cost is a positive integer, not ${cost}`);
  if (policy === 'tenant' && tenant) throw new Error('A tenant route charges the tenant bucket already');
  if (policy !== undefined && policy !== 'tenant' && !tenant) {
    throw new Error(`The '${policy}' policy counts per tenant: it needs a tenant route`);
  }
  return { policies: [tenant ? 'tenant' : 'public', ...(policy ? [policy] : [])], cost };
}

/** Who a request is, as far as the policies' keys need: the tenant once it is known. */
export type RequestSubject = { ip: string } & (
  | { tenant?: undefined }
  | { tenant: Tenant; principal: Principal }
);

export interface Bucket {
  /** The policy's name in RateLimit headers. */
  name: string;
  /** The bucket's identity: its entry in its object's storage, and this isolate's lease and refusal. */
  key: string;
  /**
   * The Durable Object's name. Buckets counted per the same tenant and address share one, so a
   * request charging several of them (a login: the anonymous caller's quota and `login`) makes
   * one call; any other bucket has an object of its own, named by its key.
   */
  object: string;
  policy: BucketPolicy;
  lease?: LeasePolicy;
}

const addressObject = (tenant: Tenant, ip: string) => `${tenant.id}:ip:${ip}`;

/** The bucket of `policyName` that counts `subject`'s requests. */
export function bucketOf(policyName: RateLimitPolicyName, subject: RequestSubject): Bucket {
  const { per, capacity, windowSeconds, lease }: RateLimitPolicy = rateLimitPolicies[policyName];
  if (per === 'ip' || !subject.tenant) {
    if (per !== 'ip' || capacity === 'tenant tier') {
      throw new Error(`The '${policyName}' policy counts per tenant: no tenant is known yet`);
    }
    const key = `${policyName}:${subject.ip}`;
    return { name: policyName, key, object: key, policy: { capacity, windowSeconds }, lease };
  }
  const { tenant, principal } = subject;
  const tier = capacity === 'tenant tier';
  const key =
    per === 'tenant+ip'
      ? `${tenant.id}:${policyName}:${subject.ip}`
      : `${tenant.id}:${principalKey(principal)}`;
  // An anonymous caller's tenant quota counts per tenant and address as well.
  const perAddress = per === 'tenant+ip' || principal.type === 'anonymous';
  const object = perAddress ? addressObject(tenant, subject.ip) : key;
  return {
    name: tier ? tenant.tier.toLowerCase() : policyName,
    key,
    object,
    policy: { capacity: tier ? tenant.rateLimitPerMinute : capacity, windowSeconds },
    lease,
  };
}
