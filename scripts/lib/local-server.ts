/* Local servers for scripts and tests: ports, readiness, stopping. */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The port `npm start` serves on, 8787 unless PORT moves it; the scripts that call the local server
 * (walkthroughs, tenant:create's hints) read the same variable so they follow it.
 */
export const LOCAL_PORT = Number(process.env.PORT ?? 8787);

/** Resolves when `port` could be bound on `host`, or rejects with the bind error. */
function tryListen(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(address)));
    });
  });
}

/** A port the system reports free on 127.0.0.1 (for a server started right after). */
export function freePort(): Promise<number> {
  return tryListen(0, '127.0.0.1');
}

/** Throws an error naming the port and what it was for when something else already holds it. */
export async function requireFreePort(
  port: number,
  host: string,
  purpose: string,
  hint: string,
): Promise<void> {
  try {
    await tryListen(port, host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new Error(`Port ${port} on ${host} (${purpose}) is already in use. ${hint}`);
    throw error;
  }
}

/** Polls `url` until it answers 2xx; fails early when the server process has exited. */
export async function waitUntilServing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} before answering`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`nothing answered ${url} within ${timeoutMs / 1000} s`);
}

/** Stops a detached server and the processes it started (wrangler's workerd): they share its process group. */
export async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(10_000).then(() => true)]);
  if (timedOut) process.kill(-child.pid, 'SIGKILL');
}
