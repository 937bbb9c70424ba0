// `--verify`: asks the provider whether a leaked secret still works, through its identify-self call
// (Provider.verify). The caller hands in how to build a provider by the rule's provider name — the CLI passes
// the provider table's `createProvider` (src/providers/provider-table.ts) — so the scanner depends on no adapter.
import type { Provider } from '../../providers/provider.js';
import type { LivenessCheck } from '../scan-pipeline.js';

/** Builds the provider registered under `name`; throws or answers undefined when there is none. */
export type LivenessProviderFactory = (name: string) => Provider | undefined;

export function providerLivenessCheck(factory: LivenessProviderFactory): LivenessCheck {
  const providers = new Map<string, Provider | undefined>();
  return async (name, secret) => {
    if (!providers.has(name)) {
      try {
        providers.set(name, factory(name));
      } catch {
        providers.set(name, undefined);
      }
    }
    const provider = providers.get(name);
    if (!provider?.capabilities().verify) return undefined;
    try {
      const result = await provider.verify(secret);
      return {
        live: result.valid,
        ...(result.identity ? { identity: result.identity } : {}),
        ...(result.reason ? { reason: result.reason } : {}),
      };
    } catch (error) {
      // The reason comes from the provider error's message, which never holds the key (provider-error.ts).
      return { live: false, reason: `could not verify: ${(error as Error).message}` };
    }
  };
}
