import {
  MaxFileSizeExceededError,
  MaxHeaderSizeExceededError,
  MaxPartsExceededError,
  MaxTotalSizeExceededError,
  MultipartParseError,
  parseMultipartRequest,
} from '@remix-run/multipart-parser';
import { fileTypeFromBuffer } from 'file-type';
import { hexEncode } from '../../platform/crypto';
import { ApiError, validationError } from '../../platform/errors';
import { type AcceptedMimeType, acceptedMimeTypes } from './schemas';

/**
 * The upload route reads its own body, within its own limits (below): the app's JSON body
 * limit must not buffer it first (src/app.ts skips what this matches).
 */
export const uploadRoute = { method: 'POST', path: /^\/v2\/customer\/customers\/[^/]+\/documents$/ };

const MiB = 1024 * 1024;

/** The upload's limits: a 10 MiB file, a small envelope for the fields, a few parts. */
export const uploadLimits = {
  fileBytes: 10 * MiB,
  /** The text fields and each part's headers share this beyond the file. */
  envelopeBytes: 64 * 1024,
  parts: 8,
  headerBytes: 8 * 1024,
} as const;
const MAX_BODY_BYTES = uploadLimits.fileBytes + uploadLimits.envelopeBytes;
/** file-type reads at most this many leading bytes. */
const SNIFF_BYTES = 4100;

export interface UploadedFile {
  /** The bytes as the parser received them: one copy of the file, never joined into another. */
  pieces: Uint8Array[];
  size: number;
  sha256: string;
  mimeType: AcceptedMimeType;
  fileName: string | null;
  declaredMimeType: string | null;
}

export interface Upload {
  fields: Record<string, string>;
  file: UploadedFile;
}

function tooLarge(detail: string): ApiError {
  // The rest of the body is not read: the connection is not reused for another request.
  return new ApiError('payload_too_large', { detail, headers: { Connection: 'close' } });
}

/** The parser's own refusals, as the API's problems; anything else is not the parser's. */
function parserProblem(error: unknown): ApiError | undefined {
  if (error instanceof MaxFileSizeExceededError) {
    return tooLarge(`A part is larger than ${uploadLimits.fileBytes} bytes.`);
  }
  if (error instanceof MaxTotalSizeExceededError) {
    return tooLarge(`The form is larger than ${MAX_BODY_BYTES} bytes.`);
  }
  if (error instanceof MaxPartsExceededError) {
    return tooLarge(`The form has more than ${uploadLimits.parts} parts.`);
  }
  if (error instanceof MaxHeaderSizeExceededError) {
    return tooLarge(`A part's headers are larger than ${uploadLimits.headerBytes} bytes.`);
  }
  if (error instanceof MultipartParseError) {
    return new ApiError('malformed_request', { detail: `The multipart body is malformed: ${error.message}` });
  }
  return undefined;
}

/** Control characters and path separators out, at most 255 characters: it only ever names a download. */
export function sanitizeFileName(name: string | undefined): string | null {
  if (name === undefined) return null;
  const base = name.split(/[\\/]/).at(-1) ?? '';
  const clean = [...base]
    .filter((character) => character.charCodeAt(0) >= 0x20 && character !== '\x7f' && character !== '"')
    .join('')
    .trim()
    .slice(0, 255);
  return clean === '' ? null : clean;
}

/** SHA-256 over the pieces as received, without joining them into one buffer. */
async function sha256OfPieces(pieces: readonly Uint8Array[]): Promise<string> {
  const digest = new crypto.DigestStream('SHA-256');
  const writer = digest.getWriter();
  for (const piece of pieces) await writer.write(piece);
  await writer.close();
  return hexEncode(new Uint8Array(await digest.digest));
}

function leadingBytes(pieces: readonly Uint8Array[], length: number): Uint8Array {
  const first = pieces[0];
  if (first && first.length >= length) return first.subarray(0, length);
  const out = new Uint8Array(
    Math.min(
      length,
      pieces.reduce((sum, piece) => sum + piece.length, 0),
    ),
  );
  let offset = 0;
  for (const piece of pieces) {
    if (offset >= out.length) break;
    const taken = piece.subarray(0, out.length - offset);
    out.set(taken, offset);
    offset += taken.length;
  }
  return out;
}

/** The type the bytes are, if it is one the route accepts; else 415 naming what they are. */
async function detectType(pieces: readonly Uint8Array[]): Promise<AcceptedMimeType> {
  const detected = await fileTypeFromBuffer(leadingBytes(pieces, SNIFF_BYTES));
  const mime = detected?.mime ?? null;
  if (mime !== null && (acceptedMimeTypes as readonly string[]).includes(mime))
    return mime as AcceptedMimeType;
  throw new ApiError('unsupported_media_type', {
    detail: `The file's bytes are ${mime ?? 'of no recognised type'}; PDF, JPEG and PNG are accepted.`,
    extensions: { detectedType: mime },
  });
}

/**
 * Reads the upload form from the request stream within the limits: a `Content-Length` over them
 * is refused before a byte is read, and a chunked or lying body is cut off by the parser as soon
 * as it passes them, so no more than the limit is ever held. The caller has checked who may
 * upload for whom before calling this: the body is read only for them.
 */
export async function readUpload(request: Request): Promise<Upload> {
  const contentType = request.headers.get('Content-Type') ?? '';
  if (!/^multipart\/form-data\s*;/i.test(contentType)) {
    throw new ApiError('unsupported_media_type', {
      detail: 'Upload the file as multipart/form-data, with a boundary.',
    });
  }
  const declaredLength = request.headers.get('Content-Length');
  if (declaredLength !== null && Number(declaredLength) > MAX_BODY_BYTES) {
    throw tooLarge(`Uploads are limited to ${MAX_BODY_BYTES} bytes in all.`);
  }
  const fields: Record<string, string> = {};
  let file: { pieces: Uint8Array[]; size: number; fileName?: string; mediaType?: string } | undefined;
  try {
    for await (const part of parseMultipartRequest(request, {
      maxFileSize: uploadLimits.fileBytes,
      maxTotalSize: MAX_BODY_BYTES,
      maxParts: uploadLimits.parts,
      maxHeaderSize: uploadLimits.headerBytes,
    })) {
      const name = part.name ?? '';
      if (name === 'file') {
        if (file) throw validationError([{ path: 'file', message: 'send exactly one file part' }]);
        file = { pieces: part.content, size: part.size, fileName: part.filename, mediaType: part.mediaType };
      } else if (part.isFile) {
        throw validationError([{ path: name, message: 'only the part named file may be a file' }]);
      } else if (Object.hasOwn(fields, name)) {
        throw validationError([{ path: name, message: 'sent more than once' }]);
      } else {
        fields[name] = part.text;
      }
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw (
      parserProblem(error) ?? new ApiError('malformed_request', { detail: 'The body could not be read.' })
    );
  }
  if (!file) throw validationError([{ path: 'file', message: 'a part named file is required' }]);
  if (file.size === 0) throw validationError([{ path: 'file', message: 'the file is empty' }]);
  const mimeType = await detectType(file.pieces);
  return {
    fields,
    file: {
      pieces: file.pieces,
      size: file.size,
      sha256: await sha256OfPieces(file.pieces),
      mimeType,
      fileName: sanitizeFileName(file.fileName),
      declaredMimeType: file.mediaType?.slice(0, 255) ?? null,
    },
  };
}
