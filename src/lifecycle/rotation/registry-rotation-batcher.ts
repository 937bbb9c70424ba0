// Records many finished rotations in the registry as one git commit per batch (src/registry/registry-batch-committer.ts
// does the batching), for bulk runs: 10,000 rotations committed one by one would take longer than the providers'
// rate limits allow the rotations themselves. Crash-safe: an edit left uncommitted by a killed run is recognised as
// ours (same provider key id and fingerprint) and committed.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { writeFileAtomic } from '../../registry/atomic-file.js';
import { analyzeEntryText } from '../../registry/entry-analysis.js';
import { RegistryBatchCommitter } from '../../registry/registry-batch-committer.js';
import { formatInstant } from '../../registry/registry-dates.js';
import { defaultEntryFile, type RegistryWriter } from '../../registry/registry-writer.js';
import { RotationStepError } from './rotation-error.js';
import { type RegistryRotationRecord, rotatedKeyDates } from './rotation-registry-update.js';

export interface RegistryRotationBatcherOptions {
  writer: RegistryWriter;
  root: string;
  /** Wait this long for more rotations to join a batch (default 200 ms). */
  lingerMs?: number;
  /** At most this many entries per commit (default 1,000). */
  maxBatch?: number;
  /** Spacing between commits, as a multiple of the last commit's time (RegistryBatchCommitterOptions). */
  commitSpacing?: number;
  gitEnv?: NodeJS.ProcessEnv;
  author?: { name: string; email: string };
}

export class RegistryRotationBatcher {
  readonly #options: RegistryRotationBatcherOptions;
  readonly #committer: RegistryBatchCommitter;

  constructor(options: RegistryRotationBatcherOptions) {
    this.#options = options;
    this.#committer = new RegistryBatchCommitter({
      ...options,
      subject: (count) => `keyledger: rotate ${count} key(s)`,
    });
  }

  /** Commits made, for reports. */
  get commits(): number {
    return this.#committer.commits;
  }

  /** Resolves once the rotation is in a commit (or the entry already showed it). */
  async record(record: RegistryRotationRecord): Promise<void> {
    try {
      // No revert: an edit whose commit failed stays on disk, and the retry recognises it as its own.
      await this.#committer.submit({
        keyId: record.keyId,
        summary: `rotation ${record.rotationId} (${record.trigger})`,
        apply: () => this.#edit(record),
      });
    } catch (error) {
      throw new RotationStepError(
        'transient',
        'registry_busy',
        `the registry batch could not be committed: ${(error as Error).message}`,
        error,
      );
    }
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
}
