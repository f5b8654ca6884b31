/*
 * A software WebAuthn authenticator for tests inside workerd, where no browser exists: an ES256
 * key made with WebCrypto, 'none' attestation on registration and signed assertions, built byte
 * by byte as WebAuthn §6 lays them out. It shares no code with the server under test.
 */
import { base64UrlEncode } from '../../src/platform/crypto';
import { ORIGIN } from './http';

/** What `navigator.credentials.create()/get()` would be given: the JSON the API returns. */
export interface CreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
}
export interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: { id: string }[];
}

export interface CeremonyOverrides {
  /** `clientDataJSON.origin`; the API's origin by default. */
  origin?: string;
  /** The RP id hashed into the authenticator data; the options' by default. */
  rpId?: string;
  /** Sign another challenge than the options'. */
  challenge?: string;
  /** The user-verified flag (PIN or biometrics); set by default. */
  userVerified?: boolean;
  /** Report this signature counter instead of the next one. */
  counter?: number;
}

const encoder = new TextEncoder();

function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((part) => (part instanceof Uint8Array ? part : Uint8Array.from(part)));
  const out = new Uint8Array(arrays.reduce((total, array) => total + array.length, 0));
  let offset = 0;
  for (const array of arrays) {
    out.set(array, offset);
    offset += array.length;
  }
  return out;
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
}

function uint32(value: number): number[] {
  return [(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
}

/** Just the CBOR (RFC 8949) WebAuthn needs: integers, byte and text strings, maps. */
type Cbor = number | string | Uint8Array | Map<number | string, Cbor>;

function cborHead(major: number, length: number): number[] {
  if (length < 24) return [(major << 5) | length];
  if (length < 0x100) return [(major << 5) | 24, length];
  if (length < 0x10000) return [(major << 5) | 25, length >> 8, length & 0xff];
  return [(major << 5) | 26, ...uint32(length)];
}

function cbor(value: Cbor): Uint8Array {
  if (typeof value === 'number')
    return Uint8Array.from(value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value));
  if (typeof value === 'string') {
    const bytes = encoder.encode(value);
    return concat(cborHead(3, bytes.length), bytes);
  }
  if (value instanceof Uint8Array) return concat(cborHead(2, value.length), value);
  return concat(cborHead(5, value.size), ...[...value].flatMap(([key, item]) => [cbor(key), cbor(item)]));
}

/** WebCrypto signs ECDSA as r‖s; WebAuthn wants the ASN.1 DER SEQUENCE of two INTEGERs. */
function derSignature(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const body = bytes.slice(start);
    const padded = (body[0] ?? 0) & 0x80 ? concat([0], body) : body;
    return concat([0x02, padded.length], padded);
  };
  const r = integer(raw.slice(0, 32));
  const s = integer(raw.slice(32));
  return concat([0x30, r.length + s.length], r, s);
}

const FLAG_USER_PRESENT = 0x01;
const FLAG_USER_VERIFIED = 0x04;
const FLAG_BACKUP_ELIGIBLE = 0x08;
const FLAG_BACKED_UP = 0x10;
const FLAG_ATTESTED_CREDENTIAL = 0x40;

export class SoftwareAuthenticator {
  /** The signature counter of the last ceremony. */
  counter = 0;
  private userHandle: string | undefined;

  private constructor(
    readonly credentialId: string,
    private readonly rawId: Uint8Array,
    private readonly keys: CryptoKeyPair,
    private readonly options: { synced: boolean; countsSignatures: boolean },
  ) {}

  /**
   * `synced`: a backed-up multi-device passkey. `countsSignatures: false`: an authenticator
   * that keeps no counter and always reports 0, as many passkey providers do.
   */
  static async create(options: { synced?: boolean; countsSignatures?: boolean } = {}) {
    const rawId = crypto.getRandomValues(new Uint8Array(32));
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    return new SoftwareAuthenticator(base64UrlEncode(rawId), rawId, keys, {
      synced: options.synced ?? false,
      countsSignatures: options.countsSignatures ?? true,
    });
  }

  /** A copy holding the same key, as an attacker who extracted it would; its counter is its own. */
  clone(): SoftwareAuthenticator {
    const copy = new SoftwareAuthenticator(this.credentialId, this.rawId, this.keys, this.options);
    copy.userHandle = this.userHandle;
    copy.counter = this.counter;
    return copy;
  }

  private nextCounter(override: number | undefined): number {
    if (override !== undefined) return override;
    if (this.options.countsSignatures) this.counter += 1;
    return this.counter;
  }

  private flags(overrides: CeremonyOverrides, extra = 0): number {
    const backup = this.options.synced ? FLAG_BACKUP_ELIGIBLE | FLAG_BACKED_UP : 0;
    const verified = overrides.userVerified === false ? 0 : FLAG_USER_VERIFIED;
    return FLAG_USER_PRESENT | verified | backup | extra;
  }

  private clientData(type: string, challenge: string, overrides: CeremonyOverrides): Uint8Array {
    return encoder.encode(
      JSON.stringify({
        type,
        challenge: overrides.challenge ?? challenge,
        origin: overrides.origin ?? ORIGIN,
        crossOrigin: false,
      }),
    );
  }

  private async coseKey(): Promise<Uint8Array> {
    const raw = new Uint8Array((await crypto.subtle.exportKey('raw', this.keys.publicKey)) as ArrayBuffer);
    return cbor(
      new Map<number, Cbor>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, raw.slice(1, 33)], // x
        [-3, raw.slice(33, 65)], // y
      ]),
    );
  }

  /** The registration response for creation options, as @simplewebauthn/browser sends it. */
  async register(options: CreationOptions, overrides: CeremonyOverrides = {}) {
    this.userHandle = options.user.id;
    const rpId = overrides.rpId ?? options.rp.id ?? new URL(ORIGIN).hostname;
    const authData = concat(
      await sha256(encoder.encode(rpId)),
      [this.flags(overrides, FLAG_ATTESTED_CREDENTIAL)],
      uint32(this.nextCounter(overrides.counter)),
      new Uint8Array(16), // AAGUID: none
      [this.rawId.length >> 8, this.rawId.length & 0xff],
      this.rawId,
      await this.coseKey(),
    );
    const attestationObject = cbor(
      new Map<string, Cbor>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: {
        clientDataJSON: base64UrlEncode(this.clientData('webauthn.create', options.challenge, overrides)),
        attestationObject: base64UrlEncode(attestationObject),
        transports: ['internal'],
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: { credProps: { rk: true } },
    };
  }

  /** A signed assertion for request options, as @simplewebauthn/browser sends it. */
  async assert(options: RequestOptions, overrides: CeremonyOverrides = {}) {
    const rpId = overrides.rpId ?? options.rpId ?? new URL(ORIGIN).hostname;
    const authData = concat(
      await sha256(encoder.encode(rpId)),
      [this.flags(overrides)],
      uint32(this.nextCounter(overrides.counter)),
    );
    const clientData = this.clientData('webauthn.get', options.challenge, overrides);
    const signed = concat(authData, await sha256(clientData));
    const raw = new Uint8Array(
      await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, this.keys.privateKey, signed),
    );
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: {
        clientDataJSON: base64UrlEncode(clientData),
        authenticatorData: base64UrlEncode(authData),
        signature: base64UrlEncode(derSignature(raw)),
        ...(this.userHandle ? { userHandle: this.userHandle } : {}),
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }
}
