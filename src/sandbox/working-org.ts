// A working organisation, what `keyledger start` (npm start) runs: the provider sandboxes loaded with a generated
// organisation, a Vault sandbox holding the current secret of every registered key at its `vault_path` (written
// by the Vault store adapter itself, with the metadata the rotator reads), a consumer sandbox that holds and uses
// the rotatable keys and answers their probes, and the registry written to match — its config naming that Vault
// (token in the data folder), the tickets folder, and each entry's probes — as a git repository whose local state
// (`<registry>/.keyledger/`: providers.json with the sandbox credentials, the Vault token, the fingerprint key)
// never enters the registry. Every key the registry names can be rotated, or is ticketed when its kind is manual.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors/keyledger-error.js';
import { runGit } from '../git/git-command.js';
import { keyCapabilities, type Provider } from '../providers/provider.js';
import { createProvider } from '../providers/provider-table.js';
import type { KeyEntryInput } from '../registry/key-entry-schema.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { type FingerprintKey, fingerprintSecret } from '../secrets/secret-fingerprint.js';
import { SecretValue } from '../secrets/secret-value.js';
import { VaultSecretStore, vaultSecretStoreOptionsSchema } from '../secrets/vault/index.js';
import { ConsumerSandbox } from './consumer/consumer-sandbox.js';
import type { OrgKey } from './org/org-model.js';
import type { OrgProfile } from './org/org-profiles.js';
import { type OrgWriteResult, orgVaultPath, writeOrg } from './org/org-writer.js';
import { type RunningSandbox, startSandbox, writeSandboxFile } from './start-sandbox.js';
import { startVaultSandbox, type VaultSandbox } from './vault/vault-sandbox.js';

/** Files in `<registry>/.keyledger/` (the registry's data folder, git-ignored). */
export const WORKING_ORG_DATA_FILES = { providers: 'providers.json', vaultToken: 'vault-token' } as const;

/** The Vault sandbox's KV version 2 mount, where `vault_path` points. */
const VAULT_MOUNT = 'secret';

/**
 * How long an answer may take from a sandbox (provider, Vault) or the consumer. They all share one process, which a
 * busy machine starves for seconds at a time: the adapters' 5-10 s defaults would time out calls that succeed.
 */
const SANDBOX_TIMEOUT_MS = 60_000;
const PROBE_TIMEOUT_MS = SANDBOX_TIMEOUT_MS;

/** How fast the adapters may go against sandboxes whose limits are lifted (`rateLimits: 'off'`). */
const LIFTED_PACE = { requests: 1000, perSeconds: 1, concurrency: 16 };

export interface WorkingOrgOptions {
  /** Where everything goes: `registry/`, `people.csv`, `tickets/`... Emptied first when it holds a previous run. */
  dir: string;
  org?: OrgProfile['name'];
  seed?: number;
  clock?: Clock;
  /** Ports base, base+1, ... for the providers (in the sandbox table's order), then Vault, then the consumer. */
  portBase?: number;
  /**
   * `documented` (default): each sandbox enforces its provider's limit and the adapters pace at theirs. `off`: the
   * sandboxes' limits are lifted and providers.json lets the adapters go fast (tests, benches).
   */
  rateLimits?: 'documented' | 'off';
  /** The registry's fingerprint key, to fingerprint the entries (as `keyledger issue` does); none: no fingerprint. */
  fingerprintKey?: (dataDir: string) => Promise<FingerprintKey>;
  /** How often the consumer reloads every key and uses the keys it uses (defaults suit a person at a terminal). */
  consumer?: { refreshMs?: number; callMs?: number };
}

export interface WorkingOrg {
  dir: string;
  registryDir: string;
  /** `<registry>/.keyledger`: what `KEYLEDGER_DATA_DIR` must be (until the data folder is found from the registry). */
  dataDir: string;
  providersFile: string;
  vaultTokenFile: string;
  ticketsDir: string;
  written: OrgWriteResult & { sandboxFile: string };
  sandbox: RunningSandbox;
  vault: VaultSandbox;
  consumer: ConsumerSandbox;
  /** Registered keys the adapters can rotate (the consumer holds each), and those that are rotated by ticket. */
  rotatable: OrgKey[];
  manual: OrgKey[];
  /** Adapters pointed at the sandboxes (what providers.json configures), for checks from outside. */
  provider(name: string): Provider;
  stop(): Promise<void>;
}

export async function startWorkingOrg(options: WorkingOrgOptions): Promise<WorkingOrg> {
  const dir = resolve(options.dir);
  const clock = options.clock ?? systemClock;
  await clearPreviousRun(dir);
  const registryDir = join(dir, 'registry');
  const dataDir = join(registryDir, '.keyledger');
  const ticketsDir = join(dir, 'tickets');
  const lifted = options.rateLimits === 'off';
  const stops: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const sandbox = await startSandbox({
      org: options.org ?? 'default',
      seed: options.seed ?? 1,
      // The organisation as of today (midnight UTC: the same seed gives the same organisation all day), so that
      // what is due, expiring or unused stays what the generator planned (org-generator.ts) however long after its writing it runs.
      now: `${clock().toISOString().slice(0, 10)}T00:00:00Z`,
      clock,
      rateLimits: lifted ? 'off' : 'documented',
      ...(options.portBase ? { portBase: options.portBase } : {}),
    });
    stops.push(() => sandbox.stop());
    const org = sandbox.org!;
    const next = options.portBase ? options.portBase + Object.keys(sandbox.urls).length : undefined;
    const vault = await startVaultSandbox(next ? { port: next } : {});
    stops.push(() => vault.close());

    // One set of adapters for the consumer, built from exactly what providers.json holds.
    const providerOptions = Object.fromEntries(
      Object.keys(sandbox.urls).map((name) => [
        name,
        {
          ...sandbox.providerOptions(name),
          timeoutMs: SANDBOX_TIMEOUT_MS,
          ...(lifted ? { rateLimit: LIFTED_PACE } : {}),
        },
      ]),
    );
    const adapters = new Map<string, Provider>();
    const provider = (name: string) => {
      let found = adapters.get(name);
      if (!found) {
        found = createProvider(name, providerOptions[name]!, { clock });
        adapters.set(name, found);
      }
      return found;
    };
    stops.push(async () => {
      for (const adapter of adapters.values()) await (adapter as { close?: () => unknown }).close?.();
    });
    const registered = org.keys.filter((key) => key.registered);
    const rotatable: OrgKey[] = [];
    const manual: OrgKey[] = [];
    for (const key of registered) {
      // An entry the registry marks revoked (a planted anomaly, org-generator.ts) is no key to rotate or serve.
      if (key.registryStatus === 'revoked') continue;
      const capabilities = keyCapabilities(provider(key.provider), { account: key.account, kind: key.kind });
      (capabilities.create && !capabilities.manual ? rotatable : manual).push(key);
    }

    const consumer = new ConsumerSandbox({
      keys: [],
      // Rotations' probes reload the key they ask about: the periodic reload only picks up changes made by hand.
      refreshMs: options.consumer?.refreshMs ?? 300_000,
      callMs: options.consumer?.callMs ?? 60_000,
      reloadOnProbe: true,
    });
    await consumer.start(next ? next + 1 : 0);
    stops.push(() => consumer.stop());
    const held = new Set(rotatable.map((key) => key.keyId));
    const consumersOf = (key: OrgKey): KeyEntryInput['consumed_by'] =>
      held.has(key.keyId)
        ? key.consumers.map((team) => ({
            team,
            service: `${team}-app`,
            // The consumer shares one process with every sandbox: give it time to answer on a busy machine.
            probe: { ...consumer.probeFor(key.keyId), timeout_ms: PROBE_TIMEOUT_MS },
          }))
        : key.consumers;

    await mkdir(dataDir, { recursive: true });
    const fingerprintKey = await options.fingerprintKey?.(dataDir);
    const written = await writeOrg(org, dir, {
      config: {
        stores: {
          vault: {
            kind: 'vault',
            address: vault.url,
            mount: VAULT_MOUNT,
            // The token stays in the data folder: `path` is relative to it.
            auth: { method: 'token-file', path: WORKING_ORG_DATA_FILES.vaultToken },
            requestTimeoutMs: SANDBOX_TIMEOUT_MS,
          },
        },
        // Manual rotations (Stripe, Slack, GitHub PATs, OpenAI project keys) become Markdown tickets here.
        tickets: 'markdown:../tickets',
      },
      consumersOf,
      ...(fingerprintKey ? { fingerprintOf: (key: OrgKey) => fingerprintSecret(key.secret, fingerprintKey) } : {}),
    });
    await writeFile(join(registryDir, '.gitignore'), '.keyledger/\n');
    const providersFile = join(dataDir, WORKING_ORG_DATA_FILES.providers);
    await writeFile(providersFile, `${JSON.stringify({ providers: providerOptions }, null, 2)}\n`, { mode: 0o600 });
    const vaultTokenFile = join(dataDir, WORKING_ORG_DATA_FILES.vaultToken);
    await writeFile(vaultTokenFile, `${vault.rootToken}\n`, { mode: 0o600 });
    const sandboxFile = join(dir, 'sandbox.json');
    await writeSandboxFile(sandbox, sandboxFile, {
      vault: { url: vault.url, mount: VAULT_MOUNT },
      consumer: consumer.url,
    });

    // Vault holds every registered key's current secret, as the store adapter writes it: what rotations read.
    const store = new VaultSecretStore(
      vaultSecretStoreOptionsSchema.parse({
        address: vault.url,
        mount: VAULT_MOUNT,
        auth: { method: 'token', token: vault.rootToken },
        requestTimeoutMs: SANDBOX_TIMEOUT_MS,
      }),
      { clock },
    );
    await inBatches(registered, 16, (key) =>
      store.put(orgVaultPath(key), new SecretValue(key.secret), {
        stage: 'current',
        metadata: { key_id: key.keyId, provider: key.provider, provider_key_id: key.providerKeyId },
      }),
    );
    // The consumer holds every rotatable key from Vault and calls with those in use (unused ones stay unused).
    await inBatches(rotatable, 16, (key) =>
      consumer.add({
        keyId: key.keyId,
        store,
        path: orgVaultPath(key),
        provider: provider(key.provider),
        account: key.account,
        use: key.unusedDays !== null && key.unusedDays <= 90,
      }),
    );

    await runGit(['init', '--quiet'], { cwd: registryDir });
    await runGit(['add', '-A'], { cwd: registryDir });
    await runGit(
      [
        '-c',
        'user.name=keyledger',
        '-c',
        'user.email=keyledger@localhost',
        'commit',
        '--quiet',
        '-m',
        'keyledger: the sandbox organisation',
      ],
      { cwd: registryDir },
    );
    return {
      dir,
      registryDir,
      dataDir,
      providersFile,
      vaultTokenFile,
      ticketsDir,
      written: { ...written, sandboxFile },
      sandbox,
      vault,
      consumer,
      rotatable,
      manual,
      provider,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Removes a previous run's folder; refuses a folder that holds anything else (it is not ours to delete). */
async function clearPreviousRun(dir: string): Promise<void> {
  const names: string[] = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (names.length === 0) return;
  if (!names.includes('sandbox.json') && !names.includes('registry')) {
    throw new UsageError(`${dir} holds files of its own (no sandbox.json): choose another folder for the sandbox`);
  }
  await rm(dir, { recursive: true, force: true });
}

async function inBatches<T>(items: readonly T[], width: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let index = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (index < items.length) await work(items[index++]!);
    }),
  );
}

/**
 * The key `start` plants in an env file for the scanner to find: a rotatable AWS key (its secret is one line a
 * built-in rule recognises and the registry attributes by fingerprint) that is not in `exclude`.
 */
export function leakableKey(keys: readonly OrgKey[], exclude: ReadonlySet<string>): OrgKey | undefined {
  return keys.find((key) => key.provider === 'aws-iam' && !exclude.has(key.keyId));
}
