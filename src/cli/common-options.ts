// The options every command that reads or writes a registry or the operational store shares, declared once:
// `--registry`, `--json`, `--actor` (and the program-wide `-v/--verbose`, main.ts). The grammar, the defaults and
// the reasons are in docs/cli.md; src/cli/common-options.test.ts walks the command table to hold every command to it.
import { stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { KeyledgerApp, KeyledgerAppOptions } from '../app/keyledger-app.js';
import type { OpenOperationalStoreOptions } from '../db/operational-store.js';
import {
  DATA_DIR_VARIABLE,
  requireExistingOperationalStore,
  resolveDataDir,
  resolveOperationalStoreOptions,
} from '../db/operational-store-location.js';
import { NotFoundError, UsageError } from '../errors/keyledger-error.js';
import { REGISTRY_REMOTE_VARIABLE, registryRemoteSettings } from '../registry/registry-remote-settings.js';
import { findRegistryRoot } from '../registry/registry-workspace.js';
import type { CliContext } from './cli-context.js';

export const REGISTRY_VARIABLE = 'KEYLEDGER_REGISTRY';
export const ACTOR_VARIABLE = 'KEYLEDGER_ACTOR';

export const REGISTRY_HELP = `the registry repository (default: $${REGISTRY_VARIABLE}, else the registry the working directory is in)`;
export const JSON_HELP = 'print JSON on stdout, errors included ({"error":{code,message,category,done,notDone}})';
export const ACTOR_HELP = `who is acting, recorded in the events and commits this command writes (default: $${ACTOR_VARIABLE}, else cli:<user>)`;

export interface SharedOptions {
  registry?: string;
  /** The deprecated `-r` spelling of --registry (docs/cli.md). */
  r?: string;
  json?: boolean;
  actor?: string;
}

export interface SharedOptionSettings {
  /** The command's own words for --json (what the JSON holds); the error shape is the same everywhere. */
  json?: string;
  /** The command's own words for --registry, when its default differs (scan: opt-in, no default). */
  registry?: string;
  /**
   * Accept the deprecated `-r DIR` for --registry (hidden from help). False only where `-r` means something else:
   * `scan`, which keeps gitleaks' `-r/--report-path`.
   */
  shortRegistryAlias?: boolean;
}

/** Adds `--registry`, `--json` and `--actor` to a command, with the same flags and meaning everywhere. */
export function addSharedOptions(command: Command, settings: SharedOptionSettings = {}): Command {
  command.option('--registry <dir>', settings.registry ?? REGISTRY_HELP);
  if (settings.shortRegistryAlias !== false) {
    command.addOption(new Option('-r <dir>', 'deprecated spelling of --registry').hideHelp());
  }
  return command.option('--json', settings.json ?? JSON_HELP).option('--actor <who>', ACTOR_HELP);
}

/** The --registry value given, from `--registry` or the deprecated `-r` (which earns a warning on stderr). */
export function registryOption(context: CliContext, options: SharedOptions): string | undefined {
  if (options.r !== undefined) {
    context.stderr.write(
      'keyledger: -r is deprecated for --registry (on `scan`, -r is --report-path); write --registry\n',
    );
    if (options.registry !== undefined && resolve(context.cwd, options.registry) !== resolve(context.cwd, options.r))
      throw new UsageError('-r and --registry name different registries; give --registry once');
  }
  return options.registry ?? options.r;
}

/**
 * The root of the registry a command works on: `--registry` (or a positional directory, `validate DIR`), else
 * `$KEYLEDGER_REGISTRY`, else the registry the working directory is in (findRegistryRoot: a directory holding
 * keyledger.config.yaml at or above it inside its git work tree, or a `keys/` folder). A missing directory or
 * one that is not a registry is an error (exit 2), never an empty registry.
 */
export async function registryRootFor(
  context: CliContext,
  options: SharedOptions,
  positional?: { name: string; value: string | undefined },
): Promise<string> {
  const flag = registryOption(context, options);
  if (flag !== undefined && positional?.value !== undefined) {
    if (resolve(context.cwd, flag) !== resolve(context.cwd, positional.value))
      throw new UsageError(`the ${positional.name} argument and --registry name different registries; give one`);
  }
  const given = flag ?? positional?.value;
  if (given !== undefined) {
    await cloneFromRemote(context, resolve(context.cwd, given));
    return requireRegistry(resolve(context.cwd, given), given);
  }
  const fromEnv = context.env[REGISTRY_VARIABLE];
  if (fromEnv) {
    await cloneFromRemote(context, resolve(context.cwd, fromEnv));
    return requireRegistry(resolve(context.cwd, fromEnv), `${REGISTRY_VARIABLE}=${fromEnv}`);
  }
  const found = await findRegistryRoot(context.cwd);
  if (found) return found;
  throw new NotFoundError(
    'E_NO_REGISTRY',
    `${context.cwd} is not inside a keyledger registry (no keyledger.config.yaml here or above, no keys/ folder): pass --registry DIR, set ${REGISTRY_VARIABLE}, or create one with \`keyledger init\``,
  );
}

/**
 * With KEYLEDGER_REGISTRY_REMOTE set, a registry directory that is missing or empty is cloned from the remote first
 * (a replica's first start on an empty volume: docs/deploy.md). The clone module is loaded only then.
 */
async function cloneFromRemote(context: CliContext, directory: string): Promise<void> {
  if (!context.env[REGISTRY_REMOTE_VARIABLE]) return;
  const settings = await registryRemoteSettings({ env: context.env, root: directory, cwd: context.cwd });
  if (!settings) return;
  const { cloneRegistryIfMissing } = await import('../registry/registry-clone.js');
  await cloneRegistryIfMissing(directory, settings, context.env);
}

async function requireRegistry(directory: string, given: string): Promise<string> {
  const found = await findRegistryRoot(directory);
  if (found) return found;
  const info = await stat(directory).catch(() => undefined);
  if (!info) throw new NotFoundError('E_REGISTRY_NOT_FOUND', `no registry at ${given}: ${directory} does not exist`);
  throw new NotFoundError(
    'E_NOT_A_REGISTRY',
    `${given} is not a keyledger registry (${info.isDirectory() ? 'no keyledger.config.yaml in it or above it, no keys/ folder' : 'not a directory'}): create one with \`keyledger init ${given}\``,
  );
}

/**
 * The composition root (src/app/keyledger-app.ts) over the registry the options name. Loaded on demand: `list`
 * and `validate` never load the provider and store adapters.
 */
export async function openAppFor(
  context: CliContext,
  options: SharedOptions,
  overrides: Pick<KeyledgerAppOptions, 'providerOverrides' | 'storeOverrides'> = {},
): Promise<KeyledgerApp> {
  const registryDir = await registryRootFor(context, options);
  const { openKeyledgerApp } = await import('../app/keyledger-app.js');
  return openKeyledgerApp({
    registryDir,
    env: context.env,
    cwd: context.cwd,
    clock: context.clock,
    ...(context.logger ? { logger: context.logger } : {}),
    ...overrides,
  });
}

/**
 * Where the operational store of the command's registry is, for commands that use the store without the
 * registry's files (`events`, `master-key`): `KEYLEDGER_DATA_DIR` alone is enough when no registry is named;
 * otherwise the registry is found as registryRootFor does and its `.keyledger/` used. `mustExist` (read-only
 * commands) refuses a missing embedded store instead of creating an empty one.
 */
export async function operationalStoreFor(
  context: CliContext,
  options: SharedOptions,
  settings: { mustExist: boolean },
): Promise<OpenOperationalStoreOptions> {
  const named = options.registry !== undefined || options.r !== undefined || Boolean(context.env[REGISTRY_VARIABLE]);
  const explicitDataDir = context.env[DATA_DIR_VARIABLE];
  const registryRoot = !named && explicitDataDir ? undefined : await registryRootFor(context, options);
  const location = resolveOperationalStoreOptions({
    env: context.env,
    cwd: context.cwd,
    // With no registry, KEYLEDGER_DATA_DIR is set and wins: the root is not consulted.
    registryRoot: registryRoot ?? context.cwd,
  });
  return settings.mustExist ? requireExistingOperationalStore(location) : location;
}

/** The data folder of a registry root (`KEYLEDGER_DATA_DIR` or `<root>/.keyledger`). */
export function dataDirOf(context: CliContext, registryRoot: string): string {
  return resolveDataDir({ env: context.env, cwd: context.cwd, registryRoot });
}

/** `--actor`, else `$KEYLEDGER_ACTOR`, else `cli:<user name>`. */
export function actorFor(context: CliContext, options: SharedOptions): string {
  if (options.actor) return options.actor;
  const fromEnv = context.env[ACTOR_VARIABLE];
  if (fromEnv) return fromEnv;
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:${context.env.USER || 'unknown'}`;
  }
}
