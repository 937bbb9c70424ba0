// A real issuance setup for tests: a git registry in a temp dir, the operational store (SQLite or PostgreSQL),
// the event log, the internal provider and the embedded secret store — plus switches that make one step fail, to
// test rollback at every point. The faults wrap the real parts; nothing is simulated.
import { randomBytes } from 'node:crypto';
import type { OperationalStore } from '../../db/operational-store.js';
import { ProviderError } from '../../errors/provider-error.js';
import { type AppendEventInput, EventLog } from '../../events/event-log.js';
import { deriveVerificationKey, InternalProvider } from '../../providers/internal/internal-provider.js';
import type { CreateKeyRequest, Provider, ProviderKeyRef } from '../../providers/provider.js';
import { defaultRegistryConfig } from '../../registry/registry-config.js';
import { RegistryWriter } from '../../registry/registry-writer.js';
import { GIT_TEST_ENV, makeRegistry } from '../../registry/test-support/registry-fixtures.js';
import { fixedClock } from '../../runtime/clock.js';
import type { FingerprintKey } from '../../secrets/secret-fingerprint.js';
import type { PutSecretOptions, SecretStore } from '../../secrets/secret-store.js';
import { createSecretStore } from '../../secrets/secret-store-table.js';
import type { SecretValue } from '../../secrets/secret-value.js';
import { IdempotencyRecords } from '../idempotency-records.js';
import { type IssueKeyRequest, KeyIssuer } from '../key-issuance.js';
import { KeyRevoker } from '../key-revocation.js';
import { RevocationJournal } from '../revocation-journal.js';

export interface Faults {
  providerCreate?: boolean;
  providerRevoke?: boolean;
  /** The provider's cheap reads (lastUsed) refuse: bad credentials. */
  providerRead?: boolean;
  storePut?: boolean;
  storeGet?: boolean;
  storeDelete?: boolean;
  eventAppend?: boolean;
  /** Appending the `revoked` event (inside the revocation journal's transaction) fails. */
  revokedEvent?: boolean;
}

export async function issuanceHarness(operational: OperationalStore) {
  const root = await makeRegistry({}, { git: true });
  const clock = fixedClock('2026-11-23T12:00:00Z');
  const faults: Faults = {};
  const fingerprintKey: FingerprintKey = { version: 'v1', key: randomBytes(32) };
  const internal = new InternalProvider({
    db: operational.db,
    verificationKey: deriveVerificationKey(fingerprintKey.key),
    clock,
  });
  const provider: Provider = Object.assign(Object.create(internal) as Provider, {
    name: 'internal',
    capabilities: () => internal.capabilities(),
    rateLimit: () => internal.rateLimit(),
    list: (options?: { account?: string }) => internal.list(options),
    verify: (secret: SecretValue) => internal.verify(secret),
    lastUsed: async (ref: ProviderKeyRef) => {
      if (faults.providerRead)
        throw new ProviderError('E_PROVIDER_AUTH', 'internal', 'injected fault: credentials refused');
      return internal.lastUsed(ref);
    },
    create: async (request: CreateKeyRequest) => {
      if (faults.providerCreate) throw new Error('injected fault: provider create refused');
      return internal.create(request);
    },
    revoke: async (ref: ProviderKeyRef) => {
      if (faults.providerRevoke) throw new Error('injected fault: provider revoke refused');
      return internal.revoke(ref);
    },
  });
  const embedded = createSecretStore(
    'embedded',
    {},
    {
      env: { KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64') },
      cwd: root,
      clock,
      operationalDb: operational.db,
    },
  );
  const store: SecretStore = Object.assign(Object.create(embedded) as SecretStore, {
    kind: 'embedded',
    put: async (path: string, value: SecretValue, options: PutSecretOptions) => {
      if (faults.storePut) throw new Error('injected fault: store write refused');
      return embedded.put(path, value, options);
    },
    delete: async (path: string) => {
      if (faults.storeDelete) throw new Error('injected fault: store delete refused');
      return embedded.delete(path);
    },
    get: async (...args: Parameters<SecretStore['get']>) => {
      if (faults.storeGet) throw new Error('injected fault: store unreachable');
      return embedded.get(...args);
    },
    exists: embedded.exists.bind(embedded),
    // The preflight's probe reaches the real store: the faults above are a store failing mid-issue, after it.
    checkWritable: embedded.checkWritable.bind(embedded),
    versions: embedded.versions.bind(embedded),
    promote: embedded.promote.bind(embedded),
    discardPending: embedded.discardPending.bind(embedded),
  });
  class FaultyEventLog extends EventLog {
    override async append(input: AppendEventInput) {
      if (faults.eventAppend && input.type === 'issued') throw new Error('injected fault: event log unavailable');
      return super.append(input);
    }
    override async appendWithin(trx: Parameters<EventLog['appendWithin']>[0], inputs: readonly AppendEventInput[]) {
      if (faults.revokedEvent && inputs.some((input) => input.type === 'revoked'))
        throw new Error('injected fault: event log unavailable');
      return super.appendWithin(trx, inputs);
    }
  }
  const events = new FaultyEventLog(operational.db, clock);
  const config = defaultRegistryConfig();
  const writer = new RegistryWriter({ root, config, env: GIT_TEST_ENV });
  const issuer = new KeyIssuer({
    providers: (name) => {
      if (name !== 'internal') throw new Error(`no provider ${name}`);
      return provider;
    },
    stores: () => store,
    writer,
    events,
    idempotency: new IdempotencyRecords(operational.db, clock),
    fingerprintKey,
    policy: config.policy,
    clock,
  });
  const journal = new RevocationJournal(operational.db, clock);
  const revoker = new KeyRevoker({ providers: () => provider, stores: () => store, writer, events, journal });
  return {
    root,
    clock,
    faults,
    fingerprintKey,
    internal,
    store,
    events,
    writer,
    issuer,
    revoker,
    journal,
    operational,
  };
}

export const BASE_REQUEST: IssueKeyRequest = {
  provider: 'internal',
  team: 'payments',
  owner: 'alice@example.com',
  purpose: 'Webhook signing for the payments service',
  permissions: ['webhooks:write'],
  actor: 'test:suite',
};
