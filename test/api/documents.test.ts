import { env, SELF } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditEvents, documents, verificationDocuments } from '../../src/db/tenant';
import { CHUNK_SIZE, encryptedSize } from '../../src/modules/documents/content-crypto';
import { sweepDocuments } from '../../src/modules/documents/lifecycle';
import { readUpload } from '../../src/modules/documents/upload';
import { sha256Hex } from '../../src/platform/crypto';
import { type DocumentQueueMessage, queueNames } from '../../src/platform/queues';
import { requireActiveTenant } from '../../src/platform/tenancy';
import {
  download,
  type FixtureName,
  fixture,
  pdfOfSize,
  recordingQueue,
  runDeadScan,
  runScan,
  storeUnscanned,
  upload,
  uploadDocument,
  uploadForm,
} from '../helpers/documents';
import {
  adminHeaders,
  createCustomer,
  createEmployee,
  createOrganization,
  createStaff,
  createTenant,
  database,
  type TestTenant,
} from '../helpers/factories';
import { BASE, call } from '../helpers/http';
import { expectProblem } from '../helpers/problems';
import { deliver } from '../helpers/queues';

const MiB = 1024 * 1024;

async function setUp(tier: TestTenant['tier'] = 'PROFESSIONAL') {
  const tenant = await createTenant({ tier });
  const [staff, customer] = await Promise.all([createStaff(tenant, 'TENANT_ADMIN'), createCustomer(tenant)]);
  return { tenant, staff, customer };
}

function objectKeyOf(tenant: TestTenant, customerId: string, documentId: string) {
  return `t/${tenant.id}/c/${customerId}/${documentId}`;
}

function documentRow(tenant: TestTenant, id: string) {
  return database(tenant).select().from(documents).where(eq(documents.id, id)).get();
}

function scanAudits(tenant: TestTenant) {
  return database(tenant)
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.tenantId, tenant.id), eq(auditEvents.action, 'document.scanned')));
}

function setScanner(tenant: TestTenant, documentScanner: unknown) {
  return call('PATCH', `/platform/tenants/${tenant.id}`, {
    headers: adminHeaders(),
    body: { documentScanner },
  });
}

describe('uploading and downloading documents', () => {
  it.each([
    ['valid.pdf', 'application/pdf'],
    ['valid.png', 'image/png'],
    ['valid.jpg', 'image/jpeg'],
  ] as [FixtureName, string][])(
    'round-trips %s byte for byte, typed from its bytes',
    async (name, mimeType) => {
      const { tenant, customer } = await setUp();
      const bytes = fixture(name);
      const created = await upload(tenant, customer.token, customer.customerId, {
        bytes,
        fileName: `scan ✓ ${name}`,
        fileType: 'application/octet-stream',
        fields: {
          documentType: 'PASSPORT',
          issuingCountry: 'GB',
          documentNumber: '925076473',
          expiresAt: '2031-05-14',
        },
      });
      expect(created.status, created.text).toBe(201);
      expect(created.body).toMatchObject({
        customerId: customer.customerId,
        documentType: 'PASSPORT',
        status: 'UPLOADED',
        scanStatus: 'PENDING',
        mimeType,
        size: bytes.length,
        sha256: await sha256Hex(bytes),
        declaredMimeType: 'application/octet-stream',
        documentNumberLast4: '6473',
        issuingCountry: 'GB',
        expiresAt: '2031-05-14',
      });
      expect(created.text).not.toContain('925076473');
      const served = await download(tenant, customer.token, created.body.id as string);
      expect(served.status).toBe(200);
      expect(served.bytes).toEqual(bytes);
      expect(served.headers.get('Content-Type')).toBe(mimeType);
      expect(served.headers.get('Content-Length')).toBe(String(bytes.length));
      expect(served.headers.get('ETag')).toBe(`"${created.body.sha256}"`);
      expect(served.headers.get('X-Content-Type-Options')).toBe('nosniff');
      expect(served.headers.get('Cache-Control')).toBe('private, no-store');
      expect(served.headers.get('Content-Security-Policy')).toBe('sandbox');
      expect(served.headers.get('Content-Disposition')).toBe(
        `attachment; filename="scan _ ${name}"; filename*=UTF-8''scan%20%E2%9C%93%20${name}`,
      );
    },
  );

  it('records the declared type and name but serves what the bytes are: a JPEG declared as PNG is a JPEG', async () => {
    const { tenant, customer } = await setUp();
    const created = await upload(tenant, customer.token, customer.customerId, {
      bytes: fixture('valid.jpg'),
      fileName: 'selfie.png',
      fileType: 'image/png',
      fields: { documentType: 'SELFIE' },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      mimeType: 'image/jpeg',
      declaredMimeType: 'image/png',
      fileName: 'selfie.png',
    });
    const served = await download(tenant, customer.token, created.body.id as string);
    expect(served.headers.get('Content-Type')).toBe('image/jpeg');
  });

  it.each([
    ['html-as.pdf', null],
    ['program.exe', 'application/x-msdownload'],
    ['image.svg', 'application/xml'],
  ] as [FixtureName, string | null][])(
    'refuses %s with 415 naming what its bytes are',
    async (name, detected) => {
      const { tenant, staff, customer } = await setUp();
      const response = await upload(tenant, staff.token, customer.customerId, {
        bytes: fixture(name),
        fileName: 'passport.pdf',
        fileType: 'application/pdf',
      });
      expectProblem(response, 415, 'unsupported_media_type');
      expect(response.body.detectedType).toBe(detected);
    },
  );

  it('refuses what is not one multipart form with exactly one file part named file', async () => {
    const { tenant, staff, customer } = await setUp();
    const path = `/customers/${customer.customerId}/documents`;
    const json = await call('POST', path, {
      tenant: tenant.id,
      token: staff.token,
      body: { documentType: 'PASSPORT' },
    });
    expectProblem(json, 415, 'unsupported_media_type');
    const two = uploadForm();
    two.append('file', new Blob([fixture('valid.png')]), 'second.png');
    expectProblem(
      await call('POST', path, { tenant: tenant.id, token: staff.token, multipart: two }),
      422,
      'validation_failed',
    );
    const none = new FormData();
    none.append('documentType', 'PASSPORT');
    expectProblem(
      await call('POST', path, { tenant: tenant.id, token: staff.token, multipart: none }),
      422,
      'validation_failed',
    );
    const misnamed = new FormData();
    misnamed.append('documentType', 'PASSPORT');
    misnamed.append('upload', new Blob([fixture('valid.pdf')]), 'a.pdf');
    expectProblem(
      await call('POST', path, { tenant: tenant.id, token: staff.token, multipart: misnamed }),
      422,
      'validation_failed',
    );
    const unknownField = uploadForm({ fields: { colour: 'blue' } });
    expectProblem(
      await call('POST', path, { tenant: tenant.id, token: staff.token, multipart: unknownField }),
      422,
      'validation_failed',
    );
    const badType = uploadForm({ fields: { documentType: 'DIARY' } });
    expectProblem(
      await call('POST', path, { tenant: tenant.id, token: staff.token, multipart: badType }),
      422,
      'validation_failed',
    );
  });
});

describe('upload limits', () => {
  it('accepts exactly 10 MiB and refuses 10 MiB + 1 with 413', async () => {
    const { tenant, staff, customer } = await setUp();
    const exact = pdfOfSize(10 * MiB);
    const accepted = await upload(tenant, staff.token, customer.customerId, { bytes: exact });
    expect(accepted.status, accepted.text).toBe(201);
    expect(accepted.body.size).toBe(10 * MiB);
    const served = await download(tenant, staff.token, accepted.body.id as string);
    expect(await sha256Hex(served.bytes)).toBe(accepted.body.sha256);
    const over = await upload(tenant, staff.token, customer.customerId, { bytes: pdfOfSize(10 * MiB + 1) });
    expectProblem(over, 413, 'payload_too_large');
  });

  it('refuses a Content-Length over the limit before reading, and a chunked 11 MiB body as it passes the limit', async () => {
    const { tenant, staff, customer } = await setUp();
    const url = `${BASE}/customers/${customer.customerId}/documents`;
    const boundary = 'limit-test-boundary';
    const head = new TextEncoder().encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="documentType"\r\n\r\nPASSPORT\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n`,
    );
    const headers = {
      'X-Tenant-ID': tenant.id,
      Authorization: `Bearer ${staff.token}`,
      'Content-Type': `multipart/form-data; boundary=${boundary}`,
    };
    // A lying Content-Length: far more than the limit, with a small body. Refused on the header.
    const declared = await SELF.fetch(url, {
      method: 'POST',
      headers: { ...headers, 'Content-Length': String(50 * MiB) },
      body: head,
    });
    expect(declared.status).toBe(413);
    expect(declared.headers.get('Connection')).toBe('close');
    // No Content-Length: 11 MiB in 1 MiB chunks; the parser stops at the limit.
    let sent = 0;
    const chunk = new Uint8Array(MiB).fill(0x41);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(head);
      },
      pull(controller) {
        if (sent >= 11) return controller.close();
        sent += 1;
        controller.enqueue(chunk);
      },
    });
    const chunked = await SELF.fetch(url, { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);
    expect((await chunked.json()) as { code: string }).toMatchObject({ code: 'payload_too_large' });
    expect(sent).toBeLessThan(12);
  });
});

describe('memory per upload', () => {
  it('holds a 10 MiB file once: the parsed pieces reference no more buffer memory than the file and a chunk', async () => {
    const sent = new Request(`${BASE}/upload`, {
      method: 'POST',
      body: uploadForm({ bytes: pdfOfSize(10 * MiB) }),
    });
    // As a socket delivers a body: in fresh 64 KiB buffers, none aligned with the file's start.
    const networkChunk = 64 * 1024;
    let carry = new Uint8Array(0);
    const delivered = new Set<ArrayBufferLike>();
    const deliver = (controller: TransformStreamDefaultController<Uint8Array>, chunk: Uint8Array) => {
      delivered.add(chunk.buffer);
      controller.enqueue(chunk);
    };
    const rechunked = (sent.body as ReadableStream<Uint8Array>).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(piece, controller) {
          const joined = new Uint8Array(carry.length + piece.length);
          joined.set(carry);
          joined.set(piece, carry.length);
          let offset = 0;
          for (; offset + networkChunk <= joined.length; offset += networkChunk)
            deliver(controller, joined.slice(offset, offset + networkChunk));
          carry = joined.slice(offset);
        },
        flush(controller) {
          if (carry.length > 0) deliver(controller, carry);
        },
      }),
    );
    const received = new Request(`${BASE}/upload`, {
      method: 'POST',
      headers: { 'Content-Type': sent.headers.get('Content-Type') ?? '' },
      body: rechunked,
      duplex: 'half',
    } as RequestInit);
    const { file } = await readUpload(received);
    expect(file.size).toBe(10 * MiB);
    // The pieces are views into the buffers as received, not copies (but where a boundary search
    // carried bytes over from one chunk to the next), and reference no more than the file's bytes
    // and the two chunks it starts and ends in, which it shares with the form's envelope.
    const copied = file.pieces.filter((piece) => !delivered.has(piece.buffer));
    expect(copied.reduce((sum, piece) => sum + piece.length, 0)).toBeLessThanOrEqual(2 * networkChunk);
    const buffers = new Set(file.pieces.map((piece) => piece.buffer));
    const held = [...buffers].reduce((sum, buffer) => sum + buffer.byteLength, 0);
    expect(held).toBeLessThanOrEqual(10 * MiB + 2 * networkChunk);
  });
});

describe('downloads: conditional and ranged, decrypting only what is asked', () => {
  it('answers If-None-Match with 304, a range across a chunk boundary with 206, and past the end with 416', async () => {
    const { tenant, customer } = await setUp();
    const bytes = pdfOfSize(3 * CHUNK_SIZE + 1234, (index) => (index * 7) % 256);
    const id = await uploadDocument(tenant, customer.token, customer.customerId, { bytes });
    const whole = await download(tenant, customer.token, id);
    const etag = whole.headers.get('ETag') ?? '';
    expect((await download(tenant, customer.token, id, { 'If-None-Match': etag })).status).toBe(304);
    expect((await download(tenant, customer.token, id, { 'If-None-Match': '"other"' })).status).toBe(200);

    const start = CHUNK_SIZE - 10;
    const end = 2 * CHUNK_SIZE + 10;
    const part = await download(tenant, customer.token, id, { Range: `bytes=${start}-${end}` });
    expect(part.status).toBe(206);
    expect(part.headers.get('Content-Range')).toBe(`bytes ${start}-${end}/${bytes.length}`);
    expect(part.headers.get('Content-Length')).toBe(String(end - start + 1));
    expect(part.bytes).toEqual(bytes.slice(start, end + 1));
    const suffix = await download(tenant, customer.token, id, { Range: 'bytes=-100' });
    expect(suffix.status).toBe(206);
    expect(suffix.bytes).toEqual(bytes.slice(-100));

    const past = await download(tenant, customer.token, id, { Range: `bytes=${bytes.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get('Content-Range')).toBe(`bytes */${bytes.length}`);

    const head = await download(tenant, customer.token, id, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('ETag')).toBe(etag);
    expect(head.bytes.length).toBe(0);
  });

  it('audits every download', async () => {
    const { tenant, customer } = await setUp();
    const id = await uploadDocument(tenant, customer.token, customer.customerId);
    await download(tenant, customer.token, id);
    await download(tenant, customer.token, id, { Range: 'bytes=0-3' });
    const rows = await database(tenant)
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.tenantId, tenant.id), eq(auditEvents.action, 'document.downloaded')));
    expect(rows.map((row) => row.data)).toEqual([{ documentId: id }, { documentId: id, range: '0-3' }]);
    expect(rows.every((row) => row.targetId === customer.customerId && row.actorId === customer.id)).toBe(
      true,
    );
  });
});

describe('encryption at rest', () => {
  it('stores ciphertext in R2 under a key without personal data', async () => {
    const { tenant, customer } = await setUp();
    const bytes = fixture('valid.pdf');
    const id = await uploadDocument(tenant, customer.token, customer.customerId, { bytes });
    const stored = await env.DOCUMENTS.get(objectKeyOf(tenant, customer.customerId, id));
    expect(stored).not.toBeNull();
    const raw = new Uint8Array(await (stored as R2ObjectBody).arrayBuffer());
    expect(raw.length).toBe(encryptedSize(bytes.length));
    expect(new TextDecoder('latin1').decode(raw)).not.toContain('%PDF');
    expect(new TextDecoder('latin1').decode(raw)).not.toContain('FinCore test document');
  });

  it('refuses an object moved under another document’s key: it does not decrypt there', async () => {
    const { tenant, customer } = await setUp();
    const first = await uploadDocument(tenant, customer.token, customer.customerId, {
      bytes: fixture('valid.pdf'),
    });
    const second = await uploadDocument(tenant, customer.token, customer.customerId, {
      bytes: fixture('valid.pdf'),
      fields: { documentType: 'OTHER' },
    });
    const original = (await env.DOCUMENTS.get(
      objectKeyOf(tenant, customer.customerId, first),
    )) as R2ObjectBody;
    await env.DOCUMENTS.put(objectKeyOf(tenant, customer.customerId, second), await original.arrayBuffer());
    const moved = await call('GET', `/documents/${second}/content`, {
      tenant: tenant.id,
      token: customer.token,
    });
    expectProblem(moved, 500, 'document_unreadable');
    expect((await download(tenant, customer.token, first)).status).toBe(200);
  });
});

describe('a stored object that fails its integrity check', () => {
  it('is never served (500 document_unreadable) and its scan is FAILED at once, not retried', async () => {
    const { tenant, staff, customer } = await setUp();
    const id = await storeUnscanned(tenant, customer.customerId);
    const key = objectKeyOf(tenant, customer.customerId, id);
    const stored = new Uint8Array(await ((await env.DOCUMENTS.get(key)) as R2ObjectBody).arrayBuffer());
    // One bit of the first record's ciphertext, past its 12-byte nonce: storage rot or tampering.
    stored[20] = (stored[20] ?? 0) ^ 0x01;
    await env.DOCUMENTS.put(key, stored);

    const served = await call('GET', `/documents/${id}/content`, { tenant: tenant.id, token: staff.token });
    expectProblem(served, 500, 'document_unreadable');
    expect(served.text).not.toContain('%PDF');
    // The metadata stays readable: only the bytes are lost.
    expect((await call('GET', `/documents/${id}`, { tenant: tenant.id, token: staff.token })).status).toBe(
      200,
    );

    await runScan(tenant, id);
    expect(await documentRow(tenant, id)).toMatchObject({ scanStatus: 'FAILED', scanner: 'sandbox-eicar' });
    expect((await scanAudits(tenant)).map((row) => row.data)).toEqual([
      { documentId: id, scanStatus: 'FAILED', scanner: 'sandbox-eicar', failure: 'integrity_check_failed' },
    ]);
    // What the problem tells a client to do: delete it and upload the file again.
    expect((await call('DELETE', `/documents/${id}`, { tenant: tenant.id, token: staff.token })).status).toBe(
      204,
    );
    await uploadDocument(tenant, staff.token, customer.customerId);
  });
});

describe('integrity and idempotency', () => {
  it('refuses the same bytes for the same customer and type with 409 naming the document', async () => {
    const { tenant, customer } = await setUp();
    const id = await uploadDocument(tenant, customer.token, customer.customerId);
    const again = await upload(tenant, customer.token, customer.customerId);
    expectProblem(again, 409, 'document_duplicate');
    expect(again.body.existingId).toBe(id);
    // The same file as another type of document is another document.
    await uploadDocument(tenant, customer.token, customer.customerId, {
      fields: { documentType: 'PROOF_OF_ADDRESS' },
    });
  });

  it('of 20 identical uploads in parallel exactly one is stored', async () => {
    const { tenant, customer } = await setUp();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        upload(tenant, customer.token, customer.customerId, { bytes: fixture('valid.png') }),
      ),
    );
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 409)).toHaveLength(19);
    const listed = await env.DOCUMENTS.list({ prefix: `t/${tenant.id}/c/${customer.customerId}/` });
    expect(listed.objects).toHaveLength(1);
  });

  it('replays an upload with the same Idempotency-Key and refuses the key for another file', async () => {
    const { tenant, staff, customer } = await setUp();
    const headers = { 'Idempotency-Key': `upload-${customer.customerId}` };
    const first = await upload(tenant, staff.token, customer.customerId, { headers });
    expect(first.status, first.text).toBe(201);
    const replay = await upload(tenant, staff.token, customer.customerId, { headers });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('Idempotent-Replayed')).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    const other = await upload(tenant, staff.token, customer.customerId, {
      headers,
      bytes: fixture('valid.png'),
    });
    expectProblem(other, 422, 'idempotency_key_reused');
  });
});

describe('who may upload and read', () => {
  it('needs SCT11: a STARTER tenant gets 403 capability_not_enabled before the body is read', async () => {
    const { tenant, staff, customer } = await setUp('STARTER');
    expectProblem(await upload(tenant, staff.token, customer.customerId), 403, 'capability_not_enabled');
  });

  it('hides another customer’s and another tenant’s documents behind 404', async () => {
    const { tenant, staff, customer } = await setUp();
    const other = await createCustomer(tenant);
    const id = await uploadDocument(tenant, customer.token, customer.customerId);
    expectProblem(await upload(tenant, other.token, customer.customerId), 404, 'not_found');
    for (const path of [
      `/documents/${id}`,
      `/documents/${id}/content`,
      `/customers/${customer.customerId}/documents`,
    ]) {
      expectProblem(await call('GET', path, { tenant: tenant.id, token: other.token }), 404, 'not_found');
    }
    const foreign = await setUp();
    expectProblem(
      await call('GET', `/documents/${id}`, { tenant: foreign.tenant.id, token: foreign.staff.token }),
      404,
      'not_found',
    );
    expectProblem(await upload(foreign.tenant, foreign.staff.token, customer.customerId), 404, 'not_found');
    const own = await call('GET', `/documents/${id}`, { tenant: tenant.id, token: staff.token });
    expect(own.status).toBe(200);
  });

  it('lists a customer’s documents newest first, filtered by type and status', async () => {
    const { tenant, staff, customer } = await setUp();
    const passport = await uploadDocument(tenant, staff.token, customer.customerId);
    const address = await uploadDocument(tenant, staff.token, customer.customerId, {
      bytes: fixture('valid.png'),
      fields: { documentType: 'PROOF_OF_ADDRESS' },
    });
    const path = `/customers/${customer.customerId}/documents`;
    const all = await call<{ data: { id: string }[] }>('GET', path, {
      tenant: tenant.id,
      token: customer.token,
    });
    expect(all.body.data.map((row) => row.id)).toEqual([address, passport]);
    const filtered = await call<{ data: { id: string }[] }>(
      'GET',
      `${path}?documentType=PASSPORT&status=UPLOADED`,
      {
        tenant: tenant.id,
        token: staff.token,
      },
    );
    expect(filtered.body.data.map((row) => row.id)).toEqual([passport]);
  });
});

describe('scanning', () => {
  it('marks a clean file CLEAN, and one with the EICAR string INFECTED, REJECTED, its object removed', async () => {
    const { tenant, staff, customer } = await setUp();
    const clean = await uploadDocument(tenant, staff.token, customer.customerId);
    const infected = await uploadDocument(tenant, staff.token, customer.customerId, {
      bytes: fixture('eicar.pdf'),
      fields: { documentType: 'OTHER' },
    });
    await runScan(tenant, clean);
    await runScan(tenant, infected);
    const cleanView = await call('GET', `/documents/${clean}`, { tenant: tenant.id, token: staff.token });
    expect(cleanView.body).toMatchObject({
      scanStatus: 'CLEAN',
      scanner: 'sandbox-eicar',
      status: 'UPLOADED',
    });
    const infectedView = await call('GET', `/documents/${infected}`, {
      tenant: tenant.id,
      token: staff.token,
    });
    expect(infectedView.body).toMatchObject({
      scanStatus: 'INFECTED',
      status: 'REJECTED',
      rejectionReason: 'malware_detected',
    });
    expect(await env.DOCUMENTS.head(objectKeyOf(tenant, customer.customerId, infected))).toBeNull();
    expectProblem(
      await call('GET', `/documents/${infected}/content`, { tenant: tenant.id, token: staff.token }),
      404,
      'not_found',
    );
    const rejected = await call<{ data: { data: Record<string, unknown> }[] }>(
      'GET',
      '/events?type=document.rejected',
      {
        tenant: tenant.id,
        token: staff.token,
      },
    );
    expect(rejected.body.data.map((event) => event.data)).toEqual([
      {
        customerId: customer.customerId,
        documentId: infected,
        documentType: 'OTHER',
        reason: 'malware_detected',
      },
    ]);
    // A redelivered message changes nothing.
    await runScan(tenant, infected);
  });
});

describe('scanner settings and failed scans', () => {
  it('the operator sets documentScanner: none records SKIPPED, an unknown scanner is refused, null restores the default', async () => {
    const { tenant, staff, customer } = await setUp();
    expectProblem(await setScanner(tenant, 'clamav'), 422, 'validation_failed');
    const none = await setScanner(tenant, 'none');
    expect(none.status, none.text).toBe(200);
    expect(none.body.documentScanner).toBe('none');
    const skipped = await uploadDocument(tenant, staff.token, customer.customerId);
    await runScan(tenant, skipped);
    const view = await call('GET', `/documents/${skipped}`, { tenant: tenant.id, token: staff.token });
    expect(view.body).toMatchObject({ scanStatus: 'SKIPPED', scanner: null, status: 'UPLOADED' });

    const restored = await setScanner(tenant, null);
    expect(restored.body.documentScanner).toBeNull();
    const read = await call('GET', `/platform/tenants/${tenant.id}`, { headers: adminHeaders() });
    expect(read.body.documentScanner).toBeNull();
    const scanned = await storeUnscanned(tenant, customer.customerId, fixture('valid.pdf'), 'OTHER');
    await runScan(tenant, scanned);
    expect(await documentRow(tenant, scanned)).toMatchObject({
      scanStatus: 'CLEAN',
      scanner: 'sandbox-eicar',
    });
  });

  it('a scan whose retries ran out ends FAILED from the dead-letter queue; a late delivery changes nothing', async () => {
    const { tenant, customer } = await setUp();
    const id = await storeUnscanned(tenant, customer.customerId);
    await runDeadScan(tenant, id);
    expect(await documentRow(tenant, id)).toMatchObject({
      scanStatus: 'FAILED',
      scanner: 'sandbox-eicar',
      status: 'UPLOADED',
    });
    expect((await scanAudits(tenant)).map((row) => row.data)).toEqual([
      { documentId: id, scanStatus: 'FAILED', scanner: 'sandbox-eicar', failure: 'retries_exhausted' },
    ]);
    await runScan(tenant, id);
    expect((await documentRow(tenant, id))?.scanStatus).toBe('FAILED');
  });
});

describe('the minute sweep', () => {
  it('removes objects a deletion or a rejection left behind, and re-sends scans pending over 10 minutes', async () => {
    const { tenant, customer } = await setUp();
    const db = database(tenant);
    const prefix = `t/${tenant.id}/c/${customer.customerId}/`;
    const deleted = await storeUnscanned(tenant, customer.customerId, fixture('valid.pdf'), 'PASSPORT');
    const infected = await storeUnscanned(tenant, customer.customerId, fixture('eicar.pdf'), 'OTHER');
    const lost = await storeUnscanned(tenant, customer.customerId, fixture('valid.pdf'), 'SELFIE');
    // What a deletion and a rejection write before removing the object, which then failed.
    await db
      .update(documents)
      .set({ deletionReason: 'DELETED', deletedAt: new Date().toISOString() })
      .where(eq(documents.id, deleted));
    await db
      .update(documents)
      .set({ status: 'REJECTED', rejectionReason: 'malware_detected', scanStatus: 'INFECTED' })
      .where(eq(documents.id, infected));
    const registered = await requireActiveTenant(env, tenant.id);

    const early = recordingQueue();
    expect(await sweepDocuments({ ...env, DOCUMENT_QUEUE: early.queue }, registered, db, new Date())).toBe(2);
    expect(early.sent).toEqual([]);
    expect((await env.DOCUMENTS.list({ prefix })).objects.map((object) => object.key)).toEqual([
      `${prefix}${lost}`,
    ]);
    for (const id of [deleted, infected])
      expect((await documentRow(tenant, id))?.objectRemovedAt).not.toBeNull();

    const later = recordingQueue();
    const tenMinutesOn = new Date(Date.now() + 10 * 60 * 1000 + 1000);
    expect(await sweepDocuments({ ...env, DOCUMENT_QUEUE: later.queue }, registered, db, tenMinutesOn)).toBe(
      1,
    );
    expect(later.sent).toEqual([{ kind: 'document.scan', tenantId: tenant.id, documentId: lost }]);
    for (const message of later.sent) await deliver<DocumentQueueMessage>(queueNames.documents, message);
    expect((await documentRow(tenant, lost))?.scanStatus).toBe('CLEAN');
    expect(await sweepDocuments({ ...env, DOCUMENT_QUEUE: later.queue }, registered, db, tenMinutesOn)).toBe(
      0,
    );
  });
});

describe('organization roles', () => {
  it('lets the organization’s ADMIN_USER and COMPLIANCE_OFFICER handle its documents, its other roles get 403, another organization’s employee 404', async () => {
    const tenant = await createTenant();
    const organization = await createOrganization(tenant);
    const path = `/customers/${organization.customerId}/documents`;
    const certificate = await uploadDocument(tenant, organization.token, organization.customerId, {
      fields: { documentType: 'CERTIFICATE_OF_INCORPORATION' },
    });
    const officer = await createEmployee(tenant, organization.customerId, 'COMPLIANCE_OFFICER');
    const register = await uploadDocument(tenant, officer, organization.customerId, {
      bytes: fixture('valid.png'),
      fields: { documentType: 'SHAREHOLDER_REGISTER' },
    });
    const listed = await call<{ data: { id: string }[] }>('GET', path, { tenant: tenant.id, token: officer });
    expect(listed.body.data.map((document) => document.id)).toEqual([register, certificate]);
    expect((await download(tenant, officer, certificate)).bytes).toEqual(fixture('valid.pdf'));
    expect(
      (await call('DELETE', `/documents/${register}`, { tenant: tenant.id, token: officer })).status,
    ).toBe(204);

    const reads = [`/documents/${certificate}`, `/documents/${certificate}/content`, path];
    for (const role of ['EMPLOYEE', 'TRANSACTION_APPROVER']) {
      const token = await createEmployee(tenant, organization.customerId, role);
      const refused = await upload(tenant, token, organization.customerId, {
        fields: { documentType: 'FINANCIAL_STATEMENTS' },
      });
      expectProblem(refused, 403, 'forbidden');
      expect(refused.body.organizationRoles).toEqual(['ADMIN_USER', 'COMPLIANCE_OFFICER']);
      for (const read of reads)
        expectProblem(await call('GET', read, { tenant: tenant.id, token }), 403, 'forbidden');
      expectProblem(
        await call('DELETE', `/documents/${certificate}`, { tenant: tenant.id, token }),
        403,
        'forbidden',
      );
    }

    const other = await createOrganization(tenant);
    const stranger = await createEmployee(tenant, other.customerId, 'ADMIN_USER');
    expectProblem(await upload(tenant, stranger, organization.customerId), 404, 'not_found');
    for (const read of reads)
      expectProblem(await call('GET', read, { tenant: tenant.id, token: stranger }), 404, 'not_found');
    expectProblem(
      await call('DELETE', `/documents/${certificate}`, { tenant: tenant.id, token: stranger }),
      404,
      'not_found',
    );
    expect((await download(tenant, organization.token, certificate)).status).toBe(200);
  });
});

describe('lifecycle', () => {
  it('the daily cron marks documents past their expiry date EXPIRED', async () => {
    const { tenant, staff, customer } = await setUp();
    const expired = await uploadDocument(tenant, staff.token, customer.customerId, {
      fields: { documentType: 'PASSPORT', expiresAt: '2020-01-31' },
    });
    const valid = await uploadDocument(tenant, staff.token, customer.customerId, {
      bytes: fixture('valid.png'),
      fields: { documentType: 'NATIONAL_ID', expiresAt: '2099-01-31' },
    });
    const { createScheduledController, createExecutionContext, waitOnExecutionContext } = await import(
      'cloudflare:test'
    );
    const worker = (await import('../../src/index')).default;
    const context = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ cron: '0 3 * * *', scheduledTime: Date.now() }),
      env,
      context,
    );
    await waitOnExecutionContext(context);
    const read = (id: string) => call('GET', `/documents/${id}`, { tenant: tenant.id, token: staff.token });
    expect((await read(expired)).body.status).toBe('EXPIRED');
    expect((await read(valid)).body.status).toBe('UPLOADED');
    const events = await call<{ data: { data: Record<string, unknown> }[] }>(
      'GET',
      '/events?type=document.expired',
      {
        tenant: tenant.id,
        token: staff.token,
      },
    );
    expect(events.body.data.map((event) => event.data.documentId)).toEqual([expired]);
  });

  it('deletes a document to a tombstone and its object, unless a verification relies on it', async () => {
    const { tenant, staff, customer } = await setUp();
    const used = await uploadDocument(tenant, staff.token, customer.customerId);
    const unused = await uploadDocument(tenant, staff.token, customer.customerId, {
      bytes: fixture('valid.png'),
      fields: { documentType: 'SELFIE' },
    });
    await database(tenant).insert(verificationDocuments).values({
      tenantId: tenant.id,
      verificationId: 'ver_01jd7w3v8m9k2q4r6t8v0x2z4b',
      documentId: used,
      createdAt: new Date().toISOString(),
    });
    expectProblem(
      await call('DELETE', `/documents/${used}`, { tenant: tenant.id, token: staff.token }),
      409,
      'document_in_use',
    );
    expect(
      (await call('DELETE', `/documents/${unused}`, { tenant: tenant.id, token: customer.token })).status,
    ).toBe(204);
    expectProblem(
      await call('GET', `/documents/${unused}`, { tenant: tenant.id, token: staff.token }),
      404,
      'not_found',
    );
    expect(await env.DOCUMENTS.head(objectKeyOf(tenant, customer.customerId, unused))).toBeNull();
    const [tombstone] = await database(tenant).select().from(documents).where(eq(documents.id, unused));
    expect(tombstone).toMatchObject({ deletionReason: 'DELETED' });
    expect(tombstone?.objectRemovedAt).not.toBeNull();
    // Deleted, the same file may be uploaded again.
    await uploadDocument(tenant, staff.token, customer.customerId, {
      bytes: fixture('valid.png'),
      fields: { documentType: 'SELFIE' },
    });
  });
});

describe('GDPR', () => {
  it('exports document metadata with a link to the bytes, never the bytes', async () => {
    const { tenant, staff, customer } = await setUp();
    const id = await uploadDocument(tenant, staff.token, customer.customerId, {
      fields: { documentType: 'PASSPORT', documentNumber: 'X1234567' },
    });
    const exported = await call<{ documents: Record<string, unknown>[] }>(
      'GET',
      `/customers/${customer.customerId}/export`,
      {
        tenant: tenant.id,
        token: staff.token,
      },
    );
    expect(exported.status, exported.text).toBe(200);
    expect(exported.body.documents).toMatchObject([
      {
        id,
        documentType: 'PASSPORT',
        documentNumberLast4: '4567',
        contentUrl: `/v2/customer/documents/${id}/content`,
        deletedAt: null,
      },
    ]);
    expect(exported.text).not.toContain('FinCore test document');
  });

  it('erasure deletes every object under the customer’s prefix and leaves no readable document', async () => {
    const { tenant, staff, customer } = await setUp();
    const first = await uploadDocument(tenant, staff.token, customer.customerId);
    await uploadDocument(tenant, staff.token, customer.customerId, {
      bytes: fixture('valid.png'),
      fields: { documentType: 'SELFIE' },
    });
    const hold = await call('PUT', `/customers/${customer.customerId}/legal-hold`, {
      tenant: tenant.id,
      token: staff.token,
      body: { reason: 'AML record keeping' },
    });
    expect(hold.status, hold.text).toBe(200);
    const refused = await call('POST', `/customers/${customer.customerId}/erasure`, {
      tenant: tenant.id,
      token: staff.token,
      body: {},
    });
    expectProblem(refused, 409, 'legal_hold');
    expect((await download(tenant, staff.token, first)).status).toBe(200);
    expect(
      (
        await call('DELETE', `/customers/${customer.customerId}/legal-hold`, {
          tenant: tenant.id,
          token: staff.token,
        })
      ).status,
    ).toBe(204);

    const erased = await call('POST', `/customers/${customer.customerId}/erasure`, {
      tenant: tenant.id,
      token: staff.token,
      body: {},
    });
    expect(erased.status, erased.text).toBe(200);
    const left = await env.DOCUMENTS.list({ prefix: `t/${tenant.id}/c/${customer.customerId}/` });
    expect(left.objects).toEqual([]);
    expectProblem(
      await call('GET', `/documents/${first}`, { tenant: tenant.id, token: staff.token }),
      404,
      'not_found',
    );
    const rows = await database(tenant)
      .select()
      .from(documents)
      .where(eq(documents.customerId, customer.customerId));
    expect(rows).toHaveLength(2);
    expect(
      rows.every(
        (row) =>
          row.details === null &&
          row.sha256 === null &&
          row.deletionReason === 'CUSTOMER_ERASED' &&
          row.deletedAt !== null,
      ),
    ).toBe(true);
  });
});
