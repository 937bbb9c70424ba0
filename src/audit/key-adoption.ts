// `keyledger discover --adopt`: a draft registry entry for each key a provider holds that no entry accounts for,
// committed on a branch of the registry (one commit per owning team) for a person to review and merge — as a pull
// request would be. Written through git plumbing against a temporary index, so the user's working tree, index and
// checked-out branch are never touched. A draft carries the owner evidence as a comment and leaves out what only a
// person can know (where the secret is stored), so `keyledger validate` on the branch says what is left to fill in.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGit } from '../git/git-command.js';
import { renderNewEntry, teamEntryFile } from '../registry/registry-writer.js';
import type { ClassifiedKey } from './drift-classification.js';

export interface AdoptionResult {
  branch: string;
  drafted: number;
  commits: number;
  files: string[];
}

const UNOWNED_TEAM = 'unowned';

export async function draftAdoptionBranch(input: {
  root: string;
  keys: readonly ClassifiedKey[];
  now: Date;
  env?: NodeJS.ProcessEnv;
  branch?: string;
}): Promise<AdoptionResult> {
  const branch = input.branch ?? `keyledger/adopt-${input.now.toISOString().slice(0, 10)}`;
  const scratch = await mkdtemp(join(tmpdir(), 'keyledger-adopt-'));
  const env = {
    ...input.env,
    GIT_INDEX_FILE: join(scratch, 'index'),
    GIT_AUTHOR_NAME: input.env?.GIT_AUTHOR_NAME ?? 'keyledger',
    GIT_AUTHOR_EMAIL: input.env?.GIT_AUTHOR_EMAIL ?? 'keyledger@localhost',
    GIT_COMMITTER_NAME: input.env?.GIT_COMMITTER_NAME ?? 'keyledger',
    GIT_COMMITTER_EMAIL: input.env?.GIT_COMMITTER_EMAIL ?? 'keyledger@localhost',
  };
  const git = (args: string[], stdin?: string) =>
    runGit(args, { cwd: input.root, env, ...(stdin !== undefined ? { input: stdin } : {}) }).then((out) => out.trim());
  try {
    // Start from the branch if an earlier run made it (a re-run adds only what is new), else from HEAD.
    const existing = await git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]).catch(() => '');
    let parent = existing || (await git(['rev-parse', 'HEAD']));
    await git(['read-tree', parent]);
    const present = new Set((await git(['ls-files'])).split('\n'));
    const byTeam = new Map<string, ClassifiedKey[]>();
    for (const key of input.keys) {
      const team = key.ownerEvidence?.team ?? UNOWNED_TEAM;
      byTeam.set(team, [...(byTeam.get(team) ?? []), key]);
    }
    const result: AdoptionResult = { branch, drafted: 0, commits: 0, files: [] };
    for (const [team, keys] of [...byTeam].sort(([a], [b]) => a.localeCompare(b))) {
      const drafts: Array<{ file: string; text: string }> = [];
      for (const key of keys) {
        const keyId = adoptedKeyId(team, key);
        const file = teamEntryFile(team, keyId);
        if (present.has(file)) continue;
        drafts.push({ file, text: draftEntry(keyId, team, key, input.now) });
        present.add(file);
      }
      if (drafts.length === 0) continue;
      // One git process for the team's blobs and one for its index entries, not two per key: a process start costs
      // tens to hundreds of milliseconds on a busy machine, and an organisation's first adoption drafts hundreds.
      const blobs = await writeBlobs(git, scratch, drafts);
      await git(
        ['update-index', '--add', '--index-info'],
        drafts.map((draft, index) => `100644 ${blobs[index]}\t${draft.file}\n`).join(''),
      );
      result.files.push(...drafts.map((draft) => draft.file));
      const added = drafts.length;
      const tree = await git(['write-tree']);
      parent = await git([
        'commit-tree',
        tree,
        '-p',
        parent,
        '-m',
        `keyledger discover --adopt: ${added} draft entr${added === 1 ? 'y' : 'ies'} for team ${team}\n\nKeys found at their providers with no registry entry. Confirm the owner, add storage and expiration, then merge.`,
      ]);
      result.drafted += added;
      result.commits += 1;
    }
    if (result.commits > 0) await git(['update-ref', `refs/heads/${branch}`, parent]);
    return result;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Writes each draft as a blob through one `git hash-object -w --stdin-paths`; returns the blob ids in order. */
async function writeBlobs(
  git: (args: string[], stdin?: string) => Promise<string>,
  scratch: string,
  drafts: ReadonlyArray<{ text: string }>,
): Promise<string[]> {
  const folder = await mkdtemp(join(scratch, 'drafts-'));
  const paths = await Promise.all(
    drafts.map(async (draft, index) => {
      const path = join(folder, `${index}.yaml`);
      await writeFile(path, draft.text);
      return path;
    }),
  );
  const blobs = (await git(['hash-object', '-w', '--no-filters', '--stdin-paths'], `${paths.join('\n')}\n`)).split(
    '\n',
  );
  if (blobs.length !== drafts.length)
    throw new Error(`git hash-object wrote ${blobs.length} blobs for ${drafts.length} drafts`);
  return blobs;
}

function adoptedKeyId(team: string, key: ClassifiedKey): string {
  const id = (key.providerKeyId ?? 'unknown')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(-12)
    .toLowerCase();
  return `${team}-${key.provider}-adopted-${id}`;
}

function draftEntry(keyId: string, team: string, key: ClassifiedKey, now: Date): string {
  const evidence = key.ownerEvidence?.because ?? [];
  const header = [
    `# Drafted by \`keyledger discover --adopt\` on ${now.toISOString().slice(0, 10)}: ${key.provider} holds this key and no`,
    '# registry entry accounted for it. Owner evidence:',
    ...evidence.map((line) => `#   - ${line}`),
    '# To do before merging: confirm owner_team and owner_individual, add `storage` (where the secret lives) and an',
    '# `expiration`, or revoke the key if nobody needs it.',
  ];
  const entry: Record<string, unknown> = {
    key_id: keyId,
    description: `Discovered at ${key.provider}${key.account ? ` (${key.account})` : ''}; adopted for review`,
    ...(team !== UNOWNED_TEAM ? { owner_team: team } : {}),
    ...(key.ownerEvidence?.individual ? { owner_individual: key.ownerEvidence.individual } : {}),
    ...(key.createdAt ? { created_at: key.createdAt.replace(/\.\d{3}Z$/, 'Z') } : {}),
    status: 'active',
    provider_key_id: key.providerKeyId,
    tags: ['adopted'],
    scope: {
      provider: key.provider,
      ...(key.account ? { account_id: key.account } : {}),
      ...(key.permissions?.length ? { permissions: key.permissions } : {}),
    },
  };
  return `${header.join('\n')}\n${renderNewEntry(entry)}`;
}
