// The registry's shared git remote, for several keyledger processes (replicas, hosts) writing one registry. Each
// keeps a clone; a write fetches and fast-forwards first, commits locally, and pushes. The push is the arbiter
// across hosts: when another replica pushed first, the commit is rebased onto the winner and pushed again; when it
// cannot be rebased (the same lines changed), the local clone goes back to where it was and the write runs again on
// the new head (RegistryWriter re-applies its patch: src/registry/registry-writer.ts); when even that fails (the
// entry is gone), the write fails with E_REGISTRY_REMOTE_CONFLICT, the clone is clean at the remote's head, and the
// refused commit is kept under refs/keyledger/rejected/ — nothing is lost. The caller holds the registry lock
// (registry-lock.ts), which serialises the processes of one host. Users' side: docs/registry.md, "A shared remote".

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyledgerError } from '../errors/keyledger-error.js';
import { identityFallbackArgs, runGit, runGitOutcome } from '../git/git-command.js';
import { withRegistryLock } from './registry-lock.js';
import { type RegistryRemoteSettings, redactRemoteText, remoteGitEnv } from './registry-remote-settings.js';

/** Commits a write could not publish are kept under this prefix (`git log refs/keyledger/rejected/...`). */
export const REJECTED_REF_PREFIX = 'refs/keyledger/rejected/';
/** Where the remote branch is fetched to: a ref of our own, so a person's `origin/*` refs are left alone. */
export const REMOTE_TRACKING_PREFIX = 'refs/keyledger/remote/';

const DEFAULT_MAX_ATTEMPTS = 8;
const DEFAULT_BACKOFF_MS = 40;
const MAX_BACKOFF_MS = 2_000;

/** The remote could not be reached, or refused the push for a reason other than a lost race (a hook, a protected branch, a bad token). */
export class RegistryRemoteError extends KeyledgerError {
  constructor(operation: string, message: string, details: Record<string, unknown> = {}) {
    super('E_REGISTRY_REMOTE', `the registry's remote: git ${operation} failed: ${message}`, {
      category: 'external',
      details: { operation, ...details },
    });
  }
}

/** Another writer changed the registry first, and this write does not apply to what it left. */
export class RegistryRemoteConflictError extends KeyledgerError {
  constructor(cause: unknown, rejectedRef: string, remoteHead: string | undefined) {
    super(
      'E_REGISTRY_REMOTE_CONFLICT',
      `the registry changed on its remote while this write was being published, and the write does not apply to the new version: ${(cause as Error).message}. Nothing was published; the local clone is at the remote's head, and the refused commit is kept as ${rejectedRef}`,
      { category: 'conflict', cause, details: { rejectedRef, ...(remoteHead ? { remoteHead } : {}) } },
    );
  }
}

/**
 * git's own words for a failed remote operation, first lines only, with the token cut out, and a hint where git's
 * words do not say what to do (a refused token reads as "could not read Username" once prompts are off).
 */
export function describeRemoteFailure(stderr: string, settings: RegistryRemoteSettings): string {
  const first = stderr.trim().split('\n').slice(0, 3).join(' / ') || 'git failed';
  const refused = /could not read (Username|Password)|Authentication failed|\b401\b|\b403\b/i.test(first);
  const hint = refused
    ? settings.token
      ? ' (the remote refused the token: check KEYLEDGER_REGISTRY_TOKEN / KEYLEDGER_REGISTRY_TOKEN_FILE and its write access)'
      : ' (the remote wants credentials: set KEYLEDGER_REGISTRY_TOKEN or KEYLEDGER_REGISTRY_TOKEN_FILE)'
    : '';
  return `${redactRemoteText(first, settings)}${hint}`;
}

/** Every attempt lost the race to another writer (a remote under heavy write load): try again later. */
export class RegistryRemoteBusyError extends KeyledgerError {
  constructor(attempts: number, rejectedRef: string | undefined) {
    super(
      'E_REGISTRY_REMOTE_BUSY',
      `the registry's remote kept moving: ${attempts} attempt(s) to publish this write were overtaken by other writers; nothing was published${rejectedRef ? ` (the last refused commit is kept as ${rejectedRef})` : ''}; try again`,
      { category: 'conflict', details: { attempts, ...(rejectedRef ? { rejectedRef } : {}) } },
    );
  }
}

export interface RegistryRemoteOptions {
  /** The registry root (any directory inside the clone). */
  root: string;
  /** Extra environment for git (tests pin identities). */
  env?: NodeJS.ProcessEnv;
  /** Who rebased commits are committed by when git has no identity configured. */
  author?: { name: string; email: string };
  /** Attempts to publish one write before E_REGISTRY_REMOTE_BUSY (default 8). */
  maxAttempts?: number;
  /** The first pause after a lost race; doubled each time, with jitter (default 40 ms). */
  backoffMs?: number;
}

export interface RemoteSync {
  /** HEAD after the sync. */
  head: string | undefined;
  /** The remote branch's head, or undefined when the remote has no such branch yet. */
  remoteHead: string | undefined;
  /** Local commits that could not be rebased onto the remote, kept under this ref. */
  rejectedRef?: string;
}

export interface Published<T> {
  value: T;
  /** HEAD once published: the remote's head. */
  head: string | undefined;
  /** Attempts it took (1 when nobody else pushed meanwhile). */
  attempts: number;
}

type PushOutcome = { ok: true } | { ok: false; raced: boolean; reason: string };

/** What this process's publishing went through, for reports and tests. */
export interface RegistryRemoteStats {
  /** Writes pushed. */
  published: number;
  /** Pushes refused because another writer had pushed first. */
  racesLost: number;
  /** Commits rebased onto another writer's and pushed again. */
  rebased: number;
  /** Writes run again on a newer head because their commit could not be rebased. */
  reapplied: number;
}

export class RegistryRemote {
  readonly settings: RegistryRemoteSettings;
  readonly stats: RegistryRemoteStats = { published: 0, racesLost: 0, rebased: 0, reapplied: 0 };
  readonly #options: RegistryRemoteOptions;
  #dirs: { gitRoot: string; gitDir: string } | undefined;
  #identityArgs: string[] | undefined;
  #pulling = false;

  constructor(settings: RegistryRemoteSettings, options: RegistryRemoteOptions) {
    this.settings = settings;
    this.#options = options;
  }

  get trackingRef(): string {
    return `${REMOTE_TRACKING_PREFIX}${this.settings.branch}`;
  }

  /** The lock file writers of this clone share (RegistryWriter, RegistryBatchCommitter). */
  async lockFile(): Promise<string> {
    return join((await this.#directories()).gitDir, 'keyledger-writer.lock');
  }

  /** Fetches the branch; answers its head, or undefined when the remote has no such branch yet (a new remote). */
  async fetch(): Promise<string | undefined> {
    const outcome = await this.#remoteGit([
      'fetch',
      '--quiet',
      '--no-tags',
      '--no-write-fetch-head',
      this.settings.url,
      `+refs/heads/${this.settings.branch}:${this.trackingRef}`,
    ]);
    if (outcome.code !== 0) {
      if (/couldn't find remote ref/i.test(outcome.stderr)) return undefined;
      throw this.#error('fetch', outcome.stderr);
    }
    return (await this.#git(['rev-parse', '--verify', '--quiet', this.trackingRef])).trim() || undefined;
  }

  /** The remote branch's head without fetching anything (`git ls-remote`): what a reader compares with HEAD. */
  async peek(): Promise<string | undefined> {
    const outcome = await this.#remoteGit(['ls-remote', this.settings.url, `refs/heads/${this.settings.branch}`]);
    if (outcome.code !== 0) throw this.#error('ls-remote', outcome.stderr);
    return /^([0-9a-f]{40,64})\s/m.exec(outcome.stdout)?.[1];
  }

  /**
   * Brings HEAD to the remote's head: a fast-forward, or a rebase of local commits the remote lacks (left by a
   * process that died between commit and push; the next write pushes them). Local commits that cannot be rebased
   * are kept under refs/keyledger/rejected/ and HEAD goes to the remote's. The caller holds the registry lock.
   */
  async sync(): Promise<RemoteSync> {
    const remoteHead = await this.fetch();
    const local = await this.#head();
    if (!remoteHead || local === remoteHead) return { head: local, remoteHead };
    if (local === undefined || (await this.#isAncestor(local, remoteHead))) {
      await this.#moveTo(remoteHead, 'merge');
      return { head: remoteHead, remoteHead };
    }
    if (await this.#isAncestor(remoteHead, local)) return { head: local, remoteHead };
    if (await this.#rebaseOnto(remoteHead)) return { head: await this.#head(), remoteHead };
    const rejectedRef = await this.#keep(local);
    await this.#moveTo(remoteHead, 'reset');
    return { head: remoteHead, remoteHead, rejectedRef };
  }

  /**
   * Runs a write (`attempt` edits the working tree and commits, under the caller's registry lock) on the remote's
   * head and pushes it. A lost race is rebased and pushed again; a commit that cannot be rebased is undone and
   * `attempt` runs again on the new head (its second run sees the other writer's change); an `attempt` that fails
   * on a later run is E_REGISTRY_REMOTE_CONFLICT. On any failure the clone is left clean at what the remote had.
   */
  async publish<T>(attempt: (run: number) => Promise<T>): Promise<Published<T>> {
    const maxAttempts = this.#options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    let rejectedRef: string | undefined;
    let run = 0;
    for (let tries = 0; tries < maxAttempts; ) {
      run += 1;
      if (run > 1) this.stats.reapplied += 1;
      const { head: base, remoteHead } = await this.sync();
      let value: T;
      try {
        value = await attempt(run);
      } catch (error) {
        if (rejectedRef) throw new RegistryRemoteConflictError(error, rejectedRef, remoteHead);
        throw error;
      }
      let head = await this.#head();
      if (head === undefined || head === remoteHead) return { value, head, attempts: tries + 1 };
      for (;;) {
        tries += 1;
        const pushed = await this.#push(head);
        if (pushed.ok) {
          this.stats.published += 1;
          return { value, head, attempts: tries };
        }
        if (!pushed.raced) {
          await this.#abandon(head, base);
          throw this.#error('push', pushed.reason);
        }
        this.stats.racesLost += 1;
        if (tries >= maxAttempts) break;
        await sleep(this.#backoff(tries));
        // Lost the race: put this commit on top of the winner's, if git can.
        const winner = await this.fetch();
        if (!winner || !(await this.#rebaseOnto(winner))) break;
        this.stats.rebased += 1;
        head = (await this.#head())!;
      }
      // Not rebased (the same lines changed) or out of attempts: undo the commit, keep it, and run the write again.
      rejectedRef = await this.#abandon(head, base);
      if (tries >= maxAttempts) break;
    }
    throw new RegistryRemoteBusyError(maxAttempts, rejectedRef);
  }

  /**
   * For readers: when the remote moved (`git ls-remote`, no lock, nothing written), fetch and fast-forward under the
   * registry lock. Answers whether HEAD changed.
   */
  async refresh(): Promise<boolean> {
    const [remote, local] = await Promise.all([this.peek(), this.#head()]);
    if (remote === undefined || remote === local) return false;
    const tracked = (await this.#git(['rev-parse', '--verify', '--quiet', this.trackingRef]).catch(() => '')).trim();
    // Local commits ahead of a remote that has not moved: nothing to pull (the next write pushes them).
    if (tracked === remote && local !== undefined && (await this.#isAncestor(remote, local))) return false;
    return withRegistryLock(await this.lockFile(), async () => {
      const before = await this.#head();
      return (await this.sync()).head !== before;
    });
  }

  /**
   * Pulls every `pullIntervalMs` until the returned function is called; a failed pull goes to `onError` and the next
   * one tries again. The timer does not keep the process alive.
   */
  startPulling(onError: (error: unknown) => void, onChange: () => void = () => undefined): () => void {
    if (this.settings.pullIntervalMs <= 0) return () => undefined;
    const timer = setInterval(() => {
      if (this.#pulling) return;
      this.#pulling = true;
      this.refresh()
        .then((changed) => {
          if (changed) onChange();
        })
        .catch(onError)
        .finally(() => {
          this.#pulling = false;
        });
    }, this.settings.pullIntervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  async #push(head: string): Promise<PushOutcome> {
    const outcome = await this.#remoteGit([
      'push',
      '--porcelain',
      '--quiet',
      this.settings.url,
      `${head}:refs/heads/${this.settings.branch}`,
    ]);
    if (outcome.code === 0) {
      await this.#git(['update-ref', this.trackingRef, head]);
      return { ok: true };
    }
    // `--porcelain` marks a refused ref with `!` and says why: `[rejected] (fetch first)` when someone pushed first,
    // `[remote rejected] (cannot lock ref ...)` when two pushes met on the remote; anything else is not a race.
    const refused = outcome.stdout.split('\n').find((line) => line.startsWith('!'));
    if (!refused) return { ok: false, raced: false, reason: outcome.stderr };
    const reason = refused.split('\t').slice(2).join(' ').trim();
    const raced =
      /^\[rejected\]/.test(reason) ||
      /^\[remote rejected\].*(lock|failed to update|incorrect old value|stale|fetch first|non-fast-forward)/i.test(
        reason,
      );
    return { ok: false, raced, reason: `${reason}${outcome.stderr ? `: ${outcome.stderr}` : ''}` };
  }

  /** Rebases HEAD's commits the remote lacks onto `onto`; false (and nothing changed) when git cannot. */
  async #rebaseOnto(onto: string): Promise<boolean> {
    try {
      await this.#git([...(await this.#identity()), 'rebase', '--quiet', '--no-autostash', onto]);
      return true;
    } catch {
      await this.#git(['rebase', '--abort']).catch(() => undefined);
      return false;
    }
  }

  /** Keeps `commit` under refs/keyledger/rejected/ and puts HEAD back to `base` (clean); answers the ref. */
  async #abandon(commit: string, base: string | undefined): Promise<string> {
    const ref = await this.#keep(commit);
    if (base) await this.#moveTo(base, 'reset');
    return ref;
  }

  async #keep(commit: string): Promise<string> {
    const ref = `${REJECTED_REF_PREFIX}${Date.now()}-${commit.slice(0, 12)}`;
    await this.#git(['update-ref', ref, commit]);
    return ref;
  }

  /**
   * Moves HEAD (and the files) to `target`: a fast-forward merge, or a `reset --keep` that refuses to throw away
   * uncommitted edits (a person's, or a batch's left for its retry) rather than silently dropping them.
   */
  async #moveTo(target: string, how: 'merge' | 'reset'): Promise<void> {
    try {
      if (how === 'merge') await this.#git(['merge', '--ff-only', '--quiet', target]);
      else await this.#git(['reset', '--keep', '--quiet', target]);
    } catch (error) {
      throw new RegistryRemoteError(
        how === 'merge' ? 'merge --ff-only' : 'reset --keep',
        `the clone could not be brought to ${target.slice(0, 12)}: files it changes have uncommitted edits (${redactRemoteText((error as Error).message, this.settings)}); commit or discard them`,
      );
    }
  }

  async #isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const outcome = await runGitOutcome(['merge-base', '--is-ancestor', ancestor, descendant], await this.#local());
    return outcome.code === 0;
  }

  #backoff(tries: number): number {
    const base = Math.min(MAX_BACKOFF_MS, (this.#options.backoffMs ?? DEFAULT_BACKOFF_MS) * 2 ** (tries - 1));
    return Math.round(base * (0.5 + Math.random()));
  }

  async #head(): Promise<string | undefined> {
    const outcome = await runGitOutcome(['rev-parse', '--verify', '--quiet', 'HEAD'], await this.#local());
    return outcome.code === 0 ? outcome.stdout.trim() || undefined : undefined;
  }

  #error(operation: string, stderr: string): RegistryRemoteError {
    return new RegistryRemoteError(operation, describeRemoteFailure(stderr, this.settings));
  }

  async #identity(): Promise<string[]> {
    const author = this.#options.author ?? { name: 'keyledger', email: 'keyledger@localhost' };
    this.#identityArgs ??= await identityFallbackArgs(await this.#local(), author);
    return this.#identityArgs;
  }

  async #directories(): Promise<{ gitRoot: string; gitDir: string }> {
    if (!this.#dirs) {
      const [gitDir, gitRoot] = (
        await runGit(['rev-parse', '--path-format=absolute', '--absolute-git-dir', '--show-toplevel'], {
          cwd: this.#options.root,
          ...(this.#options.env ? { env: this.#options.env } : {}),
        })
      )
        .trim()
        .split('\n');
      this.#dirs = { gitDir: gitDir!, gitRoot: gitRoot! };
    }
    return this.#dirs;
  }

  async #local(): Promise<{ cwd: string; env?: NodeJS.ProcessEnv }> {
    return { cwd: (await this.#directories()).gitRoot, ...(this.#options.env ? { env: this.#options.env } : {}) };
  }

  async #git(args: string[]): Promise<string> {
    return runGit(args, await this.#local());
  }

  /** git with the remote's credentials in its environment; never throws on a non-zero exit. */
  async #remoteGit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const local = await this.#local();
    const env = { ...local.env, ...remoteGitEnv(this.settings, { ...process.env, ...local.env }) };
    try {
      return await runGitOutcome(args, { cwd: local.cwd, env });
    } catch (error) {
      throw this.#error(args[0]!, (error as Error).message);
    }
  }
}
