// Starts one provider's sandbox for an adapter test through the sandbox table (src/sandbox/sandbox-provider-table.ts):
// the sandbox the table builds, its server and control client, adapters aimed at it with the table's credentials,
// fast retries and no pacing, and one close() — what each provider test used to build by hand.
import type { Provider } from '../../providers/provider.js';
import { systemClock } from '../../runtime/clock.js';
import type { Sleep } from '../../runtime/retry-policy.js';
import { SandboxControlClient } from '../../sandbox/sandbox-control-client.js';
import { sandboxProviderTable } from '../../sandbox/sandbox-provider-table.js';
import { type SandboxProvider, SandboxServer } from '../../sandbox/sandbox-server.js';
import type { ProviderContext } from '../provider-context.js';
import { recordingSleep } from './provider-contract.js';

export interface ProviderSandboxSetup<Sandbox extends SandboxProvider, Adapter extends Provider> {
  /** The provider's name in the sandbox table. */
  name: string;
  /** Builds the adapter under test, e.g. `(options, context) => new SlackProvider(options, context)`. */
  adapter: (options: never, context: ProviderContext) => Adapter;
  /** Seeds the sandbox before its server starts (subusers, applications, keys). */
  prepare?: (sandbox: Sandbox) => void;
  /** AWS: how long a new key fails authentication. */
  consistencyDelayMs?: number;
  /** Constructor settings of the sandbox, over the table's (a project, repositories, an org name). */
  sandboxSettings?: Record<string, unknown>;
  /** Adapter options on top of the table's (credentials, base URL) and the test defaults below. */
  adapterOptions?: Record<string, unknown>;
}

export interface ProviderSandbox<Sandbox extends SandboxProvider, Adapter extends Provider> {
  sandbox: Sandbox;
  server: SandboxServer;
  url: string;
  control: SandboxControlClient;
  /** Every backoff the adapters made (made through `make` with the default sleep). */
  sleeps: number[];
  /** The options `make()` builds an adapter from. */
  adapterOptions: Record<string, unknown>;
  /** An adapter aimed at the sandbox; `overrides` replace options, `sleep` the recording one. */
  make(overrides?: Record<string, unknown>, sleep?: Sleep): Adapter;
  /** Closes every adapter made, then stops the server. */
  close(): Promise<void>;
}

/** Test defaults: a short timeout, fast retries with a long budget, and no pacing (the server paces if asked). */
const TEST_ADAPTER_OPTIONS = {
  timeoutMs: 300,
  retry: { maxAttempts: 4, baseDelayMs: 10, budgetMs: 120_000 },
  rateLimit: 'off',
};

export async function startProviderSandbox<Sandbox extends SandboxProvider, Adapter extends Provider>(
  setup: ProviderSandboxSetup<Sandbox, Adapter>,
): Promise<ProviderSandbox<Sandbox, Adapter>> {
  const registration = sandboxProviderTable.find((entry) => entry.name === setup.name);
  if (!registration) throw new Error(`no sandbox named ${setup.name} in sandbox-provider-table.ts`);
  const built = registration.build({
    clock: systemClock,
    consistencyDelayMs: setup.consistencyDelayMs ?? 0,
    ...(setup.sandboxSettings ? { settings: setup.sandboxSettings } : {}),
  });
  const sandbox = built.provider as Sandbox;
  setup.prepare?.(sandbox);
  const server = new SandboxServer(sandbox);
  const url = await server.start();
  const sleeps: number[] = [];
  const adapterOptions = { ...built.adapterOptions(url), ...TEST_ADAPTER_OPTIONS, ...setup.adapterOptions };
  const adapters: Adapter[] = [];
  return {
    sandbox,
    server,
    url,
    control: new SandboxControlClient(url),
    sleeps,
    adapterOptions,
    make(overrides = {}, sleep = recordingSleep(sleeps)) {
      const adapter = setup.adapter({ ...adapterOptions, ...overrides } as never, { clock: systemClock, sleep });
      adapters.push(adapter);
      return adapter;
    },
    async close() {
      for (const adapter of adapters) await (adapter as { close?: () => unknown }).close?.();
      await server.stop();
    },
  };
}
