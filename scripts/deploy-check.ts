/*
 * `npm run deploy:check` (part of `npm test`): builds what `wrangler deploy --env production`
 * would upload, offline (`--dry-run`), and checks that it is production: ENVIRONMENT is
 * `production` and no demo tenant's database is bound. Prints the bundle size and fails when it
 * outgrows the budget, so growth is a decision rather than an accident.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportFailure, runWrangler } from './lib/wrangler.ts';

/** Measured 3,273 KiB raw / 774 KiB gzipped (wrangler 4.156); Workers' paid-plan limit is 10 MiB gzipped. */
const BUDGET_GZIP_KIB = 1024;

async function main(): Promise<void> {
  const outdir = mkdtempSync(join(tmpdir(), 'fincore-deploy-check-'));
  try {
    const output = await runWrangler(['deploy', '--dry-run', '--env', 'production', '--outdir', outdir]);
    const bindings = output.slice(output.indexOf('Your Worker has access to the following bindings'));
    const failures = [
      ...(bindings.includes('env.ENVIRONMENT ("production")') ? [] : ['ENVIRONMENT is not "production"']),
      ...(/TENANT_DB_DEMO_/.test(bindings) ? ['a demo tenant database is bound'] : []),
    ];
    const size = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
    if (!size) failures.push('wrangler printed no upload size');
    else if (Number(size[2]) > BUDGET_GZIP_KIB) {
      failures.push(`the bundle is ${size[2]} KiB gzipped, over the ${BUDGET_GZIP_KIB} KiB budget`);
    }
    if (failures.length > 0)
      throw new Error(`wrangler deploy --dry-run --env production: ${failures.join('; ')}\n${output}`);
    console.log(
      `deploy:check: production build ${size?.[1]} KiB, ${size?.[2]} KiB gzipped (budget ${BUDGET_GZIP_KIB} KiB)`,
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

main().catch(reportFailure);
