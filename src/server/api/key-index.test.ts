// The key index's groups: every snapshot groups entries by owner_team and by owner_individual, sorted by key_id,
// kept right when HEAD moves (an entry that changes team leaves its old group); and the list route's candidates
// read only the groups a request can match (a team filter its team, a member their teams and the keys naming them).
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runGit } from '../../git/git-command.js';
import { defaultRegistryConfig } from '../../registry/registry-config.js';
import type { LoadedEntry } from '../../registry/registry-loader.js';
import { GIT_TEST_ENV, makeRegistry, seedExampleWith } from '../../registry/test-support/registry-fixtures.js';
import type { Principal } from '../access.js';
import { KeyIndex, mergeSortedEntries } from './key-index.js';
import { candidatesFor } from './key-routes.js';

const roots: string[] = [];
afterAll(async () => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));

const entry = (keyId: string, team: string, owner: string) =>
  seedExampleWith(keyId, [
    ['owner_team: payments', `owner_team: ${team}`],
    ['owner_individual: alice@example.com', `owner_individual: ${owner}`],
  ]);

const member = (teams: string[], email: string): Principal => ({
  kind: 'session',
  subject: email,
  email,
  roles: ['member'],
  teams,
  scopes: ['*'],
});

it('groups entries by team and owner, follows HEAD, and gives each list request only the groups it can match', async () => {
  const root = await makeRegistry(
    {
      'keys/c.yaml': entry('c-key', 'payments', 'alice@example.com'),
      'keys/a.yaml': entry('a-key', 'payments', 'bob@example.com'),
      'keys/b.yaml': entry('b-key', 'search', 'Alice@Example.com'),
      'keys/d.yaml': entry('d-key', 'search', 'bob@example.com'),
    },
    { git: true },
  );
  roots.push(root);
  const index = await KeyIndex.open({ root, config: defaultRegistryConfig() });
  const ids = (list: readonly { entry: { key_id: string } }[] | undefined) => (list ?? []).map((l) => l.entry.key_id);
  let snapshot = await index.current({ force: true });
  expect(ids(snapshot.byTeam.get('payments'))).toEqual(['a-key', 'c-key']);
  expect(ids(snapshot.byTeam.get('search'))).toEqual(['b-key', 'd-key']);
  expect(ids(snapshot.byOwner.get('alice@example.com'))).toEqual(['b-key', 'c-key']);

  // A team filter reads that team's group; an owner filter that person's; security every entry.
  expect(ids(candidatesFor(snapshot, member([], 'x@example.com'), { team: 'search' }))).toEqual(['b-key', 'd-key']);
  expect(ids(candidatesFor(snapshot, member([], 'x@example.com'), { owner: 'BOB@example.com' }))).toEqual([
    'a-key',
    'd-key',
  ]);
  expect(ids(candidatesFor(snapshot, { ...member([], 's@example.com'), roles: ['security'] }, {}))).toEqual([
    'a-key',
    'b-key',
    'c-key',
    'd-key',
  ]);
  // A member: their teams' entries and the ones naming them, sorted, each once.
  expect(ids(candidatesFor(snapshot, member(['payments'], 'alice@example.com'), {}))).toEqual([
    'a-key',
    'b-key',
    'c-key',
  ]);
  expect(ids(candidatesFor(snapshot, member([], 'nobody@example.com'), {}))).toEqual([]);

  // An entry moved to another team by a commit leaves its old group at the next refresh.
  await writeFile(join(root, 'keys/c.yaml'), entry('c-key', 'search', 'alice@example.com'));
  await runGit(['commit', '--quiet', '-am', 'move c-key to search'], { cwd: root, env: GIT_TEST_ENV });
  snapshot = await index.current({ force: true });
  expect(ids(snapshot.byTeam.get('payments'))).toEqual(['a-key']);
  expect(ids(snapshot.byTeam.get('search'))).toEqual(['b-key', 'c-key', 'd-key']);
});

it('merges sorted groups into one sorted list without repeats', () => {
  const loaded = (keyId: string) => ({ file: `keys/${keyId}.yaml`, entry: { key_id: keyId } }) as LoadedEntry;
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(loaded) as [LoadedEntry, LoadedEntry, LoadedEntry, LoadedEntry];
  expect(mergeSortedEntries([])).toEqual([]);
  const only = [a, c];
  expect(mergeSortedEntries([[], only])).toBe(only);
  expect(mergeSortedEntries([[a, c], [b, c, d], []]).map((l) => l.entry.key_id)).toEqual(['a', 'b', 'c', 'd']);
});
