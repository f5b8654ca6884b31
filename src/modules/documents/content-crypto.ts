/**
 * How a document's bytes are stored in R2: plaintext cut into CHUNK_SIZE chunks, each encrypted
 * with AES-256-GCM under the document's key (documentContentKey) with a random nonce, stored as
 * `nonce ‖ ciphertext ‖ tag` records one after another. The additional data names the tenant, the
 * document, the chunk's index and whether it is the last, so a chunk cannot be reordered, moved
 * into another document, or the object cut short at a chunk boundary without failing to decrypt.
 * Records have a fixed size but the last, so a `Range` maps to the records it needs: only those
 * are read and decrypted.
 */

export const CHUNK_SIZE = 64 * 1024;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const RECORD_OVERHEAD = NONCE_BYTES + TAG_BYTES;
const RECORD_SIZE = CHUNK_SIZE + RECORD_OVERHEAD;
const FORMAT = 'fincore-document-v1';
const encoder = new TextEncoder();

export interface ContentIds {
  tenantId: string;
  documentId: string;
}

export function chunkCount(size: number): number {
  return Math.max(1, Math.ceil(size / CHUNK_SIZE));
}

/** The stored object's size for `size` bytes of plaintext. */
export function encryptedSize(size: number): number {
  return size + chunkCount(size) * RECORD_OVERHEAD;
}

function additionalData(ids: ContentIds, index: number, last: boolean): Uint8Array {
  return encoder.encode(JSON.stringify([FORMAT, ids.tenantId, ids.documentId, index, last]));
}

/**
 * The plaintext in CHUNK_SIZE pieces, from the pieces the parser received. Aligned pieces are
 * views, not copies; only a chunk that straddles two received pieces is assembled.
 */
export function* rechunk(pieces: readonly Uint8Array[]): Generator<Uint8Array> {
  let pending: Uint8Array | undefined;
  let filled = 0;
  for (const piece of pieces) {
    let offset = 0;
    while (offset < piece.length) {
      if (!pending && filled === 0 && piece.length - offset >= CHUNK_SIZE) {
        yield piece.subarray(offset, offset + CHUNK_SIZE);
        offset += CHUNK_SIZE;
        continue;
      }
      pending ??= new Uint8Array(CHUNK_SIZE);
      const taken = Math.min(CHUNK_SIZE - filled, piece.length - offset);
      pending.set(piece.subarray(offset, offset + taken), filled);
      filled += taken;
      offset += taken;
      if (filled === CHUNK_SIZE) {
        yield pending;
        pending = undefined;
        filled = 0;
      }
    }
  }
  if (pending) yield pending.subarray(0, filled);
}

async function encryptChunk(
  key: CryptoKey,
  ids: ContentIds,
  index: number,
  last: boolean,
  chunk: Uint8Array,
) {
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: additionalData(ids, index, last) },
    key,
    chunk,
  );
  const record = new Uint8Array(NONCE_BYTES + sealed.byteLength);
  record.set(nonce);
  record.set(new Uint8Array(sealed), NONCE_BYTES);
  return record;
}

/**
 * The encrypted object as a stream of known length (R2 needs one), produced a chunk at a time
 * while R2 reads it: besides the plaintext, at most a chunk or two of ciphertext is in memory.
 */
export function encryptedStream(
  key: CryptoKey,
  ids: ContentIds,
  pieces: readonly Uint8Array[],
  size: number,
): { stream: ReadableStream<Uint8Array>; written: Promise<void> } {
  const { readable, writable } = new FixedLengthStream(encryptedSize(size));
  const total = chunkCount(size);
  const written = (async () => {
    const writer = writable.getWriter();
    try {
      let index = 0;
      const chunks = size === 0 ? [new Uint8Array(0)] : rechunk(pieces);
      for (const chunk of chunks) {
        await writer.write(await encryptChunk(key, ids, index, index === total - 1, chunk));
        index += 1;
      }
      await writer.close();
    } catch (error) {
      await writer.abort(error);
      throw error;
    }
  })();
  return { stream: readable, written };
}

/** Which stored bytes hold plaintext bytes `start`…`end` (inclusive) of a `size`-byte document. */
export function storedSpan(start: number, end: number, size: number) {
  const first = Math.floor(start / CHUNK_SIZE);
  const last = Math.floor(end / CHUNK_SIZE);
  const offset = first * RECORD_SIZE;
  const stop = Math.min(encryptedSize(size), (last + 1) * RECORD_SIZE);
  return { first, last, offset, length: stop - offset };
}

/** Thrown when a stored record fails authentication: tampered, truncated or another document's. */
export class UnreadableContent extends Error {}

/**
 * Decrypts the records `first`…`last` read from `stored` and yields plaintext bytes
 * `start`…`end` of the document. Records are decrypted one at a time as they arrive.
 */
export async function* decryptRange(
  key: CryptoKey,
  ids: ContentIds,
  stored: ReadableStream<Uint8Array>,
  range: { start: number; end: number; size: number },
): AsyncGenerator<Uint8Array> {
  const { first, last } = storedSpan(range.start, range.end, range.size);
  const total = chunkCount(range.size);
  const reader = stored.getReader();
  let buffered: Uint8Array[] = [];
  let bufferedBytes = 0;
  let index = first;
  const take = (bytes: number): Uint8Array => {
    const record = new Uint8Array(bytes);
    let filled = 0;
    while (filled < bytes) {
      const head = buffered[0] as Uint8Array;
      const used = Math.min(head.length, bytes - filled);
      record.set(head.subarray(0, used), filled);
      filled += used;
      if (used === head.length) buffered.shift();
      else buffered[0] = head.subarray(used);
    }
    bufferedBytes -= bytes;
    return record;
  };
  try {
    while (index <= last) {
      const isLast = index === total - 1;
      const plainLength = isLast ? range.size - index * CHUNK_SIZE : CHUNK_SIZE;
      const recordLength = plainLength + RECORD_OVERHEAD;
      while (bufferedBytes < recordLength) {
        const { value, done } = await reader.read();
        if (done) throw new UnreadableContent(`record ${index} of ${ids.documentId} is cut short`);
        buffered.push(value);
        bufferedBytes += value.length;
      }
      const record = take(recordLength);
      let plain: Uint8Array;
      try {
        plain = new Uint8Array(
          await crypto.subtle.decrypt(
            {
              name: 'AES-GCM',
              iv: record.subarray(0, NONCE_BYTES),
              additionalData: additionalData(ids, index, isLast),
            },
            key,
            record.subarray(NONCE_BYTES),
          ),
        );
      } catch {
        throw new UnreadableContent(`record ${index} of ${ids.documentId} does not decrypt`);
      }
      const from = index === first ? range.start - index * CHUNK_SIZE : 0;
      const to = index === last ? range.end - index * CHUNK_SIZE + 1 : plain.length;
      yield plain.subarray(from, to);
      index += 1;
    }
  } finally {
    buffered = [];
    reader.releaseLock();
    await stored.cancel().catch(() => undefined);
  }
}
