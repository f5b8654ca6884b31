/*
 * `npm run keys:rotate [-- --remote]`: a new ES256 key signs access tokens from now on, and the
 * current key stays in the JWKS as `previous`, so tokens it signed keep verifying until they
 * expire. The key before that is dropped: rotate again only after 15 minutes (10 of token
 * lifetime, 5 of JWKS caching).
 *
 * Local: rewrites JWT_SIGNING_KEYS in `.dev.vars`; restart `npm start` to load it.
 * --remote: Cloudflare secrets cannot be read back, so the current value comes from the
 * JWT_SIGNING_KEYS environment variable (exported from wherever you keep it); the new value is
 * written to `.dev/jwt-signing-keys.json` (mode 600) and the `wrangler secret put` step printed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readDevVars, replaceDevVar } from './lib/dev-vars.ts';
import { rotateSigningKeys } from './lib/signing-keys.ts';
import { projectRoot } from './lib/wrangler.ts';

const DEV_VARS_PATH = join(projectRoot, '.dev.vars');
const REMOTE_OUTPUT_PATH = join(projectRoot, '.dev', 'jwt-signing-keys.json');

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { remote: { type: 'boolean', default: false } } });
  const source = values.remote ? process.env.JWT_SIGNING_KEYS : readDevVars(DEV_VARS_PATH).JWT_SIGNING_KEYS;
  if (!source) {
    fail(
      values.remote
        ? 'Set JWT_SIGNING_KEYS to the value currently deployed (secrets cannot be read back from Cloudflare).'
        : `${DEV_VARS_PATH} has no JWT_SIGNING_KEYS; run npm start first.`,
    );
  }
  const rotated = await rotateSigningKeys(source);
  const summary = `new key ${rotated.kid}; ${rotated.previousKid} stays in the JWKS as previous${
    rotated.droppedKid ? `; ${rotated.droppedKid} is dropped` : ''
  }`;

  if (!values.remote) {
    replaceDevVar(DEV_VARS_PATH, 'JWT_SIGNING_KEYS', rotated.value);
    console.log(`• .dev.vars: ${summary}.\n• Restart npm start to sign with it.`);
    return;
  }
  mkdirSync(join(projectRoot, '.dev'), { recursive: true });
  writeFileSync(REMOTE_OUTPUT_PATH, rotated.value, { mode: 0o600 });
  console.log(
    [
      `• ${summary}.`,
      `• Written to ${REMOTE_OUTPUT_PATH} (mode 600). Deploy it with:`,
      '',
      `    npx wrangler secret put JWT_SIGNING_KEYS < ${REMOTE_OUTPUT_PATH}`,
      '',
      '• Then keep the value where you keep secrets (the next rotation needs it) and delete the file.',
    ].join('\n'),
  );
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
