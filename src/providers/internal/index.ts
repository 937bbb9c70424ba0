// Keys for the organisation's own services: the provider's declaration, read by the provider table
// (providers/provider-table.ts) without loading the adapter, and by the adapter base (provider-adapter.ts).
import { ConfigError } from '../../errors/keyledger-error.js';
import { defineProvider } from '../provider-registration.js';
import { INTERNAL_CAPABILITIES, INTERNAL_PROVIDER_NAME, INTERNAL_RATE_LIMIT } from './internal-constants.js';
import { internalProviderOptionsSchema } from './internal-schemas.js';

export const internalProviderRegistration = defineProvider({
  name: INTERNAL_PROVIDER_NAME,
  optionsSchema: internalProviderOptionsSchema,
  capabilities: INTERNAL_CAPABILITIES,
  rateLimit: INTERNAL_RATE_LIMIT,
  // Keys live in the operational store: nothing to point at, no credential to give.
  needsNoOptions: true,
  load: async () => {
    const { InternalProvider, deriveVerificationKey } = await import('./internal-provider.js');
    return (options, context) => {
      if (!context.operationalDb || !context.fingerprintKey) {
        throw new ConfigError(
          'the internal provider needs the operational store and the fingerprint key: open it through the app (src/app/keyledger-app.ts)',
          { code: 'E_PROVIDER_CONFIG' },
        );
      }
      return new InternalProvider({
        db: context.operationalDb,
        verificationKey: deriveVerificationKey(context.fingerprintKey),
        clock: context.clock,
        options,
      });
    };
  },
});
