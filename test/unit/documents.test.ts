import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE, encryptedSize, rechunk, storedSpan } from '../../src/modules/documents/content-crypto';
import { parseRange } from '../../src/modules/documents/range';
import { sandboxScanner } from '../../src/modules/documents/scanner';
import { sanitizeFileName } from '../../src/modules/documents/upload';

describe('parseRange (RFC 9110 §14)', () => {
  it.each([
    [undefined, { kind: 'whole' }],
    ['bytes=0-9', { kind: 'part', start: 0, end: 9 }],
    ['bytes=90-', { kind: 'part', start: 90, end: 99 }],
    ['bytes=90-500', { kind: 'part', start: 90, end: 99 }],
    ['bytes=-10', { kind: 'part', start: 90, end: 99 }],
    ['bytes=-500', { kind: 'part', start: 0, end: 99 }],
    ['bytes=100-', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=9-3', { kind: 'whole' }],
    ['bytes=0-1,5-6', { kind: 'whole' }],
    ['items=0-1', { kind: 'whole' }],
    ['bytes=-', { kind: 'whole' }],
  ])('%s of 100 bytes → %o', (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });
});

describe('the chunked layout', () => {
  it('cuts the received pieces into CHUNK_SIZE chunks, aligned pieces as views without a copy', () => {
    const whole = new Uint8Array(2 * CHUNK_SIZE);
    const chunks = [...rechunk([whole, new Uint8Array(10), new Uint8Array(CHUNK_SIZE)])];
    expect(chunks.map((chunk) => chunk.length)).toEqual([CHUNK_SIZE, CHUNK_SIZE, CHUNK_SIZE, 10]);
    expect(chunks[0]?.buffer).toBe(whole.buffer);
    expect(chunks[1]?.buffer).toBe(whole.buffer);
  });

  it('maps a plaintext range to the stored records it needs', () => {
    const size = 3 * CHUNK_SIZE + 5;
    expect(storedSpan(0, 0, size)).toEqual({ first: 0, last: 0, offset: 0, length: CHUNK_SIZE + 28 });
    expect(storedSpan(CHUNK_SIZE - 1, CHUNK_SIZE, size)).toMatchObject({ first: 0, last: 1, offset: 0 });
    expect(storedSpan(size - 1, size - 1, size)).toEqual({
      first: 3,
      last: 3,
      offset: 3 * (CHUNK_SIZE + 28),
      length: 5 + 28,
    });
    expect(encryptedSize(size)).toBe(size + 4 * 28);
  });
});

describe('sanitizeFileName', () => {
  it.each([
    ['passport.pdf', 'passport.pdf'],
    ['C:\\scans\\id card.png', 'id card.png'],
    ['../../etc/passwd', 'passwd'],
    ['bad\u0000name\r\n".pdf', 'badname.pdf'],
    ['   ', null],
    [undefined, null],
  ])('%j → %j', (name, expected) => {
    expect(sanitizeFileName(name)).toBe(expected);
  });
});

describe('the sandbox scanner', () => {
  const eicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
  const stream = (...parts: string[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
        controller.close();
      },
    });
  const meta = { mimeType: 'application/pdf', size: 0 };

  it('finds the EICAR string split across chunks, and nothing in a clean file', async () => {
    expect(
      await sandboxScanner.scan(stream('%PDF-1.4 ', eicar.slice(0, 30), eicar.slice(30), ' end'), meta),
    ).toEqual({
      verdict: 'INFECTED',
      signature: 'EICAR-Test-File',
    });
    expect(
      await sandboxScanner.scan(stream('%PDF-1.4 ', eicar.slice(0, 30), 'x', eicar.slice(30)), meta),
    ).toEqual({
      verdict: 'CLEAN',
    });
  });
});
