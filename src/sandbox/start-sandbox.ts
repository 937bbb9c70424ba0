// Starts the provider sandboxes for tests, benches, `keyledger sandbox` and `npm start`: one server per provider
// on 127.0.0.1, loaded with a generated organisation, and (with `outDir`) the organisation's registry, people
// directory, ground truth and the sandbox's URLs and adapter credentials written to disk.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RateLimit } from '../providers/provider.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { generateOrg } from './org/org-generator.js';
import type { Organisation } from './org/org-model.js';
import type { OrgProfile } from './org/org-profiles.js';
import { orgSandboxSeed } from './org/org-sandbox-seed.js';
import { type OrgWriteResult, writeOrg } from './org/org-writer.js';
import { sandboxProviderTable } from './sandbox-provider-table.js';
import { SandboxServer } from './sandbox-server.js';

export interface StartSandboxOptions {
  /** The organisation to load; `none` starts empty servers. Default `small`. */
  org?: OrgProfile['name'] | 'none';
  seed?: number;
  /**
   * The organisation's "today" (default: the sandbox clock's day, at midnight UTC): its keys' dates are placed around
   * it. Not the generator's fixed date: the sandboxes check token times against their clock, so an organisation
   * dated in the past has its provider-expired keys (GitHub fine-grained tokens, GitLab and Azure secrets, at least
   * ten days after the organisation's today) gone at the providers once the real date passes them — the ground-truth
   * test lost a GitHub token that way on 8 December 2026.
   */
  now?: Date | string;
  /** Ports base, base+1, ... in the order of the sandbox provider table; 0 or unset picks free ports. */
  portBase?: number;
  host?: string;
  /** Where to write the registry, people directory, ground truth, secrets and `sandbox.json`. */
  outDir?: string;
  clock?: Clock;
  /** `documented` (default) enforces each sandbox's limit; `off` lifts them all; or per provider (null lifts). */
  rateLimits?: 'documented' | 'off' | Record<string, RateLimit | null>;
  consistencyDelayMs?: number;
  /** Only these providers (default: every sandbox in the table). */
  providers?: string[];
}

export interface RunningSandbox {
  org: Organisation | undefined;
  urls: Record<string, string>;
  servers: Record<string, SandboxServer>;
  /** Options for `createProvider(name, options, context)` aimed at this sandbox. */
  providerOptions(name: string): Record<string, unknown>;
  /** What `outDir` received: the organisation's files, and `sandbox.json` (URLs and adapter options). */
  written?: Partial<OrgWriteResult> & { sandboxFile: string };
  /** Writes each provider's audit log in its own format to `<dir>/<provider>.json`; returns the files. */
  writeAuditLogs(dir: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startSandbox(options: StartSandboxOptions = {}): Promise<RunningSandbox> {
  const clock = options.clock ?? systemClock;
  const profile = options.org ?? 'small';
  const org =
    profile === 'none'
      ? undefined
      : generateOrg({
          profile,
          seed: options.seed ?? 1,
          now: options.now ?? `${clock().toISOString().slice(0, 10)}T00:00:00Z`,
        });
  const wanted = options.providers ? new Set(options.providers) : undefined;
  const registrations = sandboxProviderTable.filter((registration) => !wanted || wanted.has(registration.name));
  const seed = org ? orgSandboxSeed(org, new Set(registrations.map((r) => r.name))) : undefined;
  const servers: Record<string, SandboxServer> = {};
  const urls: Record<string, string> = {};
  const adapterOptions: Record<string, (url: string) => Record<string, unknown>> = {};
  const started: SandboxServer[] = [];
  try {
    for (const [index, registration] of sandboxProviderTable.entries()) {
      if (!registrations.includes(registration)) continue;
      const built = registration.build({
        clock,
        ...(org ? { org } : {}),
        consistencyDelayMs: options.consistencyDelayMs ?? 0,
      });
      if (seed) built.provider.load?.(seed);
      const limits = options.rateLimits ?? 'documented';
      const rateLimit =
        limits === 'off'
          ? null
          : limits === 'documented'
            ? registration.rateLimit
            : (limits[registration.name] ?? registration.rateLimit);
      const server = new SandboxServer(built.provider, {
        ...(options.host ? { host: options.host } : {}),
        port: options.portBase ? options.portBase + index : 0,
        rateLimit,
      });
      urls[registration.name] = await server.start();
      started.push(server);
      servers[registration.name] = server;
      adapterOptions[registration.name] = built.adapterOptions;
    }
  } catch (error) {
    await Promise.all(started.map((server) => server.stop()));
    throw error;
  }
  const providerOptions = (name: string) => {
    const options = adapterOptions[name];
    if (!options) throw new Error(`no sandbox runs for provider ${name}`);
    return options(urls[name]!);
  };
  const running: RunningSandbox = {
    org,
    urls,
    servers,
    providerOptions,
    writeAuditLogs: async (dir) => {
      await mkdir(dir, { recursive: true });
      const files: string[] = [];
      for (const [name, server] of Object.entries(servers)) {
        const file = join(dir, `${name}.json`);
        await writeFile(file, `${JSON.stringify(server.provider.auditLog())}\n`);
        files.push(file);
      }
      return files;
    },
    stop: async () => {
      await Promise.all(Object.values(servers).map((server) => server.stop()));
    },
  };
  if (options.outDir) {
    await mkdir(options.outDir, { recursive: true });
    const result = org ? await writeOrg(org, options.outDir) : undefined;
    const sandboxFile = join(options.outDir, 'sandbox.json');
    await writeSandboxFile(running, sandboxFile);
    running.written = { ...(result ?? {}), sandboxFile };
  }
  return running;
}

/** `sandbox.json`: the URLs, the organisation's summary and the adapter options (with the sandbox's credentials). */
export async function writeSandboxFile(
  running: RunningSandbox,
  file: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const description = {
    urls: running.urls,
    providers: Object.fromEntries(Object.keys(running.urls).map((name) => [name, running.providerOptions(name)])),
    ...(running.org ? { organisation: running.org.summary } : {}),
    ...extra,
  };
  // It holds the sandbox's admin credentials: readable by the owner only, like any credentials file.
  await writeFile(file, `${JSON.stringify(description, null, 2)}\n`, { mode: 0o600 });
}
