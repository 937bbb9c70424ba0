// `--verify`: asks the provider whether a leaked secret still works, through its identify-self call
// (Provider.verify). Providers come from the provider table (src/providers/provider-table.ts), looked up by the
// rule's provider name; it is loaded at run time so the scanner does not depend on any adapter at build time.
import { UsageError } from '../../errors/keyledger-error.js';
import type { Provider } from '../../providers/provider.js';
import { systemClock } from '../../runtime/clock.js';
import type { LivenessCheck } from '../scan-pipeline.js';

type ProviderFactory = (name: string) => Provider | undefined;

/** The shapes of provider table we accept: a `createProvider(name, …)` function or a name-keyed table. */
function factoryFrom(module: Record<string, unknown>, env: NodeJS.ProcessEnv): ProviderFactory | undefined {
  const context = { clock: systemClock };
  const create = module.createProvider;
  if (typeof create === 'function') {
    return (name) => (create as (n: string, o: unknown, c: unknown) => Provider | undefined)(name, { env }, context);
  }
  const table = module.providerTable;
  if (table && typeof table === 'object') {
    return (name) => {
      const entry = table instanceof Map ? table.get(name) : (table as Record<string, unknown>)[name];
      return typeof entry === 'function'
        ? (entry as (o: unknown, c: unknown) => Provider)({ env }, context)
        : undefined;
    };
  }
  return undefined;
}

export async function providerLivenessCheck(env: NodeJS.ProcessEnv): Promise<LivenessCheck> {
  const tablePath = '../../providers/provider-table.js';
  let module: Record<string, unknown>;
  try {
    module = (await import(tablePath)) as Record<string, unknown>;
  } catch {
    throw new UsageError(
      '--verify needs the provider table (src/providers/provider-table.ts), which this build does not have yet',
    );
  }
  const factory = factoryFrom(module, env);
  if (!factory) throw new UsageError('--verify: the provider table exports neither createProvider nor providerTable');
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
