// Records many finished rotations in the registry as one git commit per batch, for bulk runs: a commit costs
// hundreds of milliseconds on a large repository, so 10,000 rotations committed one by one would take longer than
// the providers' rate limits allow the rotations themselves. Each rotation waits until its batch is committed.
// Uses the registry writer's own lock file, so it never interleaves with RegistryWriter. Crash-safe: an edit left
// uncommitted by a killed run is recognised as ours (same provider key id and fingerprint) and committed.
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { runGit } from '../../git/git-command.js';
import { writeFileAtomic } from '../../registry/atomic-file.js';
import { analyzeEntryText } from '../../registry/entry-analysis.js';
import { formatInstant } from '../../registry/registry-dates.js';
import { withRegistryLock } from '../../registry/registry-lock.js';
import { defaultEntryFile, type RegistryWriter } from '../../registry/registry-writer.js';
import { RotationStepError } from './rotation-error.js';
import { type RegistryRotationRecord, rotatedKeyDates } from './rotation-registry-update.js';

/** Entries edited at once within a batch. */
const EDIT_CONCURRENCY = 16;
const MAX_SPACING_MS = 5_000;

export interface RegistryRotationBatcherOptions {
  writer: RegistryWriter;
  root: string;
  /** Wait this long for more rotations to join a batch (default 200 ms). */
  lingerMs?: number;
  /** At most this many entries per commit (default 1,000). */
  maxBatch?: number;
  /**
   * After a commit that took d ms, the next starts no sooner than `commitSpacing` x d later (default 3, at most
   * 5 s), so git takes at most a quarter of the time however large the repository: a commit costs 0.2-0.3 s of
   * CPU at 10,000 files, and nearly back to back (1,118 commits in a 10,000-key run) git used as much CPU as the
   * rotations themselves.
   */
  commitSpacing?: number;
  gitEnv?: NodeJS.ProcessEnv;
  author?: { name: string; email: string };
}

interface Waiting {
  record: RegistryRotationRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class RegistryRotationBatcher {
  readonly #options: RegistryRotationBatcherOptions;
  #queue: Waiting[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #gitDir: string | undefined;
  #lastCommit = { endedAt: 0, ms: 0 };
  /** Commits made, for reports. */
  commits = 0;

  constructor(options: RegistryRotationBatcherOptions) {
    this.#options = options;
  }

  /** Resolves once the rotation is in a commit (or the entry already showed it). */
  record(record: RegistryRotationRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ record, resolve, reject });
      if (this.#queue.length >= (this.#options.maxBatch ?? 1_000)) this.#schedule(0);
      else this.#schedule(this.#options.lingerMs ?? 200);
    });
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
    if (spaced > 0) await new Promise((resolve) => setTimeout(resolve, spaced));
    const batch = this.#queue.splice(0, this.#options.maxBatch ?? 1_000);
    if (batch.length === 0) return;
    if (this.#queue.length) this.#schedule(0);
    try {
      this.#gitDir ??= (await this.#git(['rev-parse', '--absolute-git-dir'])).trim();
      const started = performance.now();
      await withRegistryLock(join(this.#gitDir, 'keyledger-writer.lock'), () => this.#commitBatch(batch));
      this.#lastCommit = { endedAt: performance.now(), ms: performance.now() - started };
      for (const waiting of batch) waiting.resolve();
    } catch (error) {
      const failure = new RotationStepError(
        'transient',
        'registry_busy',
        `the registry batch could not be committed: ${(error as Error).message}`,
        error,
      );
      for (const waiting of batch) waiting.reject(failure);
    }
  }

  // One git process per batch in the usual case (`commit -- <files>` stages the listed files itself): every spawn
  // forks this process, which costs tens of milliseconds of its main thread once it holds a few hundred MB.
  async #commitBatch(batch: Waiting[]): Promise<void> {
    // Entries are edited EDIT_CONCURRENCY at a time: each edit is a read, a write and an fsync, and one at a time a
    // batch of a thousand took minutes on a busy event loop (every await a full turn of it).
    const edits: Array<{ file: string; written: boolean }> = new Array(batch.length);
    let next = 0;
    let failure: { error: unknown } | undefined;
    await Promise.all(
      Array.from({ length: Math.min(EDIT_CONCURRENCY, batch.length) }, async () => {
        while (next < batch.length && !failure) {
          const index = next++;
          try {
            edits[index] = await this.#edit(batch[index]!.record);
          } catch (error) {
            failure ??= { error };
          }
        }
      }),
    );
    // Every edit has settled before the lock is given back; an entry edited but not committed is recognised later.
    if (failure) throw failure.error;
    const files = edits.map((edit) => edit.file);
    const keys = batch.map(({ record }) => record.keyId);
    const written = edits.filter((edit) => edit.written).length;
    // Nothing written by this batch: its edits may all be committed already (a retried batch, a resumed run).
    if (written === 0 && !(await this.#changed(files))) return;
    const author = this.#options.author ?? { name: 'keyledger', email: 'keyledger@localhost' };
    // The message goes through a file and the paths through stdin: as arguments, a batch of ~1,800 keys made the
    // message longer than one argument may be (128 KB, E2BIG), the whole batch failed and every rotation in it
    // was deferred and retried.
    const message = `keyledger: rotate ${keys.length} key(s)\n\n${batch.map(({ record }) => `${record.keyId}: rotation ${record.rotationId} (${record.trigger})`).join('\n')}\n`;
    const messageFile = join(this.#gitDir!, 'KEYLEDGER_BATCH_MSG');
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
    try {
      await commit();
    } catch (error) {
      // A file git does not track yet (written by hand, never committed) must be added first; and a batch whose
      // files turn out to match HEAD has nothing to commit. Anything else is a real failure.
      if (!(await this.#changed(files))) return;
      await this.#git(['add', '--pathspec-from-file=-', '--pathspec-file-nul'], pathspecs);
      await commit().catch(() => {
        throw error;
      });
    } finally {
      await unlink(messageFile).catch(() => undefined);
    }
    this.commits += 1;
  }

  /** Writes the rotation into its entry; `written` is false when the entry already showed it. */
  async #edit(record: RegistryRotationRecord): Promise<{ file: string; written: boolean }> {
    // The conventional place first (what the writer's look-up does too), read once; elsewhere, the writer finds it.
    let file = defaultEntryFile(record.keyId);
    let before = await readFile(join(this.#options.root, file), 'utf8').catch(() => undefined);
    let document = before === undefined ? undefined : parseDocument(before);
    if (!document || String(document.get('key_id')) !== record.keyId) {
      const found = await this.#options.writer.fileOf(record.keyId);
      if (!found) throw new RotationStepError('fatal', 'key_missing', `${record.keyId} is no longer in the registry`);
      file = found;
      before = await readFile(join(this.#options.root, file), 'utf8');
      document = parseDocument(before);
    }
    if (
      String(document.get('provider_key_id')) === record.providerKeyId &&
      String(document.get('fingerprint')) === record.fingerprint
    ) {
      return { file, written: false }; // already edited (committed, or left uncommitted by a killed run): commit whatever is pending
    }
    const dates = rotatedKeyDates(
      { created_at: document.get('created_at'), expiration: document.get('expiration') },
      record.rotatedAt,
    );
    if (dates) {
      document.set('created_at', dates.created_at);
      document.set('expiration', dates.expiration);
    }
    document.set('last_rotated', formatInstant(record.rotatedAt));
    document.set('provider_key_id', record.providerKeyId);
    document.set('fingerprint', record.fingerprint);
    document.set('status', 'active');
    const after = document.toString({ lineWidth: 0, flowCollectionPadding: false });
    const analysis = analyzeEntryText(file, after);
    if (!analysis.entry || analysis.issues.some((issue) => issue.severity === 'error')) {
      throw new RotationStepError('fatal', 'registry_invalid', `${file}: the rotated entry would not validate`);
    }
    await writeFileAtomic(join(this.#options.root, file), after);
    return { file, written: true };
  }

  async #changed(files: string[]): Promise<boolean> {
    return (await this.#git(['status', '--porcelain', '--', ...files])).trim() !== '';
  }

  #git(args: string[], extra: { input?: string } = {}): Promise<string> {
    return runGit(args, {
      cwd: this.#options.root,
      ...(this.#options.gitEnv ? { env: this.#options.gitEnv } : {}),
      ...extra,
    });
  }
}
