// A running server over a fresh registry (git, a people directory, the embedded secret store) on one database
// engine, with an API token per role: what the API tests and the canary scan drive over real HTTP.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestBackend } from '../../db/test-support/test-databases.js';
import { GIT_TEST_ENV, makeRegistry } from '../../registry/test-support/registry-fixtures.js';
import { fixedClock } from '../../runtime/clock.js';
import { createLogger } from '../../telemetry/logger.js';
import { API_TOKEN_SCOPES, ApiTokens } from '../auth/api-tokens.js';
import { createKeyledgerServer, type KeyledgerServer } from '../keyledger-server.js';
import { serverConfigSchema } from '../server-config.js';
import type { ServerModule } from '../server-module.js';

export const PEOPLE_CSV = `email,name,team,status,left_at
alice@example.com,Alice,payments,active,
bob@example.com,Bob,search,active,
sam@example.com,Sam,security,active,
root@example.com,Root,platform,active,
lea@example.com,Lea,payments,left,2026-10-01
`;

/** Every scope by name (not `*`, which the policy counts as broad). */
const EVERY_SCOPE = API_TOKEN_SCOPES.filter((scope) => scope !== '*');

export type Caller = 'memberOwn' | 'memberOther' | 'security' | 'admin' | 'expired' | 'none';

export interface ApiHarness {
  running: KeyledgerServer;
  url: string;
  clock: ReturnType<typeof fixedClock>;
  registry: string;
  /** Bearer tokens by caller (`none` has none). */
  tokens: Record<Exclude<Caller, 'none'>, string>;
  /** Every log line the server wrote. */
  logs: string[];
  call(
    caller: Caller,
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string> },
    // biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read field by field by each expectation.
  ): Promise<{ status: number; headers: Headers; body: any }>;
  stop(): Promise<void>;
}

export async function startApiHarness(
  backend: TestBackend,
  options: {
    modules?: readonly ServerModule[];
    /** More rows of people.csv after PEOPLE_CSV's (`email,name,team,status,left_at` lines). */
    morePeople?: string;
  } = {},
): Promise<ApiHarness> {
  const database = await backend.createDatabase();
  const registry = await makeRegistry(
    {
      '.gitignore': '.keyledger/\n',
      'keyledger.config.yaml': 'policy:\n  people_directory: people.csv\n',
      'people.csv': PEOPLE_CSV + (options.morePeople ?? ''),
    },
    { git: true },
  );
  const env: NodeJS.ProcessEnv = {
    ...GIT_TEST_ENV,
    KEYLEDGER_DATA_DIR: join(registry, '.keyledger'),
    KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
    ...(database.options.databaseUrl ? { KEYLEDGER_DATABASE_URL: database.options.databaseUrl } : {}),
  };
  const clock = fixedClock('2026-12-01T09:00:00Z');
  const logs: string[] = [];
  const running = await createKeyledgerServer({
    config: serverConfigSchema.parse({ port: 0, logLevel: 'debug', shutdownTimeoutMs: 2_000 }),
    app: { registryDir: registry, env, cwd: registry },
    clock,
    logger: createLogger({ level: 'debug', write: (line) => logs.push(line) }),
    ...(options.modules ? { modules: options.modules } : {}),
  });
  const tokens = new ApiTokens(running.app, clock);
  const make = async (team: string, role: 'member' | 'security' | 'admin', owner: string, days = 90) =>
    (
      await tokens.create({ team, role, scopes: EVERY_SCOPE, expiresInDays: days, owner, actor: 'test:setup' })
    ).token.reveal();
  const created = {
    memberOwn: await make('payments', 'member', 'alice@example.com'),
    memberOther: await make('search', 'member', 'bob@example.com'),
    security: await make('security', 'security', 'sam@example.com'),
    admin: await make('platform', 'admin', 'root@example.com'),
    expired: await make('payments', 'member', 'alice@example.com', 1),
  };
  // Two days on: the one-day token has expired, the others have 88 days left.
  clock.advance(2 * 86_400_000);
  return {
    running,
    url: running.url,
    clock,
    registry,
    tokens: created,
    logs,
    call: async (caller, method, path, callOptions = {}) => {
      const headers: Record<string, string> = { ...callOptions.headers };
      if (caller !== 'none') headers.authorization = `Bearer ${created[caller]}`;
      if (callOptions.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${running.url}${path}`, {
        method,
        headers,
        ...(callOptions.body !== undefined ? { body: JSON.stringify(callOptions.body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
    },
    stop: async () => {
      await running.close();
      await rm(registry, { recursive: true, force: true });
    },
  };
}
