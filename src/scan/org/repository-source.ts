// Where `keyledger scan org` finds its repositories: a directory of repositories (each subdirectory that is a git
// repository, bare or with a work tree), or a file of clone URLs, one a line. Each repository has a name (the
// key of the org-scan state and of the report) and a clone URL; the URL may carry credentials, so it is never
// printed — reports and errors name the repository only.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KeyledgerError } from '../../errors/keyledger-error.js';
import type { GitHttpCredentials, RepositoryHost } from '../../providers/repository-host.js';

const sourceError = (message: string) => new KeyledgerError('E_SCAN_ORG_SOURCE', message, { category: 'usage' });

export interface OrgRepository {
  /** Unique within the organisation: `team/api`, `billing`. */
  name: string;
  /** Anything `git clone` accepts: a path, file://, https://, ssh. */
  cloneUrl: string;
  /** What git sends to the host over HTTPS (the token as Basic password): in git's environment, never the URL. */
  credentials?: GitHttpCredentials;
}

function isGitRepository(dir: string): boolean {
  return existsSync(join(dir, '.git')) || (existsSync(join(dir, 'HEAD')) && existsSync(join(dir, 'objects')));
}

/** The git repositories directly under `dir` (a mirror of an organisation, a CI workspace), sorted by name. */
export async function listDirectoryRepositories(dir: string): Promise<OrgRepository[]> {
  const root = resolve(dir);
  if (!existsSync(root)) throw sourceError(`${dir}: no such directory`);
  const entries = await readdir(root, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory() && isGitRepository(join(root, entry.name)))
    .map((entry) => ({ name: entry.name.replace(/\.git$/, ''), cloneUrl: join(root, entry.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The name a clone URL gives its repository: its path without `.git` (`acme/api` for .../acme/api.git). */
export function repositoryNameOf(url: string): string {
  const path = url.replace(/^[a-z+]+:\/\/[^/]*/i, '').replace(/^[^@/]+@[^:]+:/, '');
  const parts = path
    .replace(/\.git\/?$/, '')
    .split('/')
    .filter(Boolean);
  return parts.slice(-2).join('/') || url;
}

/** Clone URLs from a file, one a line (`#` comments and blank lines skipped); an optional name before a space. */
export async function listUrlFileRepositories(file: string): Promise<OrgRepository[]> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw sourceError(`${file}: cannot read the list of clone URLs`);
  });
  const repositories: OrgRepository[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [first, second] = line.split(/\s+/);
    const repository = second
      ? { name: first as string, cloneUrl: second }
      : { name: repositoryNameOf(first as string), cloneUrl: first as string };
    if (seen.has(repository.name)) {
      throw sourceError(
        `${file}:${index + 1}: repository name ${repository.name} appears twice (give one a name before its URL)`,
      );
    }
    seen.add(repository.name);
    repositories.push(repository);
  });
  return repositories;
}

/**
 * The repositories a host lists for `owner` (an organisation, a group with its subgroups), named by their full
 * path, each with the host's clone credentials.
 */
export async function listHostedRepositories(host: RepositoryHost, owner: string): Promise<OrgRepository[]> {
  const credentials = host.gitCredentials();
  const repositories: OrgRepository[] = [];
  for await (const repository of host.listRepositories(owner)) {
    repositories.push({
      name: repository.name,
      cloneUrl: repository.cloneUrl,
      ...(credentials ? { credentials } : {}),
    });
  }
  return repositories.sort((a, b) => a.name.localeCompare(b.name));
}
