// The composition root: opens what the services need — the registry workspace, the operational store, the event
// log, the fingerprint key, secret stores and providers by name — from the config and the environment. The CLI
// and the server both build their services from here; nothing else wires adapters.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type OperationalStore, openOperationalStore } from '../db/operational-store.js';
import { resolveOperationalStoreOptions } from '../db/operational-store-location.js';
import { ConfigError } from '../errors/keyledger-error.js';
import { EventLog } from '../events/event-log.js';
import { IdempotencyRecords } from '../lifecycle/idempotency-records.js';
import { KeyIssuer } from '../lifecycle/key-issuance.js';
import { KeyRevoker } from '../lifecycle/key-revocation.js';
import {
  createRotationServices,
  type RotationServiceOptions,
  type RotationServices,
} from '../lifecycle/rotation/rotation-services.js';
import { deriveVerificationKey, InternalProvider } from '../providers/internal/internal-provider.js';
import type { Provider } from '../providers/provider.js';
import { createProvider, providerNames } from '../providers/provider-table.js';
import { openRegistryWorkspace, type RegistryWorkspace } from '../registry/registry-workspace.js';
import { RegistryWriter } from '../registry/registry-writer.js';
import type { Clock } from '../runtime/clock.js';
import { type FingerprintKey, loadFingerprintKey } from '../secrets/secret-fingerprint.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { createSecretStore, DEFAULT_SECRET_STORE_KIND } from '../secrets/secret-store-table.js';
import type { Logger } from '../telemetry/logger.js';

export interface KeyledgerAppOptions {
  registryDir: string;
  env: NodeJS.ProcessEnv;
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
  dataDir: string;
  provider(name: string): Provider;
  secretStore(name: string): SecretStore;
  issuer(): KeyIssuer;
  revoker(): KeyRevoker;
  /** The rotation journal, rotator, scheduler, controller, ticket desk and metrics (src/lifecycle/rotation/). */
  rotation(options?: RotationServiceOptions): RotationServices;
  close(): Promise<void>;
}

export const FINGERPRINT_KEY_FILE_NAME = 'fingerprint.key';

export async function openKeyledgerApp(options: KeyledgerAppOptions): Promise<KeyledgerApp> {
  const workspace = await openRegistryWorkspace(options.registryDir);
  const providerOptionsFromFile = await readProvidersFile(options.env);
  const location = resolveOperationalStoreOptions({ env: options.env, cwd: options.cwd });
  const fingerprintKey = await loadFingerprintKey({
    env: options.env,
    keyFile: join(location.dataDir, FINGERPRINT_KEY_FILE_NAME),
  });
  const operational = await openOperationalStore(location);
  const events = new EventLog(operational.db, options.clock);
  const writer = new RegistryWriter({ root: workspace.root, config: workspace.config, env: options.env });
  const providers = new Map<string, Provider>(Object.entries(options.providerOverrides ?? {}));
  const stores = new Map<string, SecretStore>(Object.entries(options.storeOverrides ?? {}));
  const context = {
    env: options.env,
    cwd: options.cwd,
    dataDir: location.dataDir,
    clock: options.clock,
    operationalDb: operational.db,
  };

  const provider = (name: string): Provider => {
    let found = providers.get(name);
    if (found) return found;
    const fromFile = providerOptionsFromFile[name];
    const configured =
      fromFile || workspace.config.providers[name] ? { ...fromFile, ...workspace.config.providers[name] } : undefined;
    if (name === 'internal') {
      found = new InternalProvider({
        db: operational.db,
        verificationKey: deriveVerificationKey(fingerprintKey.key),
        clock: options.clock,
        ...(configured ? { options: configured as Record<string, string> } : {}),
      });
    } else if (configured) {
      found = createProvider(name, configured, { clock: options.clock });
    } else {
      throw new ConfigError(
        `provider "${name}" is not configured: add its options (base URL, credentials) under \`providers.${name}\` in keyledger.config.yaml; available adapters: internal, ${providerNames().join(', ')}`,
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
    stores.set(name, found);
    return found;
  };

  return {
    workspace,
    operational,
    events,
    fingerprintKey,
    writer,
    dataDir: location.dataDir,
    provider,
    secretStore,
    issuer: () =>
      new KeyIssuer({
        providers: provider,
        stores: secretStore,
        writer,
        events,
        idempotency: new IdempotencyRecords(operational.db, options.clock),
        fingerprintKey,
        policy: workspace.config.policy,
        ...(workspace.people ? { people: workspace.people } : {}),
        clock: options.clock,
        ...(options.logger ? { logger: options.logger } : {}),
      }),
    revoker: () =>
      new KeyRevoker({
        providers: provider,
        stores: secretStore,
        writer,
        events,
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
          ...(workspace.people ? { people: workspace.people } : {}),
          providers: provider,
          stores: secretStore,
          fingerprintKey,
          clock: options.clock,
          env: options.env,
          cwd: options.cwd,
        },
        rotationOptions,
      ),
    close: () => operational.close(),
  };
}

/**
 * Provider options kept outside the registry (credentials have no place in it): the JSON file named by
 * `KEYLEDGER_PROVIDERS_FILE`, either `{ "<provider>": { ...options } }` or the sandbox's `sandbox.json` with a
 * `providers` object. The registry config's own `providers` section is laid over it.
 */
async function readProvidersFile(env: NodeJS.ProcessEnv): Promise<Record<string, Record<string, unknown>>> {
  const file = env.KEYLEDGER_PROVIDERS_FILE;
  if (!file) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`KEYLEDGER_PROVIDERS_FILE=${file}: ${(error as Error).message}`, {
      code: 'E_PROVIDER_CONFIG',
    });
  }
  const object = (parsed as { providers?: unknown }).providers ?? parsed;
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    throw new ConfigError(`KEYLEDGER_PROVIDERS_FILE=${file}: expected an object of provider options`, {
      code: 'E_PROVIDER_CONFIG',
    });
  }
  return object as Record<string, Record<string, unknown>>;
}
