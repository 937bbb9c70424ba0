// Builders for the shared-remote tests: a bare repository seeded with registry files (the remote every replica
// pushes to), clones of it (one per replica), and settings naming it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGit } from '../../git/git-command.js';
import type { RegistryRemoteSettings } from '../registry-remote-settings.js';
import { renderNewEntry } from '../registry-writer.js';
import { GIT_TEST_ENV, makeRegistry } from './registry-fixtures.js';

/** Temporary directories made here, for afterEach to remove. */
export const remoteTestDirectories: string[] = [];

export async function removeRemoteTestDirectories(): Promise<void> {
  await Promise.all(remoteTestDirectories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** A minimal valid entry's YAML, for seeding. */
export function entryText(keyId: string, extra: Record<string, unknown> = {}): string {
  return renderNewEntry({
    key_id: keyId,
    description: `the ${keyId} key`,
    purpose: 'a shared-remote test',
    owner_team: 'platform',
    owner_individual: 'p@example.com',
    justification: 'none yet',
    created_at: '2026-11-23T10:00:00Z',
    expiration: '2027-05-22T10:00:00Z',
    scope: { provider: 'internal' },
    storage: { store: 'default', path: `seed/${keyId}` },
    audit: { rotation_owner: 'nobody' },
    ...extra,
  });
}

/** A bare repository on `main` holding `files` in one commit: the shared remote. */
export async function makeBareRemote(files: Record<string, string>): Promise<string> {
  const seed = await makeRegistry(files, { git: true });
  const parent = await mkdtemp(join(tmpdir(), 'keyledger-remote-'));
  remoteTestDirectories.push(seed, parent);
  const remote = join(parent, 'registry.git');
  await runGit(['clone', '--quiet', '--bare', seed, remote], { cwd: parent, env: GIT_TEST_ENV });
  return remote;
}

/** A replica's clone of the remote. */
export async function cloneRemote(remote: string): Promise<string> {
  const parent = await mkdtemp(join(tmpdir(), 'keyledger-clone-'));
  remoteTestDirectories.push(parent);
  const dir = join(parent, 'registry');
  await runGit(['clone', '--quiet', remote, dir], { cwd: parent, env: GIT_TEST_ENV });
  return dir;
}

export function remoteSettings(url: string, extra: Partial<RegistryRemoteSettings> = {}): RegistryRemoteSettings {
  return { url, branch: 'main', tokenUser: 'x-access-token', pullIntervalMs: 0, ...extra };
}

/** `git <args>` in `dir` with the pinned test identity; the output trimmed. */
export async function gitIn(dir: string, ...args: string[]): Promise<string> {
  return (await runGit(args, { cwd: dir, env: GIT_TEST_ENV })).trim();
}
