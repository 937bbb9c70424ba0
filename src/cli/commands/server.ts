// `keyledger server`: the HTTP server (src/server/keyledger-server.ts) over the registry — the JSON API and every
// module src/app/server-modules.ts lists — until SIGINT/SIGTERM, which stop it gracefully (no new connections,
// requests in flight finish, the app closes). Settings: a file (--config or KEYLEDGER_SERVER_CONFIG), the
// KEYLEDGER_SERVER_* environment, then --host/--port; all validated before anything opens (docs/server.md).
import { loadServerConfig } from '../../server/server-config.js';
import { createLogger } from '../../telemetry/logger.js';
import { printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { addSharedOptions, registryRootFor, type SharedOptions } from '../common-options.js';
import { parseNonNegativeInt } from '../option-parsers.js';

interface ServerOptions extends SharedOptions {
  port?: number;
  host?: string;
  config?: string;
}

export const registerServerCommand: RegisterCommand = (program, context) => {
  addSharedOptions(program.command('server'), { json: 'print where it listens as one JSON line' })
    .description('serve the HTTP API (and the modules the server lists) until SIGINT/SIGTERM')
    .option('--port <port>', 'port to listen on (0: a free one; default 8080 or the config)', parseNonNegativeInt)
    .option('--host <host>', 'address to listen on (default 127.0.0.1 or the config)')
    .option('--config <file>', 'server settings, YAML or JSON (default: $KEYLEDGER_SERVER_CONFIG)')
    .action(async (options: ServerOptions) => {
      const config = await loadServerConfig({
        env: context.env,
        cwd: context.cwd,
        ...(options.config ? { file: options.config } : {}),
        overrides: { port: options.port, host: options.host },
      });
      const registryDir = await registryRootFor(context, options);
      const { createKeyledgerServer } = await import('../../server/keyledger-server.js');
      const { createServerModules } = await import('../../app/server-modules.js');
      const running = await createKeyledgerServer({
        config,
        // identity-sources.json is found from this command's environment and folder, not the process's.
        modules: createServerModules({ env: context.env, cwd: context.cwd }),
        app: { registryDir, env: context.env, cwd: context.cwd },
        clock: context.clock,
        logger: createLogger({ level: config.logLevel, write: (line) => context.stderr.write(line) }),
      });
      await serveUntilSignal(running.close, () => {
        if (options.json) context.stdout.write(`${JSON.stringify({ url: running.url, registry: registryDir })}\n`);
        else context.stdout.write(`keyledger server: ${running.url} (API ${running.url}/api/v1); Ctrl-C to stop\n`);
      });
      if (options.json) printJson(context, { stopped: true });
    });
};

/** Announces, then waits for SIGINT or SIGTERM and closes; the handlers are removed afterwards. */
export async function serveUntilSignal(close: () => Promise<void>, announce: () => void): Promise<void> {
  let onSignal: () => void = () => {};
  const signalled = new Promise<void>((resolve) => {
    onSignal = () => resolve();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  try {
    announce();
    await signalled;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await close();
  }
}
