// bench/sandbox.ts (docs/benchmarks.md): create and revoke N keys per provider (default 10,000) through the real
// adapters against the provider sandboxes, with the sandboxes' rate limits lifted and the adapters' pacing off, so
// the figure is what the adapters, the SDK and HTTP cost; beside it, the time the provider's documented limit would
// impose on the same work (the physical bound of a bulk rotation). The HTTP calls per key are counted by the
// sandboxes, not assumed. After revoking, a sample of accounts is listed to prove the keys are gone.
// Run: `npx tsx bench/sandbox.ts [--keys N] [--concurrency C] [--providers aws-iam,gcp,...]`.
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import type { CreateKeyRequest, Provider, ProviderKeyRef } from '../src/providers/provider.js';
import { createProvider } from '../src/providers/provider-table.js';
import { systemClock } from '../src/runtime/clock.js';
import type { AzureSandbox } from '../src/sandbox/providers/azure/azure-sandbox.js';
import { SandboxControlClient } from '../src/sandbox/sandbox-control-client.js';
import { sandboxProviderTable } from '../src/sandbox/sandbox-provider-table.js';
import { type RunningSandbox, startSandbox } from '../src/sandbox/start-sandbox.js';
import { SecretValue } from '../src/secrets/secret-value.js';

/** Providers with an issuance API. Stripe and Slack keys are `manual`: rotated by ticket (see docs/providers.md). */
const API_PROVIDERS = [
  'aws-iam',
  'github',
  'gitlab',
  'datadog',
  'twilio',
  'sendgrid',
  'cloudflare',
  'openai',
  'gcp',
  'azure',
];
const MANUAL_PROVIDERS = ['stripe', 'slack'];

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) =>
  args.includes(name) ? (args[args.indexOf(name) + 1] ?? fallback) : fallback;
const KEYS = Number(flag('--keys', '10000'));
const CONCURRENCY = Number(flag('--concurrency', '16'));
const PROVIDERS = flag('--providers', API_PROVIDERS.join(',')).split(',');

/** Cloudflare's "Zone Read" permission group: a token needs at least one policy. */
const CLOUDFLARE_ZONE_READ = 'c8fed203ed3043cba015a93ad1616f1f';

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

function rate(count: number, seconds: number): string {
  return Math.round(count / seconds).toLocaleString('en');
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** Accounts that hold `keysPerAccount` keys each, created through the sandbox's control API where the provider
 * caps keys per account (AWS: 2 per user; GCP: 10 per service account). */
async function accounts(count: number, make: (index: number) => Promise<string>): Promise<string[]> {
  const made: string[] = new Array(count);
  await pool(
    Array.from({ length: count }, (_, i) => i),
    8,
    async (index) => {
      made[index] = await make(index);
    },
  );
  return made;
}

/** What each create call asks for, per provider: the account it goes into and what that provider requires. */
async function requestsFor(
  name: string,
  sandbox: RunningSandbox,
  control: SandboxControlClient,
): Promise<CreateKeyRequest[]> {
  const tag = randomBytes(2).toString('hex');
  const each = (request: (index: number) => Omit<CreateKeyRequest, 'name'>) =>
    Array.from({ length: KEYS }, (_, i) => ({ name: `bench-${tag}-${i}`, ...request(i) }));
  switch (name) {
    case 'aws-iam': {
      const users = await accounts(Math.ceil(KEYS / 2), async (i) => {
        const userName = `bench-${tag}-${i}`;
        await control.call('POST', 'users', { userName });
        return userName;
      });
      return each((i) => ({ account: users[Math.floor(i / 2)]! }));
    }
    case 'gcp': {
      const serviceAccounts = await accounts(Math.ceil(KEYS / 10), async (i) => {
        const created = (await control.call('POST', 'service-accounts', { name: `bench-${tag}-${i}` })) as {
          email: string;
        };
        return created.email;
      });
      return each((i) => ({ account: serviceAccounts[Math.floor(i / 10)]! }));
    }
    case 'azure': {
      // Applications are made in-process: the Graph API has no call the bench's admin could use for them here.
      const azure = sandbox.servers.azure!.provider as AzureSandbox;
      const applications = Array.from(
        { length: Math.ceil(KEYS / 10) },
        (_, i) => azure.addApplication(`bench-${tag}-${i}`, randomUUID()).appId,
      );
      return each((i) => ({ account: applications[Math.floor(i / 10)]! }));
    }
    case 'github':
      return each(() => ({ account: 'acme/api' }));
    case 'gitlab':
      return each((i) => ({ account: `project:${(i % 3) + 1}` }));
    case 'cloudflare':
      return each(() => ({ permissions: [CLOUDFLARE_ZONE_READ] }));
    case 'openai':
      return each(() => ({ account: 'proj_default0000000000000000' }));
    default:
      // Datadog, Twilio, SendGrid: keys of the organisation / account the adapter is configured for.
      return each(() => ({}));
  }
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/** Lists the accounts of up to 20 created keys and fails when one of them is still active. */
async function assertRevoked(name: string, provider: Provider, refs: ProviderKeyRef[]): Promise<void> {
  const sample = refs.filter((_, index) => index % Math.max(1, Math.floor(refs.length / 20)) === 0).slice(0, 20);
  const revokedIds = new Set(refs.map((ref) => ref.providerKeyId));
  const listed = new Set<string | undefined>(sample.map((ref) => ref.account));
  for (const account of listed) {
    for await (const key of provider.list(account ? { account } : {})) {
      if (revokedIds.has(key.providerKeyId) && key.status === 'active') {
        throw new Error(`${name}: key ${key.providerKeyId} is still active after revoke`);
      }
    }
  }
}

async function main(): Promise<void> {
  const unknown = PROVIDERS.filter((name) => !API_PROVIDERS.includes(name));
  if (unknown.length > 0) throw new Error(`no issuance API to bench for: ${unknown.join(', ')}`);
  const sandbox = await startSandbox({ org: 'none', rateLimits: 'off', providers: PROVIDERS });
  const rows: string[] = [];
  try {
    for (const name of PROVIDERS) {
      const provider: Provider = createProvider(
        name,
        { ...sandbox.providerOptions(name), rateLimit: 'off' },
        { clock: systemClock },
      );
      const server = sandbox.servers[name]!;
      const control = new SandboxControlClient(sandbox.urls[name]!);
      const requests = await requestsFor(name, sandbox, control);
      const refs: ProviderKeyRef[] = [];
      // Adapters load with their SDK on first use (Datadog's takes ~2 s): load it before the clock starts.
      await provider.verify(new SecretValue('keyledger-bench-warm-up')).catch(() => undefined);
      const beforeCreate = total(server.requestCounts());
      let started = performance.now();
      await pool(requests, CONCURRENCY, async (request) => {
        const created = await provider.create(request);
        refs.push({ providerKeyId: created.providerKeyId, ...(created.account ? { account: created.account } : {}) });
      });
      const createSeconds = (performance.now() - started) / 1000;
      const afterCreate = total(server.requestCounts());
      started = performance.now();
      await pool(refs, CONCURRENCY, (ref) => provider.revoke(ref));
      const revokeSeconds = (performance.now() - started) / 1000;
      const afterRevoke = total(server.requestCounts());
      await assertRevoked(name, provider, refs);
      const createCalls = (afterCreate - beforeCreate) / KEYS;
      const revokeCalls = (afterRevoke - afterCreate) / KEYS;
      const limit = provider.rateLimit();
      const boundSeconds = (KEYS * (createCalls + revokeCalls) * limit.perSeconds) / limit.requests;
      const sandboxLimit = sandboxProviderTable.find((r) => r.name === name)!.rateLimit;
      rows.push(
        `| ${name} | ${KEYS.toLocaleString('en')} | ${createSeconds.toFixed(1)} s (${rate(KEYS, createSeconds)}/s) | ` +
          `${revokeSeconds.toFixed(1)} s (${rate(KEYS, revokeSeconds)}/s) | ${createCalls.toFixed(2)} + ${revokeCalls.toFixed(2)} | ` +
          `${limit.requests.toLocaleString('en')} per ${limit.perSeconds} s → ${duration(boundSeconds)} | ` +
          `${sandboxLimit.requests.toLocaleString('en')} per ${sandboxLimit.perSeconds} s | ${Math.round(boundSeconds / (createSeconds + revokeSeconds)).toLocaleString('en')}x |`,
      );
      await (provider as { close?: () => unknown }).close?.();
      process.stderr.write(`${rows.at(-1)}\n`);
    }
  } finally {
    await sandbox.stop();
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(
    `Node ${process.version}, ${cpus().length} cores (${cpu}), load average ${loadavg()[0]!.toFixed(1)} at the end; ` +
      `concurrency ${CONCURRENCY}; sandbox rate limits off, adapter pacing off; HTTP calls per key counted by the sandboxes; each adapter (and its SDK) loaded before timing.\n\n` +
      '| provider | keys | create | revoke | calls per key (create + revoke) | adapter limit → same work at that pace | sandbox default limit | headroom |\n' +
      '|---|---:|---|---|---|---|---|---:|\n' +
      `${rows.join('\n')}\n` +
      `| ${MANUAL_PROVIDERS.join(', ')} | — | manual: no issuance API; rotation opens a ticket | | | | | |\n`,
  );
}

await main();
