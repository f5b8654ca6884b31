/** Prefixed, time-ordered ids (`cus_01J…`): a 48-bit millisecond time then 80 random bits, Crockford base32. */
const idPrefixes = {
  customer: 'cus',
  user: 'usr',
  person: 'per',
  session: 'ses',
  group: 'grp',
  role: 'rol',
  client: 'cli',
  consent: 'cns',
  beneficiary: 'ben',
  webhookEndpoint: 'whe',
  event: 'evt',
  delivery: 'dlv',
  deliveryAttempt: 'att',
  audit: 'aud',
  request: 'req',
  code: 'cod',
  token: 'jti',
  document: 'doc',
  verification: 'ver',
  verificationCheck: 'vck',
  screeningHit: 'hit',
  verificationDecision: 'vdc',
  providerEvent: 'pev',
  callbackSecret: 'vcs',
  tpp: 'tpp',
  tppCertificate: 'crt',
  tppConsent: 'tcn',
} as const;

export type IdKind = keyof typeof idPrefixes;

/** Crockford's base32, lower-cased: no i, l, o or u, so people can read and type it back. */
export const CROCKFORD_BASE32 = '0123456789abcdefghjkmnpqrstvwxyz';

function encodeTime(ms: number): string {
  let out = '';
  let value = ms;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD_BASE32[value % 32] + out;
    value = Math.floor(value / 32);
  }
  return out;
}

/** Ids made within one millisecond share its encoding: every request makes one (its request id). */
let lastTime = { ms: Number.NaN, encoded: '' };

function encodedTime(ms: number): string {
  if (lastTime.ms !== ms) lastTime = { ms, encoded: encodeTime(ms) };
  return lastTime.encoded;
}

/**
 * Random bytes drawn from the CSPRNG in batches, each used once: every request makes an id (its
 * request id), and a getRandomValues call per id showed in a health check's CPU profile. The ids
 * are as unpredictable as before.
 */
const randomPool = new Uint8Array(4096);
let poolOffset = randomPool.length;
const RANDOM_CHARS = 16;

function encodeRandom(): string {
  if (poolOffset + RANDOM_CHARS > randomPool.length) {
    crypto.getRandomValues(randomPool);
    poolOffset = 0;
  }
  let out = '';
  for (let i = poolOffset; i < poolOffset + RANDOM_CHARS; i++)
    out += CROCKFORD_BASE32[(randomPool[i] as number) % 32];
  poolOffset += RANDOM_CHARS;
  return out;
}

export function newId(kind: IdKind, now: number = Date.now()): string {
  return `${idPrefixes[kind]}_${encodedTime(now)}${encodeRandom()}`;
}

const ID_BODY = /^[0-9a-hjkmnp-tv-z]{26}$/;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The client's X-Request-Id where it is safe to echo into headers and logs, else a new one. */
export function requestIdFor(incoming: string | null | undefined): string {
  return incoming && REQUEST_ID.test(incoming) ? incoming : newId('request');
}

export function isId(kind: IdKind, value: string): boolean {
  const prefix = `${idPrefixes[kind]}_`;
  return value.startsWith(prefix) && ID_BODY.test(value.slice(prefix.length));
}
