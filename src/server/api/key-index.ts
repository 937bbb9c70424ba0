// The registry as the API reads it: every entry loaded once at start (worker threads, so the event loop keeps
// answering), sorted by key_id, and kept current by following git HEAD. A request checks HEAD (two small file
// reads, at most every `checkIntervalMs`); when it moved, only the entry files `git diff` names are read again,
// so a rotation committed by the controller or the CLI shows up without reloading 100,000 files. Each snapshot also
// groups the entries by owner_team and owner_individual, so a team's list reads that team's entries only.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runGit } from '../../git/git-command.js';
import { readHeadCommit } from '../../git/git-head.js';
import { analyzeEntryText } from '../../registry/entry-analysis.js';
import type { KeyEntry } from '../../registry/key-entry-schema.js';
import type { RegistryConfig } from '../../registry/registry-config.js';
import { type LoadedEntry, loadRegistry } from '../../registry/registry-loader.js';
import { ENTRIES_DIRECTORY_NAME } from '../../registry/registry-workspace.js';

export interface KeyIndexSnapshot {
  /** The commit these entries were read at (undefined outside git). */
  head: string | undefined;
  /** Sorted by key_id. */
  entries: readonly LoadedEntry[];
  byId: ReadonlyMap<string, LoadedEntry>;
  /** Each `owner_team`'s entries, sorted by key_id: a team's list is read without walking every entry. */
  byTeam: ReadonlyMap<string, readonly LoadedEntry[]>;
  /** Each `owner_individual`'s entries (lower-cased email), sorted by key_id. */
  byOwner: ReadonlyMap<string, readonly LoadedEntry[]>;
}

export interface KeyIndexOptions {
  root: string;
  config: RegistryConfig;
  /** How often a request may look at HEAD; default 250 ms. */
  checkIntervalMs?: number;
}

export class KeyIndex {
  readonly #options: KeyIndexOptions;
  #snapshot: KeyIndexSnapshot;
  #gitDirs: { gitDir: string; commonDir: string } | undefined;
  #checkedAt = 0;
  #refreshing: Promise<KeyIndexSnapshot> | undefined;

  private constructor(
    options: KeyIndexOptions,
    snapshot: KeyIndexSnapshot,
    gitDirs?: { gitDir: string; commonDir: string },
  ) {
    this.#options = options;
    this.#snapshot = snapshot;
    this.#gitDirs = gitDirs;
    this.#checkedAt = Date.now();
  }

  static async open(options: KeyIndexOptions): Promise<KeyIndex> {
    const gitDirs = await gitDirectories(options.root);
    const head = gitDirs ? await readHeadCommit(gitDirs.gitDir, gitDirs.commonDir) : undefined;
    const loaded = await loadRegistry({
      root: options.root,
      config: options.config,
      applyPolicy: false,
      includeEntries: true,
      cache: true,
    });
    return new KeyIndex(options, snapshotOf(head, loaded.entries), gitDirs);
  }

  /** The entries as of now: HEAD is looked at (throttled) and what changed is read again. */
  async current(options: { force?: boolean } = {}): Promise<KeyIndexSnapshot> {
    const now = Date.now();
    if (!options.force && now - this.#checkedAt < (this.#options.checkIntervalMs ?? 250)) return this.#snapshot;
    this.#checkedAt = now;
    // One refresh at a time; a request arriving meanwhile waits for it rather than starting its own.
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<KeyIndexSnapshot> {
    if (!this.#gitDirs) return this.#snapshot;
    const head = await readHeadCommit(this.#gitDirs.gitDir, this.#gitDirs.commonDir);
    const previous = this.#snapshot;
    if (head === previous.head) return previous;
    const byFile = new Map<string, LoadedEntry>();
    for (const loaded of previous.entries) byFile.set(loaded.file, loaded);
    const changed = previous.head
      ? (
          await runGit(
            ['diff', '--name-only', '--no-renames', '-z', previous.head, head ?? 'HEAD', '--', ENTRIES_DIRECTORY_NAME],
            {
              cwd: this.#options.root,
            },
          )
        )
          .split('\0')
          .filter(Boolean)
      : [];
    for (const file of changed) {
      const text = await readFile(join(this.#options.root, file), 'utf8').catch(() => undefined);
      const entry = text === undefined ? undefined : analyzeEntryText(file, text).entry;
      if (entry) byFile.set(file, { file, entry });
      else byFile.delete(file);
    }
    this.#snapshot = snapshotOf(head, [...byFile.values()]);
    return this.#snapshot;
  }
}

function snapshotOf(head: string | undefined, entries: LoadedEntry[]): KeyIndexSnapshot {
  const byId = new Map<string, LoadedEntry>();
  for (const loaded of entries) byId.set(loaded.entry.key_id, loaded);
  const sorted = [...byId.values()].sort((a, b) => compareKeyIds(a.entry, b.entry));
  // Built from the sorted list, so every group is sorted too (one pass, no sort per group).
  const byTeam = new Map<string, LoadedEntry[]>();
  const byOwner = new Map<string, LoadedEntry[]>();
  for (const loaded of sorted) {
    const { owner_team: team, owner_individual: owner } = loaded.entry;
    if (team) pushTo(byTeam, team, loaded);
    if (owner) pushTo(byOwner, owner.toLowerCase(), loaded);
  }
  return { head, entries: sorted, byId, byTeam, byOwner };
}

function pushTo(groups: Map<string, LoadedEntry[]>, key: string, loaded: LoadedEntry): void {
  const group = groups.get(key);
  if (group) group.push(loaded);
  else groups.set(key, [loaded]);
}

/** Sorted lists merged into one sorted list without repeats (a member's teams and the keys naming them). */
export function mergeSortedEntries(lists: ReadonlyArray<readonly LoadedEntry[]>): readonly LoadedEntry[] {
  const present = lists.filter((list) => list.length > 0);
  if (present.length === 0) return [];
  if (present.length === 1) return present[0]!;
  const byId = new Map<string, LoadedEntry>();
  for (const list of present) for (const loaded of list) byId.set(loaded.entry.key_id, loaded);
  return [...byId.values()].sort((a, b) => compareKeyIds(a.entry, b.entry));
}

export function compareKeyIds(a: Pick<KeyEntry, 'key_id'>, b: Pick<KeyEntry, 'key_id'>): number {
  return a.key_id < b.key_id ? -1 : a.key_id > b.key_id ? 1 : 0;
}

async function gitDirectories(root: string): Promise<{ gitDir: string; commonDir: string } | undefined> {
  try {
    const [gitDir, commonDir] = (
      await runGit(['rev-parse', '--path-format=absolute', '--absolute-git-dir', '--git-common-dir'], { cwd: root })
    )
      .trim()
      .split('\n');
    return gitDir && commonDir ? { gitDir, commonDir } : undefined;
  } catch {
    return undefined;
  }
}
