/*
 * Runs an example journey against the local server:
 *
 *   npm start              # in one terminal: serves http://localhost:8787, writes .dev/demo-credentials.json
 *   npm run example:b2c    # or example:b2b, in another
 *
 * DEMO_CREDENTIALS points at another credentials file; TENANT picks another demo tenant (B2B
 * needs SCT02: demo-pro or demo-enterprise).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { b2bJourney } from './b2b-journey.ts';
import { b2cJourney } from './b2c-journey.ts';

interface DemoCredentials {
  baseUrl: string;
  tenants: { id: string; client: { clientId: string; clientSecret: string } }[];
}

const journeys = { b2c: b2cJourney, b2b: b2bJourney };
const name = process.argv[2] as keyof typeof journeys;
if (!Object.hasOwn(journeys, name)) {
  console.error(`Usage: node examples/run.ts ${Object.keys(journeys).join('|')}`);
  process.exit(2);
}
const credentialsPath =
  process.env.DEMO_CREDENTIALS ?? join(import.meta.dirname, '..', '.dev', 'demo-credentials.json');
let credentials: DemoCredentials;
try {
  credentials = JSON.parse(readFileSync(credentialsPath, 'utf8'));
} catch (error) {
  console.error(`Cannot read ${credentialsPath} (${error}). Run \`npm start\` first.`);
  process.exit(1);
}
const tenant = process.env.TENANT ?? 'demo-pro';
const entry = credentials.tenants.find((candidate) => candidate.id === tenant);
if (!entry) throw new Error(`No tenant '${tenant}' in ${credentialsPath}.`);
await journeys[name]({ baseUrl: credentials.baseUrl, tenant, ...entry.client });
