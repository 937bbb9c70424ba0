// Which identity sources this deployment uses: the `identity-sources.json` beside the registry's other local
// state, or the file KEYLEDGER_IDENTITY_SOURCES_FILE names. Its outbound providers (src/idp/outbound-identity-sources.ts)
// are read by `keyledger offboard` and by the server's offboarding module (src/server/offboarding-module.ts), so both
// end sessions at the same providers; its `"hr-file"` entry, by the server alone, which then keeps the HR file fed
// into the directory (src/idp/hr-file/hr-file-feed-module.ts).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { IdentitySource } from '../directory/identity-source.js';
import { ConfigError } from '../errors/keyledger-error.js';
import { type HrFileFeedOptions, hrFileFeedOptionsSchema } from './hr-file/hr-file-feed-module.js';
import { HR_FILE_SOURCE } from './hr-file/hr-file-source.js';
import { outboundIdentitySources } from './outbound-identity-sources.js';

export const IDENTITY_SOURCES_FILE_VARIABLE = 'KEYLEDGER_IDENTITY_SOURCES_FILE';
export const IDENTITY_SOURCES_FILE_NAME = 'identity-sources.json';

interface IdentitySourcesFileLocation {
  env: NodeJS.ProcessEnv;
  cwd: string;
  dataDir: string;
}

/** The configured outbound sources; none when the default file is absent, a ConfigError when a named one is unreadable. */
export async function readIdentitySourcesFile(options: IdentitySourcesFileLocation): Promise<IdentitySource[]> {
  const read = await readConfig(options);
  if (!read) return [];
  const { [HR_FILE_SOURCE]: _inbound, ...outbound } = read.config;
  return outboundIdentitySources(outbound, { baseDir: dirname(read.file) });
}

/** The `"hr-file"` entry, when the file has one: the server then feeds the HR file into the directory. */
export async function readHrFileFeedOptions(
  options: IdentitySourcesFileLocation,
): Promise<HrFileFeedOptions | undefined> {
  const read = await readConfig(options);
  if (!read || !Object.hasOwn(read.config, HR_FILE_SOURCE)) return undefined;
  const parsed = hrFileFeedOptionsSchema.safeParse(read.config[HR_FILE_SOURCE] ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${read.file}: hr-file: ${issue.path.join('.') || 'options'}: ${issue.message}`, {
      position: { file: read.file },
      code: 'E_IDENTITY_SOURCE_CONFIG',
    });
  }
  return parsed.data;
}

async function readConfig(
  options: IdentitySourcesFileLocation,
): Promise<{ file: string; config: Record<string, unknown> } | undefined> {
  const named = options.env[IDENTITY_SOURCES_FILE_VARIABLE];
  const file = named ? resolve(options.cwd, named) : join(options.dataDir, IDENTITY_SOURCES_FILE_NAME);
  if (!named && !existsSync(file)) return undefined;
  let config: unknown;
  try {
    config = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    // JSON.parse's message quotes the text around the fault, and this file holds tokens: only the first line of a
    // read error, never a parse error's.
    const why = error instanceof SyntaxError ? 'not valid JSON' : (error as Error).message.split('\n')[0];
    throw new ConfigError(`cannot read the identity sources file ${file}: ${why}`, {
      position: { file },
      code: 'E_IDENTITY_SOURCE_CONFIG',
    });
  }
  if (!config || typeof config !== 'object' || Array.isArray(config))
    throw new ConfigError(`${file}: expected an object of sources by name ({"okta": {...}})`, {
      code: 'E_IDENTITY_SOURCE_CONFIG',
    });
  return { file, config: config as Record<string, unknown> };
}
