// Which outbound identity providers this registry uses (src/idp/outbound-identity-sources.ts): the
// `identity-sources.json` beside the registry's other local state, or the file KEYLEDGER_IDENTITY_SOURCES_FILE
// names. Read by `keyledger offboard` and by the server's offboarding module (src/server/offboarding-module.ts),
// so both end sessions at the same providers.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { IdentitySource } from '../directory/identity-source.js';
import { ConfigError } from '../errors/keyledger-error.js';
import { outboundIdentitySources } from './outbound-identity-sources.js';

export const IDENTITY_SOURCES_FILE_VARIABLE = 'KEYLEDGER_IDENTITY_SOURCES_FILE';
export const IDENTITY_SOURCES_FILE_NAME = 'identity-sources.json';

/** The configured sources; none when the default file is absent, a ConfigError when a named one is unreadable. */
export async function readIdentitySourcesFile(options: {
  env: NodeJS.ProcessEnv;
  cwd: string;
  dataDir: string;
}): Promise<IdentitySource[]> {
  const named = options.env[IDENTITY_SOURCES_FILE_VARIABLE];
  const file = named ? resolve(options.cwd, named) : join(options.dataDir, IDENTITY_SOURCES_FILE_NAME);
  if (!named && !existsSync(file)) return [];
  let config: unknown;
  try {
    config = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read the identity sources file ${file}: ${(error as Error).message.split('\n')[0]}`, {
      position: { file },
      code: 'E_IDENTITY_SOURCE_CONFIG',
    });
  }
  if (!config || typeof config !== 'object' || Array.isArray(config))
    throw new ConfigError(`${file}: expected an object of sources by name ({"okta": {...}})`, {
      code: 'E_IDENTITY_SOURCE_CONFIG',
    });
  return outboundIdentitySources(config as Record<string, unknown>, { baseDir: dirname(file) });
}
