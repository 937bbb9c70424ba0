// The registry's shared remote with real git: replicas each with their own clone of one bare repository, writing at
// once — every change lands exactly once, the history stays linear, no update is lost; a push that loses the race is
// rebased, or its write re-applied on the winner's head, or (when it no longer applies) refused with
// E_REGISTRY_REMOTE_CONFLICT leaving the clone clean and the refused commit kept. The races are made deterministic
// with a real pre-push hook that lets another clone push first.
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RegistryBatchChange, RegistryBatchCommitter } from './registry-batch-committer.js';
import { defaultRegistryConfig } from './registry-config.js';
import { REJECTED_REF_PREFIX, RegistryRemote } from './registry-remote.js';
import { RegistryWriter } from './registry-writer.js';
import { GIT_TEST_ENV } from './test-support/registry-fixtures.js';
import {
  cloneRemote,
  entryText,
  gitIn,
  makeBareRemote,
  remoteSettings,
  removeRemoteTestDirectories,
} from './test-support/remote-fixtures.js';

afterEach(removeRemoteTestDirectories);

const config = defaultRegistryConfig();
const author = { name: 'Replica', email: 'replica@example.com' };

function replica(clone: string, remote: string) {
  const registryRemote = new RegistryRemote(remoteSettings(remote), { root: clone, env: GIT_TEST_ENV, backoffMs: 5 });
  const writer = new RegistryWriter({ root: clone, config, author, env: GIT_TEST_ENV, remote: registryRemote });
  return { remote: registryRemote, writer };
}

/**
 * Makes the next push from `clone` lose the race: a pre-push hook (run by git itself, just before it sends) lets
 * `other` apply `change` (a shell script run in `other`), commit and push first — once.
 */
async function loseNextPush(clone: string, other: string, change: string): Promise<void> {
  const gitDir = join(clone, '.git');
  const script = join(gitDir, 'race-change.sh');
  await writeFile(script, change);
  await writeFile(join(gitDir, 'race-once'), '');
  await mkdir(join(gitDir, 'hooks'), { recursive: true });
  const hook = join(gitDir, 'hooks', 'pre-push');
  await writeFile(
    hook,
    `#!/bin/sh
cat >/dev/null
[ -f "${gitDir}/race-once" ] || exit 0
rm -f "${gitDir}/race-once"
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_PREFIX GIT_QUARANTINE_PATH
cd "${other}" || exit 1
git pull --quiet --ff-only origin main || exit 1
sh "${script}" || exit 1
git add -A && git commit --quiet -m "another replica" && git push --quiet origin HEAD:main || exit 1
`,
  );
  await chmod(hook, 0o755);
}

async function remoteLog(remote: string): Promise<string[]> {
  return (await gitIn(remote, 'log', '--format=%s', 'main')).split('\n');
}

async function expectLinear(remote: string): Promise<void> {
  expect(await gitIn(remote, 'rev-list', '--merges', 'main')).toBe('');
}

describe('RegistryRemote', () => {
  it('three writer processes with their own clones: every change lands once, linear history, no lost update', async () => {
    const shared = ['shared-a', 'shared-b'];
    const remote = await makeBareRemote(Object.fromEntries(shared.map((id) => [`keys/${id}.yaml`, entryText(id)])));
    const fields = ['description', 'justification', 'rotation_owner'];
    const count = 3;
    const clones = await Promise.all(fields.map(() => cloneRemote(remote)));
    const script = join(import.meta.dirname, 'test-support', 'remote-writer-process.ts');
    const runs = clones.map(
      (clone, worker) =>
        new Promise<{ code: number; stats: string }>((resolve) => {
          const child = spawn(
            process.execPath,
            ['--import', 'tsx', script, clone, String(worker), String(count), shared.join(','), fields[worker]!],
            {
              env: { ...process.env, ...GIT_TEST_ENV, KEYLEDGER_REGISTRY_REMOTE: remote },
              stdio: ['ignore', 'pipe', 'inherit'],
            },
          );
          let stats = '';
          child.stdout.setEncoding('utf8').on('data', (text: string) => {
            stats += text;
          });
          child.on('exit', (code) => resolve({ code: code ?? 1, stats }));
        }),
    );
    const results = await Promise.all(runs);
    expect(results.map(({ code }) => code)).toEqual([0, 0, 0]);
    const stats = results.map(({ stats }) => JSON.parse(stats) as RegistryRemote['stats']);

    await expectLinear(remote);
    const log = await remoteLog(remote);
    // The seed, one create per entry, one update per shared entry per round per writer: nothing twice, nothing lost.
    expect(log).toHaveLength(1 + fields.length * count * (1 + shared.length));
    for (let worker = 0; worker < fields.length; worker++)
      for (let i = 0; i < count; i++)
        expect(log.filter((s) => s === `keyledger: create w${worker}-${i}`)).toHaveLength(1);
    for (const id of shared)
      expect(log.filter((s) => s === `keyledger: update ${id}`)).toHaveLength(fields.length * count);
    // Each writer's last value of its own field is there: the others' writes did not overwrite it.
    for (const id of shared) {
      const text = await gitIn(remote, 'show', `main:keys/${id}.yaml`);
      expect(text).toContain(`description: w0-${count - 1}`);
      expect(text).toContain(`justification: w1-${count - 1}`);
      expect(text).toContain(`rotation_owner: w2-${count - 1}`);
    }
    for (const clone of clones) expect(await gitIn(clone, 'status', '--porcelain')).toBe('');
    // The writers did meet: pushes were refused and published again.
    expect(stats.reduce((sum, s) => sum + s.racesLost, 0)).toBeGreaterThan(0);
    expect(stats.reduce((sum, s) => sum + s.published, 0)).toBe(fields.length * count * (1 + shared.length));
  }, 400_000);

  it('rebases a write onto another replica’s push to a different file', async () => {
    const remote = await makeBareRemote({ 'keys/k1.yaml': entryText('k1') });
    const [a, b] = [await cloneRemote(remote), await cloneRemote(remote)];
    const { remote: registryRemote, writer } = replica(a, remote);
    await loseNextPush(a, b, `mkdir -p keys && cat > keys/k2.yaml <<'YAML'\n${entryText('k2')}YAML\n`);
    const result = await writer.update('k1', { description: 'from replica a' });
    expect(registryRemote.stats).toMatchObject({ published: 1, racesLost: 1, rebased: 1, reapplied: 0 });
    expect(result.commit).toBe(await gitIn(remote, 'rev-parse', 'main'));
    expect(await remoteLog(remote)).toEqual(['keyledger: update k1', 'another replica', 'initial']);
    await expectLinear(remote);
    expect(await gitIn(a, 'status', '--porcelain')).toBe('');
    expect(await readFile(join(a, 'keys/k2.yaml'), 'utf8')).toBe(entryText('k2'));
  }, 120_000);

  it('re-applies the patch on the new head when both replicas changed the same line', async () => {
    const remote = await makeBareRemote({ 'keys/k1.yaml': entryText('k1') });
    const [a, b] = [await cloneRemote(remote), await cloneRemote(remote)];
    const { remote: registryRemote, writer } = replica(a, remote);
    await loseNextPush(
      a,
      b,
      `sed -i 's/^description: .*/description: from replica b/; s/^justification: .*/justification: b was here/' keys/k1.yaml\n`,
    );
    await writer.update('k1', { description: 'from replica a' });
    expect(registryRemote.stats).toMatchObject({ published: 1, racesLost: 1, rebased: 0, reapplied: 1 });
    expect(await remoteLog(remote)).toEqual(['keyledger: update k1', 'another replica', 'initial']);
    await expectLinear(remote);
    const text = await gitIn(remote, 'show', 'main:keys/k1.yaml');
    // Serialised: b's edit first, then a's patch applied to it; b's other change is kept.
    expect(text).toContain('description: from replica a');
    expect(text).toContain('justification: b was here');
    expect(await gitIn(a, 'status', '--porcelain')).toBe('');
  }, 120_000);

  it('a write that no longer applies is E_REGISTRY_REMOTE_CONFLICT: clone clean at the remote, the commit kept', async () => {
    const remote = await makeBareRemote({ 'keys/k1.yaml': entryText('k1') });
    const [a, b] = [await cloneRemote(remote), await cloneRemote(remote)];
    const { writer } = replica(a, remote);
    await loseNextPush(a, b, 'git rm --quiet keys/k1.yaml\n');
    const error = await writer.update('k1', { description: 'from replica a' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'E_REGISTRY_REMOTE_CONFLICT', category: 'conflict' });
    expect((error as Error).message).toContain('no registry entry with key_id "k1"');
    // Nothing published, the clone is clean at the remote's head, and the refused change is kept.
    expect(await remoteLog(remote)).toEqual(['another replica', 'initial']);
    expect(await gitIn(a, 'status', '--porcelain')).toBe('');
    expect(await gitIn(a, 'rev-parse', 'HEAD')).toBe(await gitIn(remote, 'rev-parse', 'main'));
    const kept = (error as { details: { rejectedRef: string } }).details.rejectedRef;
    expect(kept.startsWith(REJECTED_REF_PREFIX)).toBe(true);
    expect(await gitIn(a, 'show', `${kept}:keys/k1.yaml`)).toContain('description: from replica a');
    // The next write goes on from there.
    await writer.create({ key_id: 'k3', owner_team: 'platform', scope: { provider: 'internal' } });
    expect((await remoteLog(remote))[0]).toBe('keyledger: create k3');
  }, 120_000);

  it('a create racing the same key_id created elsewhere is a conflict, not a duplicate entry', async () => {
    const remote = await makeBareRemote({ 'keys/k1.yaml': entryText('k1') });
    const [a, b] = [await cloneRemote(remote), await cloneRemote(remote)];
    const { writer } = replica(a, remote);
    await loseNextPush(a, b, `cat > keys/k9.yaml <<'YAML'\n${entryText('k9', { description: 'b made it' })}YAML\n`);
    await expect(
      writer.create({ key_id: 'k9', owner_team: 'platform', scope: { provider: 'internal' } }),
    ).rejects.toMatchObject({ code: 'E_REGISTRY_REMOTE_CONFLICT' });
    expect(await gitIn(remote, 'show', 'main:keys/k9.yaml')).toContain('b made it');
    expect(await gitIn(a, 'status', '--porcelain')).toBe('');
  }, 120_000);

  it('publishes a commit a crashed process left unpushed, rebased onto what others pushed since', async () => {
    const remote = await makeBareRemote({ 'keys/k1.yaml': entryText('k1') });
    const [a, b] = [await cloneRemote(remote), await cloneRemote(remote)];
    // A replica died between its commit and its push: the commit sits in its clone only.
    await writeFile(join(a, 'keys/k1.yaml'), entryText('k1', { justification: 'left unpushed' }));
    await gitIn(a, 'commit', '--quiet', '-am', 'keyledger: update k1');
    // Meanwhile another replica pushed.
    await writeFile(join(b, 'keys/k2.yaml'), entryText('k2'));
    await gitIn(b, 'add', '-A');
    await gitIn(b, 'commit', '--quiet', '-m', 'keyledger: create k2');
    await gitIn(b, 'push', '--quiet', 'origin', 'HEAD:main');
    const { writer } = replica(a, remote);
    await writer.create({ key_id: 'k3', owner_team: 'platform', scope: { provider: 'internal' } });
    expect(await remoteLog(remote)).toEqual([
      'keyledger: create k3',
      'keyledger: update k1',
      'keyledger: create k2',
      'initial',
    ]);
    await expectLinear(remote);
  }, 120_000);

  it('batches from two replicas at once: every change in exactly one published commit', async () => {
    const remote = await makeBareRemote({ 'README.md': 'registry\n' });
    const replicas = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const clone = await cloneRemote(remote);
        const { writer, remote: registryRemote } = replica(clone, remote);
        const committer = new RegistryBatchCommitter({
          root: clone,
          writer,
          gitEnv: GIT_TEST_ENV,
          lingerMs: 5,
          maxBatch: 7,
          subject: (count) => `keyledger: ${name} ${count} change(s)`,
        });
        return { name, clone, committer, registryRemote };
      }),
    );
    const creation = (clone: string, keyId: string): RegistryBatchChange => ({
      keyId,
      summary: `created ${keyId}`,
      apply: async () => {
        const file = `keys/${keyId}.yaml`;
        await mkdir(join(clone, 'keys'), { recursive: true });
        await writeFile(join(clone, file), entryText(keyId), { flag: 'wx' });
        return { file, written: true, created: true };
      },
      revert: async (file) => rm(join(clone, file), { force: true }),
    });
    const keyIds = (name: string) => Array.from({ length: 30 }, (_, i) => `${name}-${i}`);
    const committed = await Promise.all(
      replicas.flatMap(({ name, clone, committer }) =>
        keyIds(name).map((keyId) => committer.submit(creation(clone, keyId))),
      ),
    );
    await expectLinear(remote);
    const head = await gitIn(remote, 'rev-parse', 'main');
    const files = (await gitIn(remote, 'ls-tree', '-r', '--name-only', 'main', 'keys')).split('\n');
    expect(files.sort()).toEqual([...keyIds('a'), ...keyIds('b')].map((id) => `keys/${id}.yaml`).sort());
    // Each key is named in exactly one commit's message, and each change resolved with a commit on the remote.
    const bodies = await gitIn(remote, 'log', '--format=%b', 'main');
    for (const keyId of [...keyIds('a'), ...keyIds('b')])
      expect(bodies.split('\n').filter((line) => line === `${keyId}: created ${keyId}`)).toHaveLength(1);
    for (const { commit } of committed)
      expect(await gitIn(remote, 'merge-base', '--is-ancestor', commit, head)).toBe('');
    for (const { clone } of replicas) expect(await gitIn(clone, 'status', '--porcelain')).toBe('');
  }, 120_000);

  it('the writer’s key_id index follows what other replicas pushed: new, moved and deleted entries', async () => {
    const remote = await makeBareRemote({
      'keys/team-a/moves.yaml': entryText('moves'),
      'keys/team-a/goes.yaml': entryText('goes'),
      'keys/team-a/stays.yaml': entryText('stays'),
    });
    const [a, b] = [await cloneRemote(remote), await cloneRemote(remote)];
    const { writer } = replica(a, remote);
    expect(await writer.fileOf('moves')).toBe('keys/team-a/moves.yaml');
    await mkdir(join(b, 'keys/team-b'), { recursive: true });
    await writeFile(join(b, 'keys/team-b/arrives.yaml'), entryText('arrives'));
    await gitIn(b, 'mv', 'keys/team-a/moves.yaml', 'keys/team-b/moves.yaml');
    await gitIn(b, 'rm', '--quiet', 'keys/team-a/goes.yaml');
    await gitIn(b, 'add', '-A');
    await gitIn(b, 'commit', '--quiet', '-m', 'another replica');
    await gitIn(b, 'push', '--quiet', 'origin', 'HEAD:main');
    // A write pulls first; the entry another replica made is found where it put it.
    const result = await writer.update('arrives', { description: 'found it' });
    expect(result.file).toBe('keys/team-b/arrives.yaml');
    expect(await writer.fileOf('moves')).toBe('keys/team-b/moves.yaml');
    expect(await writer.fileOf('goes')).toBeUndefined();
    expect(await writer.fileOf('stays')).toBe('keys/team-a/stays.yaml');
    // The same as a writer that reads every file.
    const fresh = new RegistryWriter({ root: a, config, author, env: GIT_TEST_ENV });
    const ids = ['arrives', 'moves', 'goes', 'stays'];
    expect(await writer.filesOf(ids)).toEqual(await fresh.filesOf(ids));
  }, 120_000);

  it('readers pull only when the remote moved', async () => {
    const remote = await makeBareRemote({ 'keys/k1.yaml': entryText('k1') });
    const [a, b] = [await cloneRemote(remote), await cloneRemote(remote)];
    const reader = new RegistryRemote(remoteSettings(remote), { root: a, env: GIT_TEST_ENV });
    expect(await reader.refresh()).toBe(false);
    await replica(b, remote).writer.update('k1', { description: 'changed by b' });
    expect(await reader.refresh()).toBe(true);
    expect(await readFile(join(a, 'keys/k1.yaml'), 'utf8')).toContain('description: changed by b');
    expect(await reader.refresh()).toBe(false);
  }, 120_000);

  it('pushes the first write to a remote that has no branch yet', async () => {
    const remote = await makeBareRemote({ 'keys/k1.yaml': entryText('k1') });
    const empty = join(remote, '..', 'empty.git');
    await gitIn(join(remote, '..'), 'init', '--quiet', '--bare', '--initial-branch=main', empty);
    const clone = await cloneRemote(remote);
    const { writer } = replica(clone, empty);
    await writer.update('k1', { description: 'first on the new remote' });
    expect(await remoteLog(empty)).toEqual(['keyledger: update k1', 'initial']);
  }, 120_000);
});
