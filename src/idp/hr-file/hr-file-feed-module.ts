// The server feeds the HR file into the directory store (docs/offboarding.md, "The HR file in the server"): a
// ServerModule that, when `identity-sources.json` names an `hr-file` source, imports the file once the server is
// ready and again on every change (hr-file-feed.ts), so a row marked `left` starts that person's offboarding job in
// the server's offboarding module (src/server/offboarding-module.ts, which listens on the same directory store) as
// a SCIM deprovision does. src/app/server-modules.ts registers it after the offboarding module.
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { directoryFor } from '../../directory/directory-store.js';
import { ConfigError } from '../../errors/keyledger-error.js';
import type { ServerContext, ServerModule } from '../../server/server-module.js';
import { HrFileFeed, type HrFileImport } from './hr-file-feed.js';

export const HR_FILE_FEED_MODULE = 'hr-file-feed';

/** `identity-sources.json`'s `"hr-file"` entry: which file (default `policy.people_directory`) and how it is watched. */
export const hrFileFeedOptionsSchema = z.strictObject({
  /** The CSV or YAML people file, relative to the registry root; default the registry's `policy.people_directory`. */
  file: z.string().min(1).optional(),
  /** Quiet time after a change before the file is read. */
  debounceMs: z.number().int().min(0).max(60_000).default(500),
  /** How often its mtime and size are checked, for changes the file-system watch missed. */
  pollSeconds: z.number().min(0.05).max(86_400).default(30),
});
export type HrFileFeedOptions = z.output<typeof hrFileFeedOptionsSchema>;

export interface HrFileFeedModuleOptions {
  /** The `hr-file` entry of identity-sources.json; undefined when there is none (the module then does nothing). */
  options: (context: ServerContext) => Promise<HrFileFeedOptions | undefined>;
  /** Hears the feed once built (tests wait on `idle()`). */
  onFeed?: (feed: HrFileFeed) => void;
  onImport?: (result: HrFileImport) => void;
}

export function createHrFileFeedModule(moduleOptions: HrFileFeedModuleOptions): ServerModule {
  return {
    name: HR_FILE_FEED_MODULE,
    async register(server, context) {
      const options = await moduleOptions.options(context);
      if (!options) return;
      const { app, clock, logger } = context;
      const root = app.workspace.root;
      const named = options.file ?? app.workspace.config.policy.people_directory;
      if (!named)
        throw new ConfigError(
          'identity-sources.json names an "hr-file" source but no file: give it `file`, or set `policy.people_directory` in keyledger.config.yaml',
          { code: 'E_IDENTITY_SOURCE_CONFIG' },
        );
      const feed = new HrFileFeed({
        file: isAbsolute(named) ? named : options.file ? resolve(root, named) : join(root, named),
        directory: directoryFor(app.operational.db, clock),
        clock,
        logger,
        debounceMs: options.debounceMs,
        pollMs: Math.round(options.pollSeconds * 1000),
        ...(moduleOptions.onImport ? { onImport: moduleOptions.onImport } : {}),
      });
      moduleOptions.onFeed?.(feed);
      // In the background: a large export must not hold the server's start; the offboarding module, registered
      // before, already listens, so the file's departures reach its queue.
      server.addHook('onReady', async () => {
        void feed.start();
      });
      server.addHook('onClose', async () => {
        await feed.stop();
      });
    },
  };
}
