// Where the registry's git remote is and how to reach it: the URL and branch from KEYLEDGER_REGISTRY_REMOTE /
// KEYLEDGER_REGISTRY_BRANCH or the config's `git.remote` / `git.branch`, and for an http(s) remote a token from
// KEYLEDGER_REGISTRY_TOKEN or KEYLEDGER_REGISTRY_TOKEN_FILE. The token reaches git only as an `http.extraHeader`
// in git's environment (never an argument, which `ps` shows, nor the URL, which git writes into .git/config) and
// is cut out of every message that quotes git (docs/registry.md, "A shared remote").
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError } from '../errors/keyledger-error.js';
import { redactSecrets } from '../runtime/secret-redaction.js';
import type { RegistryConfig } from './registry-config.js';

export const REGISTRY_REMOTE_VARIABLE = 'KEYLEDGER_REGISTRY_REMOTE';
export const REGISTRY_BRANCH_VARIABLE = 'KEYLEDGER_REGISTRY_BRANCH';
export const REGISTRY_TOKEN_VARIABLE = 'KEYLEDGER_REGISTRY_TOKEN';
export const REGISTRY_TOKEN_FILE_VARIABLE = 'KEYLEDGER_REGISTRY_TOKEN_FILE';
/** The user name sent with the token (Basic auth): GitHub takes any, GitLab wants `oauth2` for OAuth tokens. */
export const REGISTRY_TOKEN_USER_VARIABLE = 'KEYLEDGER_REGISTRY_TOKEN_USER';
export const REGISTRY_PULL_SECONDS_VARIABLE = 'KEYLEDGER_REGISTRY_PULL_SECONDS';

const DEFAULT_BRANCH = 'main';
const DEFAULT_TOKEN_USER = 'x-access-token';
const DEFAULT_PULL_SECONDS = 30;

/** The remote's token: its text only on demand, never in JSON, string conversion or util.inspect. */
export class RegistryRemoteToken {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return '[REDACTED]';
  }

  toString(): string {
    return '[REDACTED]';
  }

  [inspect.custom](): string {
    return 'RegistryRemoteToken [REDACTED]';
  }
}

export interface RegistryRemoteSettings {
  /** The remote as git takes it: a URL (https, ssh, file) or an absolute path to a repository. */
  url: string;
  branch: string;
  /** For an http(s) remote: sent as `Authorization: Basic <tokenUser:token>`. */
  token?: RegistryRemoteToken;
  tokenUser: string;
  /** How often a long-running process pulls the remote (0: only before writes). */
  pullIntervalMs: number;
}

export interface RegistryRemoteSettingsInput {
  config?: RegistryConfig;
  env: NodeJS.ProcessEnv;
  /** Resolves a relative path in the config. */
  root: string;
  /** Resolves a relative path in the environment (and the token file). */
  cwd: string;
}

/** The remote the environment or the config names, or undefined when neither does (a local-only registry). */
export async function registryRemoteSettings(
  input: RegistryRemoteSettingsInput,
): Promise<RegistryRemoteSettings | undefined> {
  const { env } = input;
  const fromEnv = env[REGISTRY_REMOTE_VARIABLE]?.trim();
  const fromConfig = input.config?.git.remote;
  if (!fromEnv && !fromConfig) return undefined;
  const url = fromEnv
    ? remoteUrl(fromEnv, input.cwd, `${REGISTRY_REMOTE_VARIABLE}`)
    : remoteUrl(fromConfig!, input.root, 'git.remote in keyledger.config.yaml');
  const branch = env[REGISTRY_BRANCH_VARIABLE]?.trim() || input.config?.git.branch || DEFAULT_BRANCH;
  if (!/^[A-Za-z0-9._/-]+$/.test(branch) || branch.startsWith('-') || branch.includes('..')) {
    throw new ConfigError(`the registry branch "${branch}" is not a branch name git accepts`, {
      code: 'E_REGISTRY_REMOTE_CONFIG',
    });
  }
  const token = await readToken(env, input.cwd);
  if (token && !/^https?:\/\//i.test(url)) {
    throw new ConfigError(
      `${REGISTRY_TOKEN_VARIABLE} is set but the registry remote is not an http(s) URL: a token is sent only over http(s); use the remote's own authentication (an ssh key) or unset the token`,
      { code: 'E_REGISTRY_REMOTE_CONFIG' },
    );
  }
  const pullSeconds = env[REGISTRY_PULL_SECONDS_VARIABLE];
  const seconds = pullSeconds === undefined || pullSeconds === '' ? DEFAULT_PULL_SECONDS : Number(pullSeconds);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new ConfigError(`${REGISTRY_PULL_SECONDS_VARIABLE}: expected a number of seconds, got "${pullSeconds}"`, {
      code: 'E_REGISTRY_REMOTE_CONFIG',
    });
  }
  return {
    url,
    branch,
    ...(token ? { token } : {}),
    tokenUser: env[REGISTRY_TOKEN_USER_VARIABLE]?.trim() || DEFAULT_TOKEN_USER,
    pullIntervalMs: seconds * 1000,
  };
}

/**
 * The environment git needs to reach the remote: the token as an extra header scoped to the remote's URL, passed
 * through GIT_CONFIG_COUNT (git 2.31+) so it appears in no command line; and no terminal prompt, so a missing or
 * wrong token fails at once instead of waiting for a password nobody types.
 */
export function remoteGitEnv(
  settings: RegistryRemoteSettings,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { GIT_TERMINAL_PROMPT: '0' };
  if (settings.token) {
    const index = Number(base.GIT_CONFIG_COUNT ?? 0) || 0;
    const credentials = Buffer.from(`${settings.tokenUser}:${settings.token.reveal()}`).toString('base64');
    env.GIT_CONFIG_COUNT = String(index + 1);
    env[`GIT_CONFIG_KEY_${index}`] = `http.${settings.url}.extraHeader`;
    env[`GIT_CONFIG_VALUE_${index}`] = `Authorization: Basic ${credentials}`;
  }
  return env;
}

/** A text quoting git with the token (raw, URL-encoded or inside the Basic header) and any URL password cut out. */
export function redactRemoteText(text: string, settings: RegistryRemoteSettings): string {
  const token = settings.token;
  const header = token
    ? { reveal: () => Buffer.from(`${settings.tokenUser}:${token.reveal()}`).toString('base64') }
    : undefined;
  return redactSecrets(text.replace(/(\/\/[^/\s:@]+):[^@\s/]+@/g, '$1:[REDACTED]@'), [token, header]);
}

/** The remote as a URL or absolute path; a URL holding a password is refused (git would store it in .git/config). */
function remoteUrl(value: string, base: string, source: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError(`${source}: not a URL git can use`, { code: 'E_REGISTRY_REMOTE_CONFIG' });
    }
    if (/^https?:$/.test(parsed.protocol) && (parsed.password || parsed.username)) {
      throw new ConfigError(
        `${source}: the URL for ${parsed.host} carries credentials; give the URL without them and the token in ${REGISTRY_TOKEN_VARIABLE} or ${REGISTRY_TOKEN_FILE_VARIABLE}`,
        { code: 'E_REGISTRY_REMOTE_CONFIG' },
      );
    }
    if (!['https:', 'http:', 'ssh:', 'git:', 'file:'].includes(parsed.protocol)) {
      throw new ConfigError(`${source}: git cannot reach a ${parsed.protocol} remote (https, ssh, git or file)`, {
        code: 'E_REGISTRY_REMOTE_CONFIG',
      });
    }
    return value;
  }
  // scp-like `git@host:org/registry.git` (a colon before any slash, and not a Windows drive letter).
  if (/^[^/:]+@?[^/:]*:[^/]/.test(value) && !/^[A-Za-z]:[\\/]/.test(value)) return value;
  return isAbsolute(value) ? value : resolve(base, value);
}

async function readToken(env: NodeJS.ProcessEnv, cwd: string): Promise<RegistryRemoteToken | undefined> {
  const direct = env[REGISTRY_TOKEN_VARIABLE]?.trim();
  if (direct) return new RegistryRemoteToken(direct);
  const file = env[REGISTRY_TOKEN_FILE_VARIABLE]?.trim();
  if (!file) return undefined;
  const path = resolve(cwd, file);
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (error) {
    throw new ConfigError(
      `${REGISTRY_TOKEN_FILE_VARIABLE}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      { code: 'E_REGISTRY_REMOTE_CONFIG' },
    );
  }
  if (!text) {
    throw new ConfigError(`${REGISTRY_TOKEN_FILE_VARIABLE}: ${path} is empty`, { code: 'E_REGISTRY_REMOTE_CONFIG' });
  }
  return new RegistryRemoteToken(text);
}
