import { env } from 'cloudflare:test';
import { document } from 'virtual:openapi-contract';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http';
import { contractViolations } from './conformance';
import { contractOperations, type OpenApiDocument } from './openapi';
import {
  type ApiRequest,
  clientAddressesFor,
  describeRequest,
  type RequestContext,
  requestArbitrary,
  send,
} from './requests';
import { createOwner, createResource, hasResourceFactory } from './resources';

/*
 * Property-based fuzzing of every operation of the OpenAPI document: requests generated from the
 * declared parameters and bodies, valid and mutated, sent with real credentials of the fuzz
 * tenant. Whatever is sent, the answer must be a declared status (never a 5xx) with a declared
 * content type and a body valid against the declared schema.
 *
 * `npm test` runs a few requests per operation; `npm run fuzz -- --runs 2000 [--seed 42]` runs more,
 * or replays the seed a failure printed.
 */

declare global {
  namespace Cloudflare {
    interface Env {
      /** Set by `npm run fuzz` (scripts/fuzz.ts) through vitest.config.ts. */
      FUZZ_RUNS: string;
      FUZZ_SEED: string;
    }
  }
}

const DEFAULT_RUNS = 25;
const runs = Number(env.FUZZ_RUNS) || DEFAULT_RUNS;
const seed = env.FUZZ_SEED ? Number(env.FUZZ_SEED) : (Math.random() * 2 ** 31) | 0;
/** Valid requests reach the success paths; mutated ones everything else. */
const VALID_WEIGHT = 1;
const MUTATED_WEIGHT = 2;

const operations = contractOperations(document);
let sent = 0;
const statuses = new Map<string, Map<number, number>>();

afterAll(() => {
  console.log(`fuzz: ${sent} requests to ${operations.length} operations, ${runs} runs each, seed ${seed}`);
  if (!env.FUZZ_RUNS) return;
  for (const [name, counts] of statuses) {
    console.log(
      `  ${name}: ${[...counts]
        .sort(([a], [b]) => a - b)
        .map(([status, count]) => `${status}×${count}`)
        .join(' ')}`,
    );
  }
});

describe('fuzzing every operation of the OpenAPI document', () => {
  it('fuzzes the document the worker serves', async () => {
    const served = await call<OpenApiDocument>('GET', '/openapi.json');
    expect(served.body.paths).toEqual(document.paths);
    expect(served.body.components).toEqual(document.components);
  });

  it.each(operations.map((operation) => [operation.name, operation] as const))(
    '%s',
    async (_, operation) => {
      // A tenant of its own: what one operation's requests change (a session revoked, a setting
      // switched) cannot blunt the requests of the next.
      const owner = await createOwner({ rateLimitPerMinute: 100_000 });
      const context: RequestContext = {
        owner,
        clientAddresses: clientAddressesFor(operation, runs),
        ...(hasResourceFactory(operation) ? { resource: await createResource(operation, owner) } : {}),
      };
      const request = fc.oneof(
        { weight: VALID_WEIGHT, arbitrary: requestArbitrary(document, operation, context, false) },
        { weight: MUTATED_WEIGHT, arbitrary: requestArbitrary(document, operation, context, true) },
      );
      await fc.assert(
        fc.asyncProperty(request, async (input: ApiRequest) => {
          sent += 1;
          const response = await send(input, context);
          const counts = statuses.get(operation.name) ?? new Map<number, number>();
          statuses.set(operation.name, counts.set(response.status, (counts.get(response.status) ?? 0) + 1));
          const violations = contractViolations(operation, response);
          expect(
            violations,
            `replay: npm run fuzz -- --runs ${runs} --seed ${seed}\n${describeRequest(input)}\n→ ${response.status} ${response.headers.get('Content-Type')}\n${response.text.slice(0, 2000)}`,
          ).toEqual([]);
        }),
        { numRuns: runs, seed },
      );
    },
    Math.max(30_000, runs * 1_000),
  );
});
