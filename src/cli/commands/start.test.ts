// `keyledger start` is a working organisation: the `default` organisation started as `npm start` starts it (rate
// limits lifted, as bench/rotation.ts does), then `rotate --due` over every due key from "another terminal" with
// only the printed `export`: every rotatable key rotated, every manual one ticketed, each provider sandbox left
// with exactly one live key per rotated entry, and no consumer call failed. Then the banner's other commands.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { DueKey } from '../../lifecycle/rotation/rotation-due.js';
import { systemClock } from '../../runtime/clock.js';
import { runCli } from '../test-support/run-cli.js';
import { exportLine, type OpenedOrganisation, openOrganisation, tryCommands } from './start.js';

let work: string;
let opened: OpenedOrganisation;
let env: NodeJS.ProcessEnv;

/** A second terminal: the process environment plus the one `export` the banner prints, and a real clock. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(args, { cwd: work, env, clock: systemClock });
}

/** Runs a banner line as a shell would: `$KEYLEDGER_REGISTRY` expanded, quotes removed. */
function words(line: string): string[] {
  const expanded = line.replaceAll('"$KEYLEDGER_REGISTRY"', env.KEYLEDGER_REGISTRY!);
  return [...expanded.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]!).slice(2);
}

/** The live keys each provider lists in the accounts of these keys (what a rotation may change), by provider. */
async function liveKeys(keys: readonly DueKey[]): Promise<Map<string, Set<string>>> {
  const accounts = new Map<string, Set<string>>();
  for (const key of keys) {
    const provider = key.entry.scope!.provider;
    accounts.set(provider, (accounts.get(provider) ?? new Set()).add(key.entry.scope!.account_id!));
  }
  const live = new Map<string, Set<string>>();
  for (const [provider, accountIds] of accounts) {
    const ids = new Set<string>();
    for (const account of accountIds)
      for await (const listed of opened.working.provider(provider).list({ account }))
        if (listed.status !== 'revoked' && listed.status !== 'expired') ids.add(listed.providerKeyId);
    live.set(provider, ids);
  }
  return live;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'keyledger-start-'));
  opened = await openOrganisation({
    org: 'default',
    seed: 1,
    dir: join(work, '.keyledger', 'sandbox'),
    rateLimits: 'off',
    env: {},
    cwd: work,
    clock: systemClock,
    // The consumer uses its keys all the time, so that a key revoked too early would fail its calls within the test;
    // it reloads a key when a rotation's probe asks, so it need not reload them all often.
    consumer: { refreshMs: 60_000, callMs: 1_000 },
  });
  const { PATH, HOME } = process.env;
  env = { PATH, HOME, TMPDIR: tmpdir(), ...opened.exports };
}, 300_000);

afterAll(async () => {
  await opened?.working.stop();
  await rm(work, { recursive: true, force: true });
});

describe('keyledger start: a working organisation', () => {
  it('keeps credentials out of the registry and prints one export line for the other terminal', async () => {
    const { working } = opened;
    expect(exportLine(opened.exports)).toMatch(/^export KEYLEDGER_REGISTRY=\S+ KEYLEDGER_DATA_DIR=\S+/);
    expect(working.dataDir).toBe(join(working.registryDir, '.keyledger'));
    const config = parse(await readFile(join(working.registryDir, 'keyledger.config.yaml'), 'utf8'));
    expect(config.stores.vault).toMatchObject({
      kind: 'vault',
      address: working.vault.url,
      auth: { method: 'token-file' },
    });
    expect(config.tickets).toBe('markdown:../tickets');
    const committed = await readFile(join(working.registryDir, 'keyledger.config.yaml'), 'utf8');
    expect(committed).not.toContain(working.vault.rootToken);
    expect(await readFile(join(working.registryDir, '.gitignore'), 'utf8')).toContain('.keyledger/');
    expect(await readFile(working.vaultTokenFile, 'utf8')).toContain(working.vault.rootToken);
    // Names agree with the adapters: a GitHub "deploy" key is a deploy key.
    const github = working.sandbox.org!.keys.filter((key) => key.provider === 'github');
    for (const key of github.filter((k) => /-github-deploy-/.test(k.keyId))) expect(key.kind).toBe('deploy-key');
  });

  it('rotates every due key with `rotate --due`: rotatable ones rotated, manual ones ticketed, no consumer failure', async () => {
    const { working } = opened;
    const due = opened.due;
    expect(due.length).toBeGreaterThan(450);
    const rotatable = new Set(working.rotatable.map((key) => key.keyId));
    const dueRotatable = due.filter((key) => rotatable.has(key.keyId));
    const dueManual = due.filter((key) => !rotatable.has(key.keyId));
    expect(dueManual.length).toBeGreaterThan(0);
    const failuresBefore = working.consumer.stats().failures;
    const before = await liveKeys(dueRotatable);
    const started = performance.now();

    const run = await cli(['rotate', '--due', '--json', '--registry', working.registryDir]);
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`rotate --due: ${due.length} due keys in ${seconds.toFixed(1)} s\n`);
    const output = JSON.parse(run.stdout);
    expect(output.report.errors).toEqual([]);
    const rolledBack = await cli(['events', '--type', 'rolled_back', '--json']);
    const events = JSON.parse(rolledBack.stdout).events as Array<{ keyId: string; data: { failure: string } }>;
    const reasons = events.map((event) => `${event.keyId}: ${event.data.failure}`);
    expect(reasons).toEqual([]);
    expect(output.report).toMatchObject({
      done: dueRotatable.length,
      rolledBack: 0,
      failed: 0,
      deferred: 0,
      tickets: { opened: dueManual.length, failed: 0 },
    });
    expect(run.code).toBe(0);

    // Every manual key has its ticket, as a Markdown file in the sandbox's tickets folder.
    const tickets = await readdir(working.ticketsDir);
    expect(tickets.filter((name) => name.endsWith('.md'))).toHaveLength(dueManual.length);

    // Each provider lists exactly one live key per rotated entry: the new one, the old one gone, nothing else minted.
    const entries = new Map<string, { provider_key_id: string }>();
    for (const key of dueRotatable) {
      const entry = parse(await readFile(join(working.registryDir, key.file), 'utf8'));
      entries.set(key.keyId, entry);
      expect(entry.provider_key_id, key.keyId).not.toBe(key.entry.provider_key_id);
    }
    const after = await liveKeys(dueRotatable);
    for (const [providerName, keys] of before) {
      const expected = new Set(keys);
      for (const key of dueRotatable.filter((k) => k.entry.scope?.provider === providerName)) {
        expected.delete(key.entry.provider_key_id!);
        expected.add(entries.get(key.keyId)!.provider_key_id);
      }
      expect([...after.get(providerName)!].sort(), providerName).toEqual([...expected].sort());
    }

    // The consumer went on using the keys through every rotation without one failed call.
    const stats = working.consumer.stats();
    expect(stats.failureLog).toEqual([]);
    expect(stats.failures - failuresBefore).toBe(0);
    expect(stats.calls).toBeGreaterThan(0);

    // Nothing left to do: the next run finds only what is not rotatable by API (their tickets stay open).
    const again = await cli(['rotate', '--due', '--dry-run', '--json', '--registry', working.registryDir]);
    const left = JSON.parse(again.stdout).due.map((key: { keyId: string }) => key.keyId);
    expect(left.filter((keyId: string) => rotatable.has(keyId))).toEqual([]);
  }, 600_000);

  it('runs every command the banner prints, with only the export line set', async () => {
    const lines = tryCommands(opened);
    expect(lines.map((line) => line.split(' ')[2])).toEqual(
      expect.arrayContaining([
        'validate',
        'list',
        'show',
        'issue',
        'rotate',
        'revoke',
        'scan',
        'events',
        'audit-log',
        'discover',
        'audit',
      ]),
    );
    const results: Record<string, number> = {};
    for (const line of lines) {
      const run = await cli(words(line));
      results[line] = run.code;
      expect(run.stderr, line).not.toMatch(/internal error|not configured/);
      // validate checks every entry's vault_path in the configured Vault (its token from the data folder).
      if (line.includes(' validate ')) expect(run.stdout, line).toMatch(/storage: (\d+)\/\1 paths found/);
      // The planted leak is found and attributed to its registry entry by fingerprint.
      if (line.includes(' scan '))
        expect(run.stdout + run.stderr, line).toMatch(/[1-9]\d* attributed to registry keys/);
      // The audit's headline counts the keys discovery found without an entry, as discover classifies them.
      if (line.includes(' audit ')) expect(run.stdout, line).toMatch(/audit as of .* findings in \d+ teams/);
    }
    // validate reports the organisation's findings (exit 1); everything else succeeds, the scan finds its leak.
    for (const [line, code] of Object.entries(results)) {
      if (line.includes(' validate ') || line.includes(' scan ')) expect(code, line).toBe(1);
      else expect(code, line).toBe(0);
    }
  }, 600_000);
});
