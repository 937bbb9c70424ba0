// The composition root: opens what the services need — the registry workspace, the operational store, the event
// log, the fingerprint key, secret stores and providers by name — from the config and the environment. The CLI
// and the server both build their services from here; nothing else wires adapters. Local state (operational
// store, master and fingerprint keys, provider credentials) is the registry's: `<registry root>/.keyledger/`, or
// `KEYLEDGER_DATA_DIR` — never the working directory (src/db/operational-store-location.ts).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { providersWithTokenDigests, recordingTokenDigests, TokenDigestStore } from '../audit/token-digests.js';
import { type OperationalStore, openOperationalStore } from '../db/operational-store.js';
import {
  DATA_DIR_VARIABLE,
  resolveOperationalStoreOptions,
  SQLITE_FILE_NAME,
} from '../db/operational-store-location.js';
import { sharedProviderRateLimiters } from '../db/shared-rate-budget.js';
import { CurrentPeople } from '../directory/current-people.js';
import { DirectoryStore } from '../directory/directory-store.js';
import type { PeopleDirectory } from '../directory/people-directory.js';
import { ConfigError } from '../errors/keyledger-error.js';
import type { EventLog } from '../events/event-log.js';
import { openKeyedEventLog } from '../events/keyed-event-log.js';
import { IdempotencyRecords } from '../lifecycle/idempotency-records.js';
import { KeyIssuer } from '../lifecycle/key-issuance.js';
import { KeyRevoker } from '../lifecycle/key-revocation.js';
import { RevocationJournal } from '../lifecycle/revocation-journal.js';
import {
  createRotationServices,
  type RotationServiceOptions,
  type RotationServices,
} from '../lifecycle/rotation/rotation-services.js';
import type { Provider } from '../providers/provider.js';
import { createProvider, providerNames, providerRegistration } from '../providers/provider-table.js';
import { RegistryRemote } from '../registry/registry-remote.js';
import { registryRemoteSettings } from '../registry/registry-remote-settings.js';
import { openRegistryWorkspace, type RegistryWorkspace } from '../registry/registry-workspace.js';
import { RegistryWriter } from '../registry/registry-writer.js';
import type { Clock } from '../runtime/clock.js';
import { MASTER_KEY_FILE_NAME } from '../secrets/embedded/embedded-master-key-source.js';
import { type FingerprintKey, loadFingerprintKey } from '../secrets/secret-fingerprint.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { createSecretStore, DEFAULT_SECRET_STORE_KIND } from '../secrets/secret-store-table.js';
import type { Logger } from '../telemetry/logger.js';

export interface KeyledgerAppOptions {
  /** The registry root (the CLI finds it with src/cli/common-options.ts, registryRootFor). */
  registryDir: string;
  env: NodeJS.ProcessEnv;
  /** Resolves relative paths the user gave (a relative KEYLEDGER_DATA_DIR); not where state is kept. */
  cwd: string;
  clock: Clock;
  /** Providers to use instead of the configured ones (tests, the sandbox). */
  providerOverrides?: Record<string, Provider>;
  /** Secret stores to use instead of the configured ones. */
  storeOverrides?: Record<string, SecretStore>;
  logger?: Logger;
}

export interface KeyledgerApp {
  workspace: RegistryWorkspace;
  operational: OperationalStore;
  events: EventLog;
  fingerprintKey: FingerprintKey;
  writer: RegistryWriter;
  /** The registry's shared remote (KEYLEDGER_REGISTRY_REMOTE or `git.remote`), when there is one. */
  remote?: RegistryRemote;
  dataDir: string;
  provider(name: string): Provider;
  /** The providers with options in the providers file or the registry config (what discovery enumerates). */
  configuredProviders(): string[];
  secretStore(name: string): SecretStore;
  issuer(): KeyIssuer;
  revoker(): KeyRevoker;
  /**
   * The people owners are judged by, now: the people file with the identity sources' signals laid over it, read
   * through to the directory (src/directory/current-people.ts), so a long-running server sees a departure at once.
   */
  people(): Promise<PeopleDirectory | undefined>;
  /** The rotation journal, rotator, scheduler, controller, ticket desk and metrics (src/lifecycle/rotation/). */
  rotation(options?: RotationServiceOptions): RotationServices;
  close(): Promise<void>;
}

export const FINGERPRINT_KEY_FILE_NAME = 'fingerprint.key';
export const PROVIDERS_FILE_VARIABLE = 'KEYLEDGER_PROVIDERS_FILE';
/** Provider options kept beside the registry's other local state when KEYLEDGER_PROVIDERS_FILE is unset. */
export const PROVIDERS_FILE_NAME = 'providers.json';

export async function openKeyledgerApp(options: KeyledgerAppOptions): Promise<KeyledgerApp> {
  const { workspace, remote } = await openWorkspaceAndRemote(options);
  const location = resolveOperationalStoreOptions({
    env: options.env,
    cwd: options.cwd,
    registryRoot: workspace.root,
  });
  const providerOptionsFromFile = await readProvidersFile(options.env, options.cwd, location.dataDir);
  const fingerprintKeyFile = join(location.dataDir, FINGERPRINT_KEY_FILE_NAME);
  const fingerprintKey = await loadFingerprintKey({
    env: options.env,
    keyFile: fingerprintKeyFile,
    // A new key only with a new data folder: beside existing state, the registry's fingerprints were made with a
    // key that is now missing, and a fresh one would silently stop every leak from being attributed.
    create: !holdsState(location.dataDir),
  }).catch((error: unknown) => {
    if (!existsSync(fingerprintKeyFile) && holdsState(location.dataDir)) {
      throw new ConfigError(
        `${location.dataDir} holds this registry's state but no ${FINGERPRINT_KEY_FILE_NAME}: the registry's fingerprints were made with it. Restore it, or set KEYLEDGER_FINGERPRINT_KEY`,
        { code: 'E_FINGERPRINT_KEY', cause: error },
      );
    }
    throw error;
  });
  const operational = await openOperationalStore(location);
  // HMAC'd under the chain key beside the fingerprint key, anchored in the registry repository (src/events/).
  const { events, anchorer } = await openKeyedEventLog({
    db: operational.db,
    clock: options.clock,
    env: options.env,
    dataDir: location.dataDir,
    repository: workspace.root,
    ...(options.logger ? { logger: options.logger } : {}),
  }).catch(async (error: unknown) => {
    await operational.close();
    throw error;
  });
  // Owners resolve against the directory: what the identity sources said (SCIM, Okta) laid over the people file,
  // read at each use, so an owner deprovisioned a minute ago (by this process or another replica) is `left` for
  // issuance and rotation's owner-left trigger. Read once here too: a store that cannot answer fails the open.
  const currentPeople = new CurrentPeople(
    workspace.people,
    new DirectoryStore({ db: operational.db, clock: options.clock }),
  );
  const people = () => currentPeople.get();
  await people().catch(async (error) => {
    await operational.close();
    throw error;
  });
  const writer = new RegistryWriter({
    root: workspace.root,
    config: workspace.config,
    env: options.env,
    ...(remote ? { remote } : {}),
  });
  // A long-running process (the server) keeps its clone near the remote; writes fetch first regardless.
  const stopPulling = remote?.startPulling((error) =>
    options.logger?.warn(
      { code: (error as { code?: string }).code, message: (error as Error).message },
      'registry pull failed',
    ),
  );
  const providers = new Map<string, Provider>(Object.entries(options.providerOverrides ?? {}));
  /** The adapters opened here (not the overrides a caller passed in and still owns): flushed at close. */
  const created: Provider[] = [];
  // Every store write of a token for a provider whose audit log names tokens by hash also records that digest
  // (src/audit/token-digests.ts), so `audit-log ingest` can attribute those records.
  const withTokenDigests = (store: SecretStore) =>
    recordingTokenDigests(store, {
      digests: new TokenDigestStore(operational.db),
      providers: providersWithTokenDigests(),
      clock: options.clock,
    });
  const stores = new Map<string, SecretStore>(
    Object.entries(options.storeOverrides ?? {}).map(([name, store]) => [name, withTokenDigests(store)]),
  );
  // The embedded store finds its master key under KEYLEDGER_DATA_DIR: name this registry's data folder explicitly.
  const storeEnv = { ...options.env, [DATA_DIR_VARIABLE]: location.dataDir };
  const context = {
    env: storeEnv,
    cwd: options.cwd,
    dataDir: location.dataDir,
    clock: options.clock,
    operationalDb: operational.db,
  };
  // On PostgreSQL (a fleet's store) every replica paces a provider against one budget in the database, so N replicas
  // stay within the provider's limit together; on SQLite each adapter keeps its own token bucket.
  const rateLimiterFor = sharedProviderRateLimiters(operational.db);
  const providerContext = {
    clock: options.clock,
    operationalDb: operational.db,
    fingerprintKey: fingerprintKey.key,
    ...(rateLimiterFor ? { rateLimiterFor } : {}),
  };

  const provider = (name: string): Provider => {
    let found = providers.get(name);
    if (found) return found;
    const fromFile = providerOptionsFromFile[name];
    const configured =
      fromFile || workspace.config.providers[name] ? { ...fromFile, ...workspace.config.providers[name] } : undefined;
    if (configured || providerRegistration(name)?.needsNoOptions) {
      found = createProvider(name, configured ?? {}, providerContext);
      created.push(found);
    } else {
      throw new ConfigError(
        `provider "${name}" is not configured: add its options (base URL, credentials) under \`providers.${name}\` in keyledger.config.yaml; available adapters: ${providerNames().join(', ')}`,
        { code: 'E_PROVIDER_CONFIG' },
      );
    }
    providers.set(name, found);
    return found;
  };

  const secretStore = (name: string): SecretStore => {
    let found = stores.get(name);
    if (found) return found;
    const configured = workspace.config.stores[name];
    if (configured) {
      const { kind, ...storeOptions } = configured;
      found = createSecretStore(kind, storeOptions, context);
    } else if (name === 'default') {
      found = createSecretStore(DEFAULT_SECRET_STORE_KIND, {}, context);
    } else {
      throw new ConfigError(
        `secret store "${name}" is not configured: add it under \`stores.${name}\` in keyledger.config.yaml`,
        {
          code: 'E_SECRET_STORE_CONFIG',
        },
      );
    }
    found = withTokenDigests(found);
    stores.set(name, found);
    return found;
  };

  return {
    workspace,
    operational,
    events,
    fingerprintKey,
    writer,
    ...(remote ? { remote } : {}),
    dataDir: location.dataDir,
    provider,
    configuredProviders: () =>
      [
        ...new Set([
          ...Object.keys(providerOptionsFromFile),
          ...Object.keys(workspace.config.providers),
          // Adapters that need no options (the internal provider) are always available.
          ...providerNames().filter((name) => providerRegistration(name)?.needsNoOptions),
        ]),
      ].sort(),
    secretStore,
    people,
    issuer: () =>
      new KeyIssuer({
        providers: provider,
        stores: secretStore,
        writer,
        events,
        idempotency: new IdempotencyRecords(operational.db, options.clock),
        fingerprintKey,
        policy: workspace.config.policy,
        people,
        clock: options.clock,
        ...(options.logger ? { logger: options.logger } : {}),
      }),
    revoker: () =>
      new KeyRevoker({
        providers: provider,
        stores: secretStore,
        writer,
        events,
        journal: new RevocationJournal(operational.db, options.clock),
        ...(options.logger ? { logger: options.logger } : {}),
      }),
    rotation: (rotationOptions = {}) =>
      createRotationServices(
        {
          db: operational.db,
          events,
          writer,
          root: workspace.root,
          config: workspace.config,
          people,
          providers: provider,
          stores: secretStore,
          fingerprintKey,
          clock: options.clock,
          env: options.env,
          cwd: options.cwd,
        },
        rotationOptions,
      ),
    close: async () => {
      stopPulling?.();
      // Adapters write what they buffered (the internal provider's last-use times) while the store is still open.
      await Promise.allSettled(created.map(async (opened) => opened.flush?.()));
      // Anchors what this command appended if the anchoring policy says it is time (never throws).
      await anchorer?.close();
      await operational.close();
    },
  };
}

/**
 * The registry workspace, and its remote when one is configured — pulled first when it moved, so a command reads
 * what the other replicas wrote (an unreachable remote is a warning: reads go on from the clone, writes will say).
 */
async function openWorkspaceAndRemote(
  options: KeyledgerAppOptions,
): Promise<{ workspace: RegistryWorkspace; remote?: RegistryRemote }> {
  const workspace = await openRegistryWorkspace(options.registryDir);
  const settings = await registryRemoteSettings({
    config: workspace.config,
    env: options.env,
    root: workspace.root,
    cwd: options.cwd,
  });
  if (!settings) return { workspace };
  const remote = new RegistryRemote(settings, {
    root: workspace.root,
    env: options.env,
    author: { name: workspace.config.git.author_name, email: workspace.config.git.author_email },
  });
  const pulled = await remote.refresh().catch((error: unknown) => {
    options.logger?.warn(
      { code: (error as { code?: string }).code, message: (error as Error).message },
      'registry pull failed; reading the local clone',
    );
    return false;
  });
  return { workspace: pulled ? await openRegistryWorkspace(options.registryDir) : workspace, remote };
}

/** True when the data folder already holds an operational store or a master keyring. */
function holdsState(dataDir: string): boolean {
  return existsSync(join(dataDir, SQLITE_FILE_NAME)) || existsSync(join(dataDir, MASTER_KEY_FILE_NAME));
}

/**
 * Provider options kept outside the registry (credentials have no place in it): the JSON file named by
 * `KEYLEDGER_PROVIDERS_FILE`, or else `<data folder>/providers.json` when it exists; either
 * `{ "<provider>": { ...options } }` or the sandbox's `sandbox.json` with a `providers` object. The registry
 * config's own `providers` section is laid over it.
 */
export async function readProvidersFile(
  env: NodeJS.ProcessEnv,
  cwd: string,
  dataDir: string,
): Promise<Record<string, Record<string, unknown>>> {
  const named = env[PROVIDERS_FILE_VARIABLE];
  const file = named ? resolve(cwd, named) : join(dataDir, PROVIDERS_FILE_NAME);
  const source = named ? `${PROVIDERS_FILE_VARIABLE}=${named}` : file;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    // The default file is optional; a file the user named must be there.
    if (!named && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`${source}: ${(error as Error).message}`, {
      code: 'E_PROVIDER_CONFIG',
    });
  }
  const object = (parsed as { providers?: unknown }).providers ?? parsed;
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    throw new ConfigError(`${source}: expected an object of provider options`, {
      code: 'E_PROVIDER_CONFIG',
    });
  }
  return object as Record<string, Record<string, unknown>>;
}
