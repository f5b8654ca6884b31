/*
 * `npm run tpp:certificate -- --roles AISP,PISP --authorization-number PSDGB-FCA-123456`: an
 * eIDAS-style QWAC (or `--qc-type eseal`, a QSealC) of a TPP, for registering one with
 * `POST /tpps` in development. It prints the certificate's PEM on stdout (so `$(…)` takes it) and
 * what it wrote on stderr: the certificate and its key, and the development CA that signs it,
 * made on the first run and reused after, so a tenant can list it as a trust anchor once.
 * Certificates of a real QTSP are never made here; the API marks these `trust: UNVERIFIED`.
 */
import 'reflect-metadata';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as x509 from '@peculiar/x509';
import {
  certificateOptionsOf,
  createTestCa,
  createTppCertificate,
  type TestCa,
} from './lib/tpp-certificates.ts';
import { projectRoot } from './lib/wrangler.ts';

const USAGE = `npm run tpp:certificate -- [options]
  --roles AISP,PISP              TPP roles (AISP, PISP, CBPII), by their PSD2 roles in the certificate; default AISP
  --authorization-number ID      the organizationIdentifier, PSD + country + NCA + number; default PSDGB-FCA-<random>
  --organization NAME            the subject's O; default Example TPP Ltd
  --common-name NAME             the subject's CN; default tpp.example.test
  --nca-name NAME                the NCA's name in the PSD2 statement; default Financial Conduct Authority
  --qc-type web|eseal            a QWAC (web, the default) or a QSealC
  --days N                       valid from yesterday for N days; default 365
  --out DIR                      where the files go; default .dev/tpp (git-ignored)`;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;

async function keyPem(key: CryptoKey): Promise<string> {
  const der = (await crypto.subtle.exportKey('pkcs8', key)) as ArrayBuffer;
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** The development CA of `directory`, made and written there if it has none yet. */
async function developmentCa(directory: string): Promise<{ ca: TestCa; made: boolean }> {
  const certificatePath = join(directory, 'ca.pem');
  const keyPath = join(directory, 'ca.key.pem');
  if (existsSync(certificatePath) && existsSync(keyPath)) {
    const certificate = new x509.X509Certificate(readFileSync(certificatePath, 'utf8'));
    const [keyDer] = x509.PemConverter.decode(readFileSync(keyPath, 'utf8'));
    const privateKey = await crypto.subtle.importKey('pkcs8', keyDer as ArrayBuffer, ALGORITHM, true, [
      'sign',
    ]);
    const publicKey = await certificate.publicKey.export(ALGORITHM, ['verify']);
    return {
      ca: { certificate, pem: certificate.toString('pem'), keys: { privateKey, publicKey } },
      made: false,
    };
  }
  const ca = await createTestCa('FinCore Development QTSP CA');
  writeFileSync(certificatePath, `${ca.pem}\n`);
  writeFileSync(keyPath, await keyPem(ca.keys.privateKey), { mode: 0o600 });
  return { ca, made: true };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      roles: { type: 'string' },
      'authorization-number': { type: 'string' },
      organization: { type: 'string' },
      'common-name': { type: 'string' },
      'nca-name': { type: 'string' },
      'qc-type': { type: 'string' },
      days: { type: 'string' },
      out: { type: 'string', default: join(projectRoot, '.dev', 'tpp') },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const options = certificateOptionsOf(values);
  const directory = values.out;
  mkdirSync(directory, { recursive: true });
  const { ca, made } = await developmentCa(directory);
  const certificate = await createTppCertificate({ ...options, ca });
  const base = join(directory, certificate.organizationIdentifier);
  writeFileSync(`${base}.pem`, `${certificate.pem}\n`);
  writeFileSync(`${base}.key.pem`, await keyPem(certificate.privateKey), { mode: 0o600 });
  console.log(certificate.pem);
  console.error(
    [
      `organizationIdentifier  ${certificate.organizationIdentifier} (register with this authorizationNumber)`,
      `PSD2 roles              ${options.roles?.join(', ')}`,
      `SHA-256 fingerprint     ${certificate.sha256}`,
      `valid until             ${options.notAfter?.toISOString()}`,
      `certificate and key     ${base}.pem, ${base}.key.pem`,
      `signed by               ${join(directory, 'ca.pem')}${made ? ' (new)' : ''}`,
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  console.error(`\n${USAGE}`);
  process.exit(1);
});
