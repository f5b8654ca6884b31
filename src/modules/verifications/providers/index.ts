import { sandboxProvider } from './sandbox';
import type { VerificationProvider } from './types';

/**
 * The providers this deployment can use, by name (the `{provider}` of the callback route). A
 * real provider plugs in here: implement `VerificationProvider` and add it (README, Verification).
 */
const providers: Record<string, VerificationProvider> = { sandbox: sandboxProvider };

export function findProvider(name: string): VerificationProvider | undefined {
  return Object.hasOwn(providers, name) ? providers[name] : undefined;
}

/** The provider a tenant's verifications use; only the sandbox is built in. */
export function providerFor(_settings: Record<string, unknown>): VerificationProvider {
  return sandboxProvider;
}
