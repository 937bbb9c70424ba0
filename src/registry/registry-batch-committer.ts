// Commits many registry changes (rotations recorded, entries issued) as one git commit per batch, for bulk runs: a
// commit costs hundreds of milliseconds on a large repository, so 10,000 changes committed one by one take longer
// than the work itself. Each change waits until its batch is committed. Shares the registry writer's lock file, so
// it never interleaves with RegistryWriter. Used by src/lifecycle/rotation/registry-rotation-batcher.ts and
// src/lifecycle/bulk-key-issuance.ts.
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyledgerError } from '../errors/keyledger-error.js';
import { runGit } from '../git/git-command.js';
import { readHeadCommit } from '../git/git-head.js';
import { withRegistryLock } from './registry-lock.js';
import type { RegistryRemote } from './registry-remote.js';
import type { RegistryWriter } from './registry-writer.js';

/** Changes applied to the working tree at once within a batch. */
const APPLY_CONCURRENCY = 16;
const MAX_SPACING_MS = 5_000;

/** One change to the registry's working tree, committed with the rest of its batch. */
export interface RegistryBatchChange {
  keyId: string;
  /** Its line in the batch's commit message (no secret: it goes into git history). */
  summary: string;
  /**
   * Writes the change into the working tree; runs under the registry lock. `written` is false when the file
   * already showed the change (a retried or resumed run); `created` true when the file is new to git. A change that
   * throws is rejected alone, the rest of its batch goes on; it must leave the working tree as it found it.
   */
  apply(): Promise<{ file: string; written: boolean; created?: boolean }>;
  /**
   * Puts the working tree back when the batch's commit fails (a created file is removed). Without it, the edit
   * stays on disk for a retry to recognise as its own.
   */
  revert?(file: string): Promise<void>;
}

export interface CommittedChange {
  /** Relative to the registry root. */
  file: string;
  /** The commit that holds the change (HEAD, when the registry already showed it). */
  commit: string;
}

export interface RegistryBatchCommitterOptions {
  root: string;
  /** The first line of each batch's commit message, e.g. `keyledger: rotate 12 key(s)`. */
  subject: (count: number) => string;
  /** Told about each batch commit, so its key_id index stays valid instead of being rebuilt from every file. */
  writer?: RegistryWriter;
  /**
   * Runs under the lock before a batch's changes are applied, with their key_ids: a place to look them all up at
   * once (RegistryWriter.filesOf) rather than one by one in each apply.
   */
  beforeApply?: (keyIds: string[]) => Promise<void>;
  /** Wait this long for more changes to join a batch (default 200 ms). */
  lingerMs?: number;
  /** At most this many changes per commit (default 1,000). */
  maxBatch?: number;
  /**
   * After a commit that took d ms, the next starts no sooner than `commitSpacing` x d later (default 3, at most
   * 5 s), so git takes at most a quarter of the time however large the repository: a commit costs 0.2-0.3 s of
   * CPU at 10,000 files, and nearly back to back (1,118 commits in a 10,000-key rotation run) git used as much CPU
   * as the rotations themselves.
   */
  commitSpacing?: number;
  gitEnv?: NodeJS.ProcessEnv;
  author?: { name: string; email: string };
  /**
   * The shared remote each batch is pushed to before its changes resolve (default: the writer's). A batch that
   * loses the race to another replica is rebased, or applied again on the new head (src/registry/registry-remote.ts).
   */
  remote?: RegistryRemote;
}

/** A batch's commit failed: none of its changes is in the registry. */
export class RegistryBatchCommitError extends KeyledgerError {
  constructor(count: number, cause: unknown) {
    super(
      'E_REGISTRY_COMMIT',
      `the registry batch of ${count} change(s) could not be committed: ${(cause as Error).message}`,
      { category: 'external', cause },
    );
  }
}

interface Waiting {
  change: RegistryBatchChange;
  resolve: (committed: CommittedChange) => void;
  reject: (error: unknown) => void;
}

interface Applied {
  waiting: Waiting;
  file: string;
  written: boolean;
  created: boolean;
}

export class RegistryBatchCommitter {
  readonly #options: RegistryBatchCommitterOptions;
  #queue: Waiting[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #gitDirs: { gitDir: string; commonDir: string } | undefined;
  #lastCommit = { endedAt: 0, ms: 0 };
  /** Set by flushNow: nothing more is coming, so what waits is committed without lingering or spacing. */
  #draining = false;
  /** Commits made, for reports. */
  commits = 0;

  constructor(options: RegistryBatchCommitterOptions) {
    this.#options = options;
  }

  /** Resolves once the change is in a commit (or the registry already showed it); rejects if it never will be. */
  submit(change: RegistryBatchChange): Promise<CommittedChange> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ change, resolve, reject });
      if (this.#queue.length >= this.#maxBatch || this.#draining) this.#schedule(0);
      else this.#schedule(this.#options.lingerMs ?? 200);
    });
  }

  /** Nothing more will be submitted for now: commit what waits without lingering, and without spacing commits. */
  flushNow(): void {
    this.#draining = true;
    if (this.#queue.length) this.#schedule(0);
  }

  get #maxBatch(): number {
    return this.#options.maxBatch ?? 1_000;
  }

  #schedule(delayMs: number): void {
    if (this.#timer && delayMs > 0) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flushing = this.#flushing.then(() => this.#flush());
    }, delayMs);
  }

  async #flush(): Promise<void> {
    const spaced =
      this.#lastCommit.endedAt +
      Math.min(MAX_SPACING_MS, (this.#options.commitSpacing ?? 3) * this.#lastCommit.ms) -
      performance.now();
    if (spaced > 0 && !this.#draining) await new Promise((resolve) => setTimeout(resolve, spaced));
    const batch = this.#queue.splice(0, this.#maxBatch);
    if (batch.length === 0) return;
    if (this.#queue.length) this.#schedule(0);
    let settled = false;
    try {
      const { gitDir } = await this.#gitDirectories();
      const started = performance.now();
      const remote = this.#options.remote ?? this.#options.writer?.remote;
      await withRegistryLock(join(gitDir, 'keyledger-writer.lock'), async () => {
        if (remote) {
          settled = true;
          await this.#publishBatch(batch, remote);
          return;
        }
        const applied = await this.#applyAll(batch);
        settled = true;
        try {
          const commit = await this.#commitBatch(applied);
          for (const { waiting, file } of applied) waiting.resolve({ file, commit });
        } catch (error) {
          // A failed commit has undone its batch already; anything else failing around it has not.
          if (!(error instanceof RegistryBatchCommitError)) await this.#undo(applied);
          const failure =
            error instanceof RegistryBatchCommitError ? error : new RegistryBatchCommitError(applied.length, error);
          for (const { waiting } of applied) waiting.reject(failure);
        }
      });
      this.#lastCommit = { endedAt: performance.now(), ms: performance.now() - started };
    } catch (error) {
      // The lock or the git directory could not be had: nothing of the batch was applied.
      if (!settled) for (const waiting of batch) waiting.reject(new RegistryBatchCommitError(batch.length, error));
    }
  }

  /**
   * A batch through the shared remote: applied and committed on the remote's head, then pushed; on a lost race that
   * git cannot rebase, applied again on the new head (a change that no longer applies is rejected alone). Each
   * change resolves with the commit as published; on failure the clone is back where the remote was.
   */
  async #publishBatch(batch: Waiting[], remote: RegistryRemote): Promise<void> {
    let pending = batch;
    let applied: Applied[] = [];
    try {
      const published = await remote.publish(async () => {
        applied = await this.#applyAll(pending);
        pending = applied.map(({ waiting }) => waiting);
        await this.#commitBatch(applied);
        return applied;
      });
      const commit = published.head ?? (await this.#head());
      for (const { waiting, file } of applied) waiting.resolve({ file, commit });
    } catch (error) {
      // The remote's own errors (conflict, busy, unreachable) and a failed commit pass as they are.
      const failure =
        error instanceof KeyledgerError && error.code.startsWith('E_REGISTRY_')
          ? error
          : new RegistryBatchCommitError(pending.length, error);
      // Settled promises ignore a second settlement: only those still waiting hear of it.
      for (const waiting of pending) waiting.reject(failure);
    }
  }

  /** Applies every change; a change that fails is rejected at once and left out of the commit. */
  async #applyAll(batch: Waiting[]): Promise<Applied[]> {
    const results: Array<Applied | undefined> = new Array(batch.length);
    const applyOne = async (index: number) => {
      const waiting = batch[index]!;
      try {
        const { file, written, created } = await waiting.change.apply();
        results[index] = { waiting, file, written, created: created ?? false };
      } catch (error) {
        waiting.reject(error);
      }
    };
    let next = 0;
    if (this.#options.beforeApply) {
      try {
        await this.#options.beforeApply(batch.map(({ change }) => change.keyId));
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
        return [];
      }
    } else {
      // The first on its own: a key_id look-up it makes (the writer's index) then serves the rest from memory.
      await applyOne(next++);
    }
    // Each apply is a read, a write and an fsync; one at a time a batch of a thousand took minutes on a busy event
    // loop (every await a full turn of it).
    await Promise.all(
      Array.from({ length: Math.min(APPLY_CONCURRENCY, batch.length - next) }, async () => {
        while (next < batch.length) await applyOne(next++);
      }),
    );
    return results.filter((result): result is Applied => result !== undefined);
  }

  // One git process per batch in the usual case (`commit -- <files>` stages the listed files itself): every spawn
  // forks this process, which costs tens of milliseconds of its main thread once it holds a few hundred MB.
  async #commitBatch(applied: Applied[]): Promise<string> {
    const previousHead = await this.#head();
    if (applied.length === 0) return previousHead;
    const files = applied.map(({ file }) => file);
    // Nothing written by this batch: its changes may all be committed already (a retried batch, a resumed run).
    if (!applied.some(({ written }) => written) && !(await this.#changed(files))) return previousHead;
    const author = this.#options.author ?? { name: 'keyledger', email: 'keyledger@localhost' };
    // The message goes through a file and the paths through stdin: as arguments, a batch of ~1,800 keys made the
    // message longer than one argument may be (128 KB, E2BIG).
    const message = `${this.#options.subject(applied.length)}\n\n${applied.map(({ waiting }) => `${waiting.change.keyId}: ${waiting.change.summary}`).join('\n')}\n`;
    const { gitDir } = await this.#gitDirectories();
    const messageFile = join(gitDir, 'KEYLEDGER_BATCH_MSG');
    await writeFile(messageFile, message);
    const pathspecs = { input: `${files.join('\0')}\0` };
    const commit = () =>
      this.#git(
        [
          '-c',
          `user.name=${author.name}`,
          '-c',
          `user.email=${author.email}`,
          'commit',
          '--quiet',
          '--no-verify',
          `--author=${author.name} <${author.email}>`,
          '-F',
          messageFile,
          '--pathspec-from-file=-',
          '--pathspec-file-nul',
        ],
        pathspecs,
      );
    const add = () => this.#git(['add', '--pathspec-from-file=-', '--pathspec-file-nul'], pathspecs);
    try {
      if (applied.some(({ created }) => created)) {
        // New files must be added before `commit -- <paths>` will take them.
        await add();
        await commit();
      } else {
        try {
          await commit();
        } catch {
          // A file git does not track yet (written by hand, never committed) must be added first; and a batch whose
          // files turn out to match HEAD has nothing to commit. A failure after adding is a real one.
          if (!(await this.#changed(files))) return previousHead;
          await add();
          await commit();
        }
      }
    } catch (error) {
      await this.#undo(applied);
      throw new RegistryBatchCommitError(applied.length, error);
    } finally {
      await unlink(messageFile).catch(() => undefined);
    }
    this.commits += 1;
    const head = await this.#head();
    this.#options.writer?.noteBatchCommit(
      previousHead,
      head,
      applied.map(({ waiting, file }) => ({ keyId: waiting.change.keyId, file })),
    );
    return head;
  }

  /** After a failed commit: unstage the batch's files and let each change put its file back. */
  async #undo(applied: Applied[]): Promise<void> {
    if (applied.length === 0) return;
    const pathspecs = { input: `${applied.map(({ file }) => file).join('\0')}\0` };
    await this.#git(['reset', '--quiet', '--pathspec-from-file=-', '--pathspec-file-nul'], pathspecs).catch(
      () => undefined,
    );
    await Promise.all(
      applied.map(async ({ waiting, file }) => {
        await waiting.change.revert?.(file).catch(() => undefined);
      }),
    );
  }

  async #changed(files: string[]): Promise<boolean> {
    return (await this.#git(['status', '--porcelain', '--', ...files])).trim() !== '';
  }

  async #head(): Promise<string> {
    const { gitDir, commonDir } = await this.#gitDirectories();
    return (await readHeadCommit(gitDir, commonDir)) ?? (await this.#git(['rev-parse', 'HEAD'])).trim();
  }

  async #gitDirectories(): Promise<{ gitDir: string; commonDir: string }> {
    if (!this.#gitDirs) {
      const [gitDir, commonDir] = (
        await this.#git(['rev-parse', '--path-format=absolute', '--absolute-git-dir', '--git-common-dir'])
      )
        .trim()
        .split('\n');
      this.#gitDirs = { gitDir: gitDir!, commonDir: commonDir! };
    }
    return this.#gitDirs;
  }

  #git(args: string[], extra: { input?: string } = {}): Promise<string> {
    return runGit(args, {
      cwd: this.#options.root,
      ...(this.#options.gitEnv ? { env: this.#options.gitEnv } : {}),
      ...extra,
    });
  }
}
