// bench/registry-remote.ts — registry writes through a shared remote (docs/registry.md, "A shared remote"): a bare
// repository of N entries (keys/<team>/<key_id>.yaml), then 1, 2 and 3 writers, each with its own clone and its own
// RegistryRemote, updating distinct entries at once; every write is fetched, committed and pushed before the next.
// Prints writes per second and how often a push lost the race (rebased, or re-applied). The writers share this
// process's event loop; their git runs in processes of its own, as replicas' would.
// Run: `npx tsx bench/registry-remote.ts [--entries N] [--writes N]` (defaults 10,000 and 20 per writer).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGit } from '../src/git/git-command.js';
import { defaultRegistryConfig } from '../src/registry/registry-config.js';
import { RegistryRemote } from '../src/registry/registry-remote.js';
import { RegistryWriter, renderNewEntry } from '../src/registry/registry-writer.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => Number(args[args.indexOf(name) + 1] || fallback) || fallback;
const entries = option('--entries', 10_000);
const writesPerWriter = option('--writes', 20);
const TEAMS = ['payments', 'search', 'platform', 'data', 'identity', 'growth', 'mobile', 'infra'];
const env = {
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
};
const git = (cwd: string, ...gitArgs: string[]) => runGit(gitArgs, { cwd, env });

const work = mkdtempSync(join(tmpdir(), 'keyledger-bench-remote-'));
try {
  const seed = join(work, 'seed');
  for (let i = 0; i < entries; i++) {
    const team = TEAMS[i % TEAMS.length]!;
    const keyId = `${team}-key-${i}`;
    mkdirSync(join(seed, 'keys', team), { recursive: true });
    writeFileSync(
      join(seed, 'keys', team, `${keyId}.yaml`),
      renderNewEntry({
        key_id: keyId,
        description: `key ${i}`,
        owner_team: team,
        owner_individual: `owner${i % 97}@example.com`,
        created_at: '2026-06-01T00:00:00Z',
        expiration: '2027-06-01T00:00:00Z',
        scope: { provider: 'internal' },
        storage: { store: 'default', path: `${team}/${keyId}` },
      }),
    );
  }
  await git(work, 'init', '--quiet', '--initial-branch=main', seed);
  await git(seed, 'add', '-A');
  await git(seed, 'commit', '--quiet', '-m', 'seed');
  const remote = join(work, 'registry.git');
  await git(work, 'clone', '--quiet', '--bare', seed, remote);
  console.log(
    `registry writes through a shared remote: ${entries} entries, ${writesPerWriter} writes per writer; ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}`,
  );
  console.log('writers  writes  seconds  writes/s  races lost  rebased  re-applied');
  let round = 0;
  for (const writers of [1, 2, 3]) {
    round += 1;
    const replicas = await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const clone = join(work, `clone-${writers}-${w}`);
        await git(work, 'clone', '--quiet', remote, clone);
        const registryRemote = new RegistryRemote(
          { url: remote, branch: 'main', tokenUser: 'x-access-token', pullIntervalMs: 0 },
          { root: clone, env, maxAttempts: 30 },
        );
        const writer = new RegistryWriter({
          root: clone,
          config: defaultRegistryConfig(),
          env,
          remote: registryRemote,
        });
        // Warm the key_id index (one read of every file) outside the timing, as a long-running replica has it.
        await writer.fileOf('payments-key-0');
        return { writer, registryRemote, w };
      }),
    );
    const started = performance.now();
    await Promise.all(
      replicas.map(async ({ writer, w }) => {
        for (let i = 0; i < writesPerWriter; i++) {
          const entry = ((w * writesPerWriter + i) * 7 + round) % entries;
          const keyId = `${TEAMS[entry % TEAMS.length]}-key-${entry}`;
          await writer.update(keyId, { description: `round ${round} writer ${w} write ${i}` });
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const total = writers * writesPerWriter;
    const sum = (field: 'racesLost' | 'rebased' | 'reapplied') =>
      replicas.reduce((acc, { registryRemote }) => acc + registryRemote.stats[field], 0);
    console.log(
      `${String(writers).padStart(7)}  ${String(total).padStart(6)}  ${seconds.toFixed(1).padStart(7)}  ${(total / seconds).toFixed(1).padStart(8)}  ${String(sum('racesLost')).padStart(10)}  ${String(sum('rebased')).padStart(7)}  ${String(sum('reapplied')).padStart(10)}`,
    );
    const merges = (await git(remote, 'rev-list', '--merges', 'main')).trim();
    if (merges !== '') throw new Error('the remote history is not linear');
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
