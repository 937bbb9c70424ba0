// Records many finished rotations in the registry as one git commit per batch, for bulk runs: a commit costs
// hundreds of milliseconds on a large repository, so 10,000 rotations committed one by one would take longer than
// the providers' rate limits allow the rotations themselves. Each rotation waits until its batch is committed.
// Uses the registry writer's own lock file, so it never interleaves with RegistryWriter. Crash-safe: an edit left
// uncommitted by a killed run is recognised as ours (same provider key id and fingerprint) and committed.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { runGit } from '../../git/git-command.js';
import { writeFileAtomic } from '../../registry/atomic-file.js';
import { analyzeEntryText } from '../../registry/entry-analysis.js';
import { formatInstant } from '../../registry/registry-dates.js';
import { withRegistryLock } from '../../registry/registry-lock.js';
import { defaultEntryFile, type RegistryWriter } from '../../registry/registry-writer.js';
import { RotationStepError } from './rotation-error.js';
import type { RegistryRotationRecord } from './rotation-registry-update.js';

export interface RegistryRotationBatcherOptions {
  writer: RegistryWriter;
  root: string;
  /** Wait this long for more rotations to join a batch (default 200 ms). */
  lingerMs?: number;
  /** At most this many entries per commit (default 1,000). */
  maxBatch?: number;
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
    const batch = this.#queue.splice(0, this.#options.maxBatch ?? 1_000);
    if (batch.length === 0) return;
    if (this.#queue.length) this.#schedule(0);
    try {
      this.#gitDir ??= (await this.#git(['rev-parse', '--absolute-git-dir'])).trim();
      await withRegistryLock(join(this.#gitDir, 'keyledger-writer.lock'), () => this.#commitBatch(batch));
      for (const waiting of batch) waiting.resolve();
    } catch (error) {
      const failure = new RotationStepError('transient', 'registry_busy', `the registry batch could not be committed: ${(error as Error).message}`, error);
      for (const waiting of batch) waiting.reject(failure);
    }
  }

  // One git process per batch in the usual case (`commit -- <files>` stages the listed files itself): every spawn
  // forks this process, which costs tens of milliseconds of its main thread once it holds a few hundred MB.
  async #commitBatch(batch: Waiting[]): Promise<void> {
    const files: string[] = [];
    const keys: string[] = [];
    let written = 0;
    for (const { record } of batch) {
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
      const path = join(this.#options.root, file);
      files.push(file);
      keys.push(record.keyId);
      if (String(document.get('provider_key_id')) === record.providerKeyId && String(document.get('fingerprint')) === record.fingerprint) {
        continue; // already edited (committed, or left uncommitted by a killed run): commit whatever is pending
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
      await writeFileAtomic(path, after);
      written += 1;
    }
    // Nothing written by this batch: its edits may all be committed already (a retried batch, a resumed run).
    if (written === 0 && !(await this.#changed(files))) return;
    const author = this.#options.author ?? { name: 'keyledger', email: 'keyledger@localhost' };
    const message = `keyledger: rotate ${keys.length} key(s)\n\n${batch.map(({ record }) => `${record.keyId}: rotation ${record.rotationId} (${record.trigger})`).join('\n')}`;
    const commit = () =>
      this.#git(['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`, 'commit', '--quiet', '--no-verify', `--author=${author.name} <${author.email}>`, '-m', message, '--', ...files]);
    try {
      await commit();
    } catch (error) {
      // A file git does not track yet (written by hand, never committed) must be added first; and a batch whose
      // files turn out to match HEAD has nothing to commit. Anything else is a real failure.
      if (!(await this.#changed(files))) return;
      await this.#git(['add', '--', ...files]);
      await commit().catch(() => {
        throw error;
      });
    }
    this.commits += 1;
  }

  async #changed(files: string[]): Promise<boolean> {
    return (await this.#git(['status', '--porcelain', '--', ...files])).trim() !== '';
  }

  #git(args: string[]): Promise<string> {
    return runGit(args, { cwd: this.#options.root, ...(this.#options.gitEnv ? { env: this.#options.gitEnv } : {}) });
  }
}
