// Starts the Okta, Entra and Google sandboxes (src/sandbox/idp/) loaded with people, and gives each adapter's
// options pointing at them: for the adapters' tests, the offboarding end-to-end test and bench/offboarding.ts.

import type { IdentitySource } from '../../directory/identity-source.js';
import type { RateLimit } from '../../providers/provider.js';
import { EntraSandbox } from '../../sandbox/idp/entra/entra-sandbox.js';
import { GOOGLE_SANDBOX_ADMIN, GoogleSandbox } from '../../sandbox/idp/google/google-sandbox.js';
import { OktaSandbox } from '../../sandbox/idp/okta/okta-sandbox.js';
import type { SandboxSeedPerson } from '../../sandbox/sandbox-seed.js';
import { SandboxServer } from '../../sandbox/sandbox-server.js';
import { outboundIdentitySource } from '../outbound-identity-sources.js';

export interface OutboundIdpSandboxes {
  okta: { sandbox: OktaSandbox; server: SandboxServer };
  entra: { sandbox: EntraSandbox; server: SandboxServer };
  google: { sandbox: GoogleSandbox; server: SandboxServer };
  /** Each source's options, as `identity-sources.json` would hold them. */
  options: Record<'okta' | 'entra' | 'google', Record<string, unknown>>;
  /** The three adapters over the sandboxes. */
  sources(): IdentitySource[];
  stop(): Promise<void>;
}

export async function startOutboundIdpSandboxes(
  people: SandboxSeedPerson[],
  options: { leaversAsActive?: boolean; rateLimit?: RateLimit | null } = {},
): Promise<OutboundIdpSandboxes> {
  const okta = new OktaSandbox();
  const entra = new EntraSandbox();
  const google = new GoogleSandbox();
  const servers = {
    okta: new SandboxServer(okta, { rateLimit: options.rateLimit ?? null }),
    entra: new SandboxServer(entra, { rateLimit: options.rateLimit ?? null }),
    google: new SandboxServer(google, { rateLimit: options.rateLimit ?? null }),
  };
  okta.setUrl(await servers.okta.start());
  entra.setUrl(await servers.entra.start());
  google.setUrl(await servers.google.start());
  for (const sandbox of [okta, entra, google])
    sandbox.load({ people, keys: [] }, options.leaversAsActive ? { leaversAsActive: true } : {});
  const sourceOptions = {
    okta: { orgUrl: servers.okta.url, token: okta.apiToken },
    entra: {
      tenantId: entra.tenantId,
      clientId: entra.clientId,
      clientSecret: entra.clientSecret,
      graphUrl: servers.entra.url,
      loginUrl: servers.entra.url,
    },
    // keyledger's service account, its key file pointing at the sandbox's token endpoint, acting as the admin.
    google: {
      credentials: google.serviceAccountKeyFile(),
      subject: GOOGLE_SANDBOX_ADMIN,
      rootUrl: `${servers.google.url}/`,
    },
  };
  return {
    okta: { sandbox: okta, server: servers.okta },
    entra: { sandbox: entra, server: servers.entra },
    google: { sandbox: google, server: servers.google },
    options: sourceOptions,
    sources: () =>
      (['okta', 'entra', 'google'] as const).map((name) => outboundIdentitySource(name, sourceOptions[name])),
    stop: async () => {
      await Promise.all(Object.values(servers).map((server) => server.stop()));
    },
  };
}
