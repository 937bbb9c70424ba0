// A real rotation world for tests, the crash test and the bench: a git registry, the operational store (SQLite or
// PostgreSQL), the embedded secret store, the internal provider, keys issued through KeyIssuer, and a sandbox
// consumer using them. Nothing is mocked; `rotator()` builds a KeyRotator over all of it.
import { randomBytes } from 'node:crypto';
import type { OperationalStore } from '../../../db/operational-store.js';
import { EventLog } from '../../../events/event-log.js';
import { deriveVerificationKey, InternalProvider } from '../../../providers/internal/internal-provider.js';
import type { Provider } from '../../../providers/provider.js';
import { defaultRegistryConfig } from '../../../registry/registry-config.js';
import { RegistryWriter } from '../../../registry/registry-writer.js';
import { GIT_TEST_ENV, makeRegistry } from '../../../registry/test-support/registry-fixtures.js';
import { type Clock, systemClock } from '../../../runtime/clock.js';
import { ConsumerSandbox } from '../../../sandbox/consumer/consumer-sandbox.js';
import {
  MasterKeyring,
  masterKeyFromBytes,
  staticMasterKeySource,
} from '../../../secrets/embedded/embedded-keyring.js';
import { EmbeddedSecretStore } from '../../../secrets/embedded/embedded-secret-store.js';
import type { FingerprintKey } from '../../../secrets/secret-fingerprint.js';
import type { SecretStore } from '../../../secrets/secret-store.js';
import { IdempotencyRecords } from '../../idempotency-records.js';
import { KeyIssuer } from '../../key-issuance.js';
import { createConsumerConfirmers } from '../consumers/consumer-confirmer-table.js';
import { KeyRotator, type KeyRotatorDependencies, type RotationOptions } from '../key-rotator.js';
import type { DueKey } from '../rotation-due.js';
import { RotationJournal } from '../rotation-journal.js';
import { RotationMetrics } from '../rotation-metrics.js';

export interface RotationWorld {
  root: string;
  clock: Clock;
  operational: OperationalStore;
  events: EventLog;
  writer: RegistryWriter;
  journal: RotationJournal;
  provider: InternalProvider;
  store: SecretStore;
  fingerprintKey: FingerprintKey;
  consumer: ConsumerSandbox;
  metrics: RotationMetrics;
  keyIds: string[];
  /** Issues more keys (any provider of the world) the way `keyledger issue` does. */
  issuer: KeyIssuer;
  providers: (name: string) => Provider;
  rotator(overrides?: Partial<KeyRotatorDependencies> & { options?: Partial<RotationOptions> }): KeyRotator;
  /** The registry entries of `keyIds`, as the due keys a scheduler run takes (due now, on schedule). */
  dueNow(keyIds: string[]): Promise<DueKey[]>;
  stop(): Promise<void>;
}

export interface RotationWorldOptions {
  operational: OperationalStore;
  keys?: number;
  /** Permissions each key is issued with (and its consumer requires). */
  permissions?: string[];
  /** `http` (the sandbox consumer's probe, default) or `none` (no consumed_by). */
  consumers?: 'http' | 'none';
  clock?: Clock;
  /** Secrets for the world: pass the same ones to reopen a world in another process. */
  fingerprintKey?: FingerprintKey;
  masterKey?: Buffer;
  root?: string;
  consumerRefreshMs?: number;
  extraProviders?: Record<string, Provider>;
}

export async function createRotationWorld(options: RotationWorldOptions): Promise<RotationWorld> {
  const clock = options.clock ?? systemClock;
  const fingerprintKey = options.fingerprintKey ?? { version: 'v1', key: randomBytes(32) };
  const keyring = new MasterKeyring(masterKeyFromBytes(options.masterKey ?? randomBytes(32), 'test'));
  const db = options.operational.db;
  const root = options.root ?? (await makeRegistry({ 'keys/.keep': '' }, { git: true }));
  const events = new EventLog(db, clock);
  const writer = new RegistryWriter({ root, config: defaultRegistryConfig(), env: GIT_TEST_ENV });
  const journal = new RotationJournal(db, clock, events);
  const provider = new InternalProvider({ db, verificationKey: deriveVerificationKey(fingerprintKey.key), clock });
  const store = new EmbeddedSecretStore({ db, keys: staticMasterKeySource(keyring), clock });
  const providers = (name: string): Provider => {
    if (name === 'internal') return provider;
    const extra = options.extraProviders?.[name];
    if (extra) return extra;
    throw new Error(`no provider ${name} in this world`);
  };
  const consumer = new ConsumerSandbox({ keys: [], refreshMs: options.consumerRefreshMs ?? 20, callMs: 20 });
  await consumer.start();
  const metrics = new RotationMetrics();
  const permissions = options.permissions ?? ['orders:read'];
  const issuer = new KeyIssuer({
    providers,
    stores: () => store,
    writer,
    events,
    idempotency: new IdempotencyRecords(db, clock),
    fingerprintKey,
    policy: defaultRegistryConfig().policy,
    clock,
  });
  const keyIds: string[] = [];
  for (let index = 0; index < (options.keys ?? 0); index++) {
    const keyId = `svc-${index}-internal-key`;
    const path = `team/${keyId}`;
    await issuer.issue({
      provider: 'internal',
      team: 'payments',
      owner: 'alice@example.com',
      purpose: `service ${index} calls the orders API`,
      permissions,
      account: `svc-${index}`,
      keyId,
      store: { name: 'default', path },
      rotationFrequencyDays: 30,
      ...(options.consumers === 'none'
        ? {}
        : { consumers: [{ service: `svc-${index}`, probe: consumer.probeFor(keyId) }] }),
      actor: 'test',
    });
    await consumer.add({ keyId, store, path, provider, account: `svc-${index}`, requiredPermissions: permissions });
    keyIds.push(keyId);
  }
  return {
    root,
    clock,
    operational: options.operational,
    events,
    writer,
    journal,
    provider,
    store,
    fingerprintKey,
    consumer,
    metrics,
    keyIds,
    issuer,
    providers,
    rotator: (overrides = {}) =>
      new KeyRotator({
        providers,
        stores: () => store,
        writer,
        registryRoot: root,
        journal,
        fingerprintKey,
        confirmers: createConsumerConfirmers({ clock, env: process.env }),
        clock,
        metrics,
        gitEnv: GIT_TEST_ENV,
        ...overrides,
        options: {
          confirmTimeoutMs: 10_000,
          confirmPollMs: 10,
          retryBaseMs: 20,
          stepTimeoutMs: 45_000,
          clockSkewMs: 1_000,
          ...overrides.options,
        },
      }),
    dueNow: (ids) =>
      Promise.all(
        ids.map(async (keyId) => {
          const found = await writer.read(keyId);
          if (!found) throw new Error(`no registry entry ${keyId}`);
          return {
            keyId,
            file: found.file,
            entry: found.entry,
            trigger: 'schedule' as const,
            dueAt: new Date(),
            reason: 'test',
          };
        }),
      ),
    stop: () => consumer.stop(),
  };
}
