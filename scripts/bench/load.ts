/*
 * Drives one phase of a scenario with autocannon, in this process. workerd is a process of its
 * own, so on a machine with two cores or more the generator and the server each have one.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { type ApiRequest, clientIp, requestBody, requestHeaders, requestPath } from './api.ts';
import { SCENARIO_HEADER } from './protocol.ts';
import type { RequestSource } from './scenarios.ts';

/**
 * Anonymous callers are rate-limited per client address. On tenant routes each address gets the
 * tenant's limit, raised for the bench tenant, so a few addresses are plenty; scenarios on routes
 * without a tenant choose their own spread (see scenarios.ts).
 */
const DEFAULT_ADDRESSES = 16;

export interface PhaseOptions {
  origin: string;
  /** Sent in the scenario header: the worker counts binding calls under it. */
  label: string;
  source: RequestSource;
  /** Numbers the requests across phases, so a request's data (e.g. an email) is never repeated. */
  sequence: { next: number };
  /** A phase lasts so long, or until so many requests have been answered. */
  length: { seconds: number } | { requests: number };
  connections: number;
}

export interface PhaseResult {
  responses: number;
  seconds: number;
  /** Milliseconds from sending to the last byte of the response, one entry per response. */
  latenciesMs: number[];
  statuses: Map<number, number>;
  /** Connection errors and timeouts. */
  failures: number;
  /** CPU time this process spent (the load generator), as a share of the phase's wall time. */
  generatorCpuShare: number;
}

function bodyOf(request: ApiRequest): string | Buffer {
  const body = requestBody(request) ?? '';
  return typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

function toAutocannon(label: string, request: ApiRequest) {
  return {
    method: request.method,
    path: requestPath(request),
    headers: { ...requestHeaders(request), [SCENARIO_HEADER]: label },
    ...(request.body === undefined && !request.bytes ? {} : { body: bodyOf(request) }),
  };
}

export async function runPhase(options: PhaseOptions): Promise<PhaseResult> {
  const { source, sequence, label } = options;
  const latenciesMs: number[] = [];
  const statuses = new Map<number, number>();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const instance = autocannon({
    url: options.origin,
    connections: options.connections,
    ...('seconds' in options.length
      ? { duration: options.length.seconds }
      : { amount: options.length.requests }),
    timeout: 30,
    requests: [
      {
        // `defaults` carries the host and port autocannon parsed from the URL.
        setupRequest: (defaults) => {
          const n = sequence.next++;
          return {
            ...defaults,
            ...toAutocannon(label, { clientIp: clientIp(n % DEFAULT_ADDRESSES), ...source.next(n) }),
          };
        },
        ...(source.onResponse
          ? { onResponse: (_status: number, body: string) => source.onResponse?.(body) }
          : {}),
      },
    ],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, latencyMs: number) => {
    latenciesMs.push(latencyMs);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  });
  const result = await instance;
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    responses: latenciesMs.length,
    seconds,
    latenciesMs,
    statuses,
    failures: result.errors + result.timeouts,
    generatorCpuShare: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}
