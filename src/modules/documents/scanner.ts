/**
 * Malware scanning of uploaded documents. A scanner sees the plaintext as a stream, after the
 * upload answered, from the `document-jobs` queue (./lifecycle.ts). To plug in a real one (a
 * ClamAV service, a scanning API), implement `DocumentScanner`, add it to `documentScanners`
 * and set the tenant's `documentScanner` setting to its name.
 */
export interface DocumentScanner {
  /** Recorded on the document as `scanner`. */
  readonly name: string;
  scan(content: ReadableStream<Uint8Array>, meta: { mimeType: string; size: number }): Promise<ScanVerdict>;
}

export type ScanVerdict = { verdict: 'CLEAN' } | { verdict: 'INFECTED'; signature: string };

/** The EICAR anti-virus test file's signature (eicar.org): harmless, and every scanner flags it. */
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

/**
 * Flags the EICAR test string anywhere in the bytes, across chunk boundaries, and nothing else:
 * it proves the path (upload → queue → scan → REJECTED) in development and tests, not a file's safety.
 */
export const sandboxScanner: DocumentScanner = {
  name: 'sandbox-eicar',
  async scan(content) {
    const decoder = new TextDecoder('latin1');
    let tail = '';
    for await (const chunk of content) {
      const window = tail + decoder.decode(chunk, { stream: true });
      if (window.includes(EICAR)) return { verdict: 'INFECTED', signature: 'EICAR-Test-File' };
      tail = window.slice(-(EICAR.length - 1));
    }
    return { verdict: 'CLEAN' };
  },
};

export const documentScanners: Readonly<Record<string, DocumentScanner>> = {
  [sandboxScanner.name]: sandboxScanner,
};

/** The `documentScanner` setting of a tenant without a scanner: its documents are SKIPPED. */
export const NO_SCANNER = 'none';

/**
 * The tenant's scanner from its `documentScanner` setting: a scanner's name, or `none` for a tenant
 * without one, whose documents are SKIPPED. By default the sandbox scanner.
 */
export function scannerFor(settings: Record<string, unknown>): DocumentScanner | undefined {
  const configured = settings.documentScanner;
  if (configured === NO_SCANNER) return undefined;
  const scanner = typeof configured === 'string' ? documentScanners[configured] : sandboxScanner;
  if (!scanner) throw new Error(`No document scanner named '${String(configured)}' is installed.`);
  return scanner;
}
