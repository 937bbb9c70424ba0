// The server's configuration: a file (JSON or YAML, `--config` or KEYLEDGER_SERVER_CONFIG) laid under the
// environment (KEYLEDGER_SERVER_*), then command-line flags, validated by one zod schema at start. A bad value stops
// the start with every problem named (file or variable, field, what was expected), before a port is opened.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { scheduledJobsSchema } from '../app/scheduled-jobs-config.js';
import { ConfigError } from '../errors/keyledger-error.js';

export const SERVER_CONFIG_VARIABLE = 'KEYLEDGER_SERVER_CONFIG';

// The `jobs` section lives in app/ beside the job kinds it configures (app/ may not import server/: layer rules).
export { type ScheduledJobsConfig, scheduledJobsSchema } from '../app/scheduled-jobs-config.js';

export const serverConfigSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port (tests, several servers on one machine). */
  port: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** The URL people and identity providers reach the server at; default `http://<host>:<port>`. */
  publicUrl: z.url().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How long SIGTERM waits for requests in flight before closing them. */
  shutdownTimeoutMs: z.coerce.number().int().min(0).default(10_000),
  bodyLimitBytes: z.coerce.number().int().min(1_024).default(1_048_576),
  /** Trust X-Forwarded-* from a reverse proxy in front. */
  trustProxy: z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]).default(false),
  /** Scheduled background jobs: none unless configured. */
  jobs: scheduledJobsSchema.default({}),
});

export type ServerConfig = z.output<typeof serverConfigSchema>;
export type ServerConfigInput = z.input<typeof serverConfigSchema>;

/** Environment variable -> field. */
export const SERVER_ENV_VARIABLES: Readonly<Record<string, keyof ServerConfig>> = {
  KEYLEDGER_SERVER_HOST: 'host',
  KEYLEDGER_SERVER_PORT: 'port',
  KEYLEDGER_PUBLIC_URL: 'publicUrl',
  KEYLEDGER_SERVER_LOG_LEVEL: 'logLevel',
  KEYLEDGER_SERVER_SHUTDOWN_TIMEOUT_MS: 'shutdownTimeoutMs',
  KEYLEDGER_SERVER_BODY_LIMIT_BYTES: 'bodyLimitBytes',
  KEYLEDGER_SERVER_TRUST_PROXY: 'trustProxy',
};

export interface LoadServerConfigOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** A config file named on the command line (wins over KEYLEDGER_SERVER_CONFIG). */
  file?: string;
  /** Command-line flags: over the file and the environment. */
  overrides?: Partial<ServerConfigInput>;
}

export async function loadServerConfig(options: LoadServerConfigOptions): Promise<ServerConfig> {
  const named = options.file ?? options.env[SERVER_CONFIG_VARIABLE];
  const fromFile = named ? await readConfigFile(resolve(options.cwd, named)) : {};
  const fromEnv: Record<string, string> = {};
  const sourceOf = new Map<string, string>();
  for (const [variable, field] of Object.entries(SERVER_ENV_VARIABLES)) {
    const value = options.env[variable];
    if (value !== undefined && value !== '') {
      fromEnv[field] = value;
      sourceOf.set(field, variable);
    }
  }
  for (const field of Object.keys(options.overrides ?? {})) sourceOf.set(field, `--${field}`);
  const merged = { ...fromFile, ...fromEnv, ...withoutUndefined(options.overrides ?? {}) };
  const parsed = serverConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const field = issue.path.join('.') || '(root)';
      const source = sourceOf.get(String(issue.path[0])) ?? (named ? `${named}: ${field}` : field);
      return `${source === field ? field : `${source} (${field})`}: ${issue.message}`;
    });
    throw new ConfigError(`the server configuration is invalid: ${problems.join('; ')}`, {
      code: 'E_SERVER_CONFIG',
    });
  }
  const ingest = parsed.data.jobs.auditLogIngest;
  if (ingest) ingest.paths = ingest.paths.map((path) => resolve(options.cwd, path));
  return parsed.data;
}

async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the server configuration ${file}: ${(error as Error).message}`, {
      code: 'E_SERVER_CONFIG',
      position: { file },
    });
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${file} is not YAML or JSON: ${(error as Error).message}`, {
      code: 'E_SERVER_CONFIG',
      position: { file },
    });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(`${file}: expected an object of server settings`, {
      code: 'E_SERVER_CONFIG',
      position: { file },
    });
  return value as Record<string, unknown>;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
