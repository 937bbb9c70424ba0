// bench/sandbox.ts — issue 4's figures: create and revoke N keys per provider (default 10,000) through the real
// adapters against the provider sandboxes, with the sandboxes' rate limits lifted and the adapters' pacing off, so
// the figure is what the adapters, the SDK and HTTP cost; beside it, the time the provider's documented limit would
// impose on the same work (the physical bound of a bulk rotation). Run: `npx tsx bench/sandbox.ts [--keys N]
// [--concurrency C] [--providers aws-iam,github,gitlab]`.
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import type { CreateKeyRequest, Provider, ProviderKeyRef } from '../src/providers/provider.js';
import { createProvider } from '../src/providers/provider-table.js';
import { systemClock } from '../src/runtime/clock.js';
import { SandboxControlClient } from '../src/sandbox/sandbox-control-client.js';
import { sandboxProviderTable } from '../src/sandbox/sandbox-provider-table.js';
import { startSandbox } from '../src/sandbox/start-sandbox.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => (args.includes(name) ? (args[args.indexOf(name) + 1] ?? fallback) : fallback);
const KEYS = Number(flag('--keys', '10000'));
const CONCURRENCY = Number(flag('--concurrency', '16'));
const PROVIDERS = flag('--providers', 'aws-iam,github,gitlab').split(',');

/** Calls per key (create + revoke) and the documented limit, to say what the provider would allow. */
const CALLS_PER_KEY: Record<string, { create: number; revoke: number }> = {
  'aws-iam': { create: 1, revoke: 2 },
  github: { create: 1, revoke: 1 },
  gitlab: { create: 1, revoke: 1 },
};

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

async function requestsFor(name: string, control: SandboxControlClient): Promise<CreateKeyRequest[]> {
  if (name === 'aws-iam') {
    // Two keys per IAM user: one user per two keys.
    const users = Array.from({ length: Math.ceil(KEYS / 2) }, (_, i) => `bench-${i}-${randomBytes(2).toString('hex')}`);
    await pool(users, 8, async (userName) => {
      await control.call('POST', 'users', { userName });
    });
    return Array.from({ length: KEYS }, (_, i) => ({ name: `bench-${i}`, account: users[Math.floor(i / 2)]! }));
  }
  if (name === 'github') return Array.from({ length: KEYS }, (_, i) => ({ name: `bench-${i}`, account: 'acme/api' }));
  return Array.from({ length: KEYS }, (_, i) => ({ name: `bench-${i}`, account: `project:${(i % 3) + 1}` }));
}

async function main(): Promise<void> {
  const sandbox = await startSandbox({ org: 'none', rateLimits: 'off', providers: PROVIDERS });
  const rows: string[] = [];
  try {
    for (const name of PROVIDERS) {
      const provider: Provider = createProvider(name, { ...sandbox.providerOptions(name), rateLimit: 'off' }, { clock: systemClock });
      const control = new SandboxControlClient(sandbox.urls[name]!);
      const requests = await requestsFor(name, control);
      const refs: ProviderKeyRef[] = [];
      let started = performance.now();
      await pool(requests, CONCURRENCY, async (request) => {
        const created = await provider.create(request);
        refs.push({ providerKeyId: created.providerKeyId, ...(created.account ? { account: created.account } : {}) });
      });
      const createSeconds = (performance.now() - started) / 1000;
      started = performance.now();
      await pool(refs, CONCURRENCY, (ref) => provider.revoke(ref));
      const revokeSeconds = (performance.now() - started) / 1000;
      const limit = provider.rateLimit();
      const calls = CALLS_PER_KEY[name]!;
      const boundSeconds = (KEYS * (calls.create + calls.revoke) * limit.perSeconds) / limit.requests;
      const sandboxLimit = sandboxProviderTable.find((r) => r.name === name)!.rateLimit;
      rows.push(
        `| ${name} | ${KEYS.toLocaleString('en')} | ${createSeconds.toFixed(1)} s (${rate(KEYS, createSeconds)}/s) | ` +
          `${revokeSeconds.toFixed(1)} s (${rate(KEYS, revokeSeconds)}/s) | ${limit.requests.toLocaleString('en')} per ${limit.perSeconds} s ` +
          `→ ${duration(boundSeconds)} | ${sandboxLimit.requests.toLocaleString('en')} per ${sandboxLimit.perSeconds} s |`,
      );
      (provider as { close?: () => unknown }).close?.();
      process.stderr.write(`${rows.at(-1)}\n`);
    }
  } finally {
    await sandbox.stop();
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(
    `Node ${process.version}, ${cpus().length} cores (${cpu}), load average ${loadavg()[0]!.toFixed(1)} at the end; ` +
      `concurrency ${CONCURRENCY}; sandbox rate limits off, adapter pacing off.\n\n` +
      '| provider | keys | create | revoke | documented limit → same work at that pace | sandbox default limit |\n' +
      '|---|---:|---|---|---|---|\n' +
      `${rows.join('\n')}\n`,
  );
}

await main();
