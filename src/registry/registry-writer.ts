// The git-backed registry writer: every create, update and delete of an entry is one commit
// (`keyledger: <action> <key_id>`). Updates edit the YAML document in place, so a hand-written file keeps its
// comments and key order. Writers are serialised across processes; a failed commit puts the file back as it was.
import { readFile, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { type Document, isMap, isScalar, parseDocument } from 'yaml';
import { KeyledgerError, NotFoundError } from '../errors/keyledger-error.js';
import { identityFallbackArgs, runGit } from '../git/git-command.js';
import { readHeadCommit } from '../git/git-head.js';
import { writeFileAtomic } from './atomic-file.js';
import { analyzeEntryText } from './entry-analysis.js';
import { KEY_ENTRY_FIELD_ORDER, type KeyEntry, type KeyEntryInput } from './key-entry-schema.js';
import type { RegistryConfig } from './registry-config.js';
import { entryPathMatcher } from './registry-files.js';
import { loadRegistry } from './registry-loader.js';
import { withRegistryLock } from './registry-lock.js';
import type { RegistryRemote } from './registry-remote.js';

export type RegistryAction = 'create' | 'update' | 'delete';

/** A nested partial entry: objects merge field by field, other values replace, `undefined` removes the field. */
export type EntryPatch = { [field: string]: unknown };

export interface WriteResult {
  action: RegistryAction;
  keyId: string;
  /** Relative to the registry root. */
  file: string;
  commit: string;
  entry?: KeyEntry;
}

export interface RegistryWriterOptions {
  root: string;
  config: RegistryConfig;
  author?: { name: string; email: string };
  /** Extra environment for git (tests pin identities and dates). */
  env?: NodeJS.ProcessEnv;
  lockTimeoutMs?: number;
  /**
   * The shared remote (src/registry/registry-remote.ts): each write then fetches first and is pushed before it
   * returns; without it the registry is this clone alone.
   */
  remote?: RegistryRemote;
}

export class RegistryInvalidEntryError extends KeyledgerError {
  constructor(keyId: string, problems: string[]) {
    super('E_REGISTRY_INVALID_ENTRY', `refusing to write ${keyId}: ${problems.join('; ')}`, {
      category: 'input',
      details: { problems },
    });
  }
}

export class RegistryWriter {
  readonly #options: RegistryWriterOptions;
  #gitRoot: string | undefined;
  #gitDir: string | undefined;
  #commonDir: string | undefined;
  #identityArgs: string[] | undefined;
  /** key_id -> file, valid as of the commit `#indexHead`; rebuilt when another writer has committed since. */
  #index: Map<string, string> | undefined;
  #indexHead: string | undefined;
  #commitInFlight: Promise<void> | undefined;

  constructor(options: RegistryWriterOptions) {
    this.#options = options;
  }

  /** The shared remote writes are published to, if any (the batch committer publishes through it too). */
  get remote(): RegistryRemote | undefined {
    return this.#options.remote;
  }

  /** Creates an entry in `keys/<key_id>.yaml` (or `file`); fails if the key_id exists anywhere in the registry. */
  async create(input: KeyEntryInput, options: { file?: string; message?: string } = {}): Promise<WriteResult> {
    const keyId = String(input.key_id ?? '');
    const file = options.file ?? defaultEntryFile(keyId);
    return this.#write(async () => {
      const existing = await this.#findFile(keyId);
      if (existing) {
        throw new KeyledgerError('E_REGISTRY_DUPLICATE', `key_id "${keyId}" already exists in ${existing}`, {
          category: 'conflict',
        });
      }
      const path = join(this.#options.root, file);
      if (await exists(path)) {
        throw new KeyledgerError('E_REGISTRY_FILE_EXISTS', `${file} already exists`, { category: 'conflict' });
      }
      const text = renderNewEntry(input);
      const entry = this.#checked(keyId, file, text);
      await writeFileAtomic(path, text);
      const commit = await this.#commit('create', keyId, file, options.message, async () => {
        await unlink(path).catch(() => undefined);
        await this.#removeEmptyDirectories(path);
      });
      return { action: 'create', keyId, file, commit, entry };
    });
  }

  /** Applies a patch to the entry with this key_id, keeping comments and the order of its fields. */
  async update(keyId: string, patch: EntryPatch, options: { message?: string } = {}): Promise<WriteResult> {
    return this.#write(async () => {
      const file = await this.#requireFile(keyId);
      const path = join(this.#options.root, file);
      const before = await readFile(path, 'utf8');
      const document = parseDocument(before);
      if (document.errors.length > 0) {
        throw new KeyledgerError(
          'E_REGISTRY_YAML',
          `${file}: cannot edit, invalid YAML: ${document.errors[0]!.message.split('\n')[0]}`,
          {
            category: 'input',
            position: { file },
          },
        );
      }
      applyPatch(document, [], patch);
      const after = renderEditedDocument(document);
      const entry = this.#checked(keyId, file, after);
      if (entry.key_id !== keyId) {
        throw new RegistryInvalidEntryError(keyId, ['an update must not change key_id; delete and create instead']);
      }
      if (after === before) {
        return { action: 'update', keyId, file, commit: await this.#head(), entry };
      }
      await writeFileAtomic(path, after);
      const commit = await this.#commit('update', keyId, file, options.message, async () => {
        await writeFileAtomic(path, before);
      });
      return { action: 'update', keyId, file, commit, entry };
    });
  }

  async delete(keyId: string, options: { message?: string } = {}): Promise<WriteResult> {
    return this.#write(async () => {
      const file = await this.#requireFile(keyId);
      const path = join(this.#options.root, file);
      const before = await readFile(path, 'utf8');
      await unlink(path);
      const commit = await this.#commit('delete', keyId, file, options.message, async () => {
        await writeFileAtomic(path, before);
      });
      await this.#removeEmptyDirectories(path);
      return { action: 'delete', keyId, file, commit };
    });
  }

  /**
   * Throws what update() would throw before writing anything — E_KEY_NOT_FOUND, E_REGISTRY_DIRTY (the file has
   * uncommitted changes) — so a command can check before its first external effect (src/lifecycle/key-revocation.ts).
   */
  async assertUpdatable(keyId: string): Promise<void> {
    await this.#requireFile(keyId);
  }

  /** The file holding a key_id, relative to the root, or undefined. */
  async fileOf(keyId: string): Promise<string | undefined> {
    return this.#findFile(keyId);
  }

  /**
   * The file of each of `keyIds` that is in the registry, looked up together: one look at HEAD for all of them
   * (fileOf reads it per key), then the index, or the conventional place for a file not committed yet.
   */
  async filesOf(keyIds: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (keyIds.length === 0) return found;
    const index = await this.#currentIndex();
    const holds = async (file: string, keyId: string) => {
      const text = await readFile(join(this.#options.root, file), 'utf8').catch(() => undefined);
      return text !== undefined && analyzeEntryText(file, text).keyId === keyId;
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(16, keyIds.length) }, async () => {
        while (next < keyIds.length) {
          const keyId = keyIds[next++]!;
          const indexed = index.get(keyId);
          if (indexed !== undefined) {
            if (await holds(indexed, keyId)) found.set(keyId, indexed);
            continue;
          }
          const conventional = defaultEntryFile(keyId);
          if ((await exists(join(this.#options.root, conventional))) && (await holds(conventional, keyId)))
            found.set(keyId, conventional);
        }
      }),
    );
    return found;
  }

  /** The entry with this key_id as it is on disk now. */
  async read(keyId: string): Promise<{ file: string; entry: KeyEntry } | undefined> {
    const file = await this.#findFile(keyId);
    if (!file) return undefined;
    const analysis = analyzeEntryText(file, await readFile(join(this.#options.root, file), 'utf8'));
    return analysis.entry ? { file, entry: analysis.entry } : undefined;
  }

  /**
   * A write under the lock; with a remote, run on the remote's head and pushed — and run again from the start on a
   * newer head when another writer's push got in first and git cannot rebase this one (the patch is re-applied to
   * what that writer left; a create finds the key it made; a delete finds the entry gone).
   */
  #write(work: () => Promise<WriteResult>): Promise<WriteResult> {
    const remote = this.#options.remote;
    if (!remote) return this.#locked(work);
    return this.#locked(async () => {
      const published = await remote.publish(() => work());
      return published.head === undefined ? published.value : { ...published.value, commit: published.head };
    });
  }

  #locked<T>(work: () => Promise<T>): Promise<T> {
    return this.#gitDirectory().then((gitDir) =>
      withRegistryLock(join(gitDir, 'keyledger-writer.lock'), work, {
        ...(this.#options.lockTimeoutMs ? { timeoutMs: this.#options.lockTimeoutMs } : {}),
      }),
    );
  }

  /** Removes the directories above a removed file that are left empty (git does not keep empty directories). */
  async #removeEmptyDirectories(path: string): Promise<void> {
    const root = join(this.#options.root, 'keys');
    for (
      let directory = dirname(path);
      directory.startsWith(root) && directory !== root;
      directory = dirname(directory)
    ) {
      try {
        await rmdir(directory);
      } catch {
        return;
      }
    }
  }

  #checked(keyId: string, file: string, text: string): KeyEntry {
    const analysis = analyzeEntryText(file, text);
    const errors = analysis.issues.filter((issue) => issue.severity === 'error');
    if (!analysis.entry || errors.length > 0) {
      throw new RegistryInvalidEntryError(
        keyId,
        errors.map((issue) => `${issue.field ? `${issue.field}: ` : ''}${issue.message}`),
      );
    }
    return analysis.entry;
  }

  async #findFile(keyId: string): Promise<string | undefined> {
    // The conventional place first: a registry written by keyledger finds every key without a scan.
    const conventional = defaultEntryFile(keyId);
    const text = await readFile(join(this.#options.root, conventional), 'utf8').catch(() => undefined);
    if (text !== undefined && analyzeEntryText(conventional, text).keyId === keyId) return conventional;
    // Elsewhere: an index of the whole registry, built once and kept while this writer is the only one
    // committing; a commit by anyone else (another process, a person) makes it rebuild. A look-up racing this
    // writer's own commit waits for it: otherwise it would see HEAD moved before the index noted the commit, and
    // rebuild from every file. (Not the lock: callers holding the lock look keys up too.)
    const file = (await this.#currentIndex()).get(keyId);
    if (file === undefined) return undefined;
    // The file may have changed without a commit: trust it only if it still holds that key_id.
    const current = await readFile(join(this.#options.root, file), 'utf8').catch(() => undefined);
    return current !== undefined && analyzeEntryText(file, current).keyId === keyId ? file : undefined;
  }

  /** The key_id index as of HEAD, rebuilt from every file when someone else has committed since it was built. */
  async #currentIndex(): Promise<Map<string, string>> {
    await this.#commitInFlight;
    const head = await this.#head().catch(() => undefined);
    if (this.#index && this.#indexHead && head && head !== this.#indexHead && this.#options.remote) {
      await this.#advanceIndex(this.#indexHead, head).catch(() => undefined);
    }
    if (!this.#index || head !== this.#indexHead) {
      const loaded = await loadRegistry({
        root: this.#options.root,
        config: this.#options.config,
        applyPolicy: false,
        includeEntries: false,
      });
      this.#index = loaded.keyIds;
      this.#indexHead = head;
    }
    return this.#index;
  }

  /**
   * With a shared remote, HEAD moves under every write another replica made: the index follows it from the files
   * `git diff` names (a handful) rather than from every file of the registry. Leaves the index as it was — to be
   * rebuilt — for an entry pattern it cannot match by itself or a diff too large to be worth it.
   */
  async #advanceIndex(from: string, to: string): Promise<void> {
    const isEntry = entryPathMatcher(this.#options.config);
    if (!isEntry || !this.#index) return;
    await this.#gitDirectory();
    const prefix = relative(this.#gitRoot!, this.#options.root).split(sep).join('/');
    const fields = (await this.#git(['diff', '--name-status', '--no-renames', '-z', from, to, '--'])).split('\0');
    const changes: Array<{ status: string; file: string }> = [];
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const path = fields[i + 1]!;
      if (prefix !== '' && !path.startsWith(`${prefix}/`)) continue;
      const file = prefix === '' ? path : path.slice(prefix.length + 1);
      if (isEntry(file)) changes.push({ status: fields[i]!, file });
    }
    if (changes.length > MAX_INDEX_DIFF) return;
    const index = new Map(this.#index);
    const byFile = new Map([...index].map(([keyId, file]) => [file, keyId]));
    for (const { status, file } of changes) {
      const previous = byFile.get(file);
      if (previous !== undefined && index.get(previous) === file) index.delete(previous);
      byFile.delete(file);
      if (status.startsWith('D')) continue;
      const text = await readFile(join(this.#options.root, file), 'utf8').catch(() => undefined);
      const keyId = text === undefined ? undefined : analyzeEntryText(file, text).keyId;
      // The first file holding a key_id wins, as in a full load; a duplicate is validate's to report.
      if (keyId !== undefined && !index.has(keyId)) {
        index.set(keyId, file);
        byFile.set(file, keyId);
      }
    }
    this.#index = index;
    this.#indexHead = to;
  }

  /** Keeps the index in step with this writer's own commits, so they do not force a rebuild. */
  #noteCommit(previousHead: string | undefined, head: string, keyId: string, file: string | undefined): void {
    if (!this.#index || this.#indexHead !== previousHead) {
      this.#index = undefined;
      return;
    }
    if (file === undefined) this.#index.delete(keyId);
    else this.#index.set(keyId, file);
    this.#indexHead = head;
  }

  /**
   * A batch commit made beside this writer, under its lock (src/registry/registry-batch-committer.ts): keeps the
   * key_id index valid rather than rebuilt from every file after each batch. `file` undefined: the key is gone.
   */
  noteBatchCommit(
    previousHead: string,
    head: string,
    changes: ReadonlyArray<{ keyId: string; file: string | undefined }>,
  ): void {
    if (!this.#index || this.#indexHead !== previousHead) {
      this.#index = undefined;
      return;
    }
    for (const { keyId, file } of changes) {
      if (file === undefined) this.#index.delete(keyId);
      else this.#index.set(keyId, file);
    }
    this.#indexHead = head;
  }

  async #requireFile(keyId: string): Promise<string> {
    const file = await this.#findFile(keyId);
    if (!file) throw new NotFoundError('E_KEY_NOT_FOUND', `no registry entry with key_id "${keyId}"`);
    const status = await this.#git(['status', '--porcelain', '--', this.#repoPath(file)]);
    if (status.trim() !== '') {
      throw new KeyledgerError('E_REGISTRY_DIRTY', `${file} has uncommitted changes; commit or discard them first`, {
        category: 'conflict',
      });
    }
    return file;
  }

  async #commit(
    action: RegistryAction,
    keyId: string,
    file: string,
    body: string | undefined,
    undo: () => Promise<void>,
  ): Promise<string> {
    const repoPath = this.#repoPath(file);
    const author = this.#options.author ?? {
      name: this.#options.config.git.author_name,
      email: this.#options.config.git.author_email,
    };
    const message = `keyledger: ${action} ${keyId}${body ? `\n\n${body}` : ''}`;
    const previousHead = this.#indexHead;
    let finished: () => void = () => undefined;
    this.#commitInFlight = new Promise<void>((resolve) => {
      finished = resolve;
    });
    try {
      return await this.#commitAndNote(action, keyId, file, repoPath, author, message, previousHead, undo);
    } finally {
      finished();
      this.#commitInFlight = undefined;
    }
  }

  async #commitAndNote(
    action: RegistryAction,
    keyId: string,
    file: string,
    repoPath: string,
    author: { name: string; email: string },
    message: string,
    previousHead: string | undefined,
    undo: () => Promise<void>,
  ): Promise<string> {
    try {
      await this.#git(action === 'delete' ? ['rm', '--cached', '--quiet', '--', repoPath] : ['add', '--', repoPath]);
      await this.#git([
        ...(await this.#identity()),
        'commit',
        '--quiet',
        '--no-verify',
        `--author=${author.name} <${author.email}>`,
        '-m',
        message,
        '--',
        repoPath,
      ]);
    } catch (error) {
      await undo();
      await this.#git(['reset', '--quiet', 'HEAD', '--', repoPath]).catch(() => undefined);
      throw new KeyledgerError(
        'E_REGISTRY_COMMIT',
        `could not commit ${action} of ${keyId}; ${file} was restored: ${(error as Error).message}`,
        {
          category: 'external',
          cause: error,
        },
      );
    }
    const head = await this.#head();
    this.#noteCommit(previousHead, head, keyId, action === 'delete' ? undefined : file);
    return head;
  }

  async #head(): Promise<string> {
    await this.#gitDirectory();
    return (await readHeadCommit(this.#gitDir!, this.#commonDir!)) ?? (await this.#git(['rev-parse', 'HEAD'])).trim();
  }

  /** When git has no identity configured (CI machines), commit as the configured author rather than fail. */
  async #identity(): Promise<string[]> {
    this.#identityArgs ??= await identityFallbackArgs(
      { cwd: this.#gitRoot ?? this.#options.root, ...(this.#options.env ? { env: this.#options.env } : {}) },
      { name: this.#options.config.git.author_name, email: this.#options.config.git.author_email },
    );
    return this.#identityArgs;
  }

  async #gitDirectory(): Promise<string> {
    if (!this.#gitDir) {
      const [gitDir, gitRoot, commonDir] = (
        await this.#git([
          'rev-parse',
          '--path-format=absolute',
          '--absolute-git-dir',
          '--show-toplevel',
          '--git-common-dir',
        ])
      )
        .trim()
        .split('\n');
      this.#gitDir = gitDir!;
      this.#gitRoot = gitRoot!;
      this.#commonDir = commonDir!;
    }
    return this.#gitDir;
  }

  #repoPath(file: string): string {
    const absolute = join(this.#options.root, file);
    return this.#gitRoot ? relative(this.#gitRoot, absolute).split(sep).join('/') : absolute;
  }

  #git(args: string[]): Promise<string> {
    return runGit(args, {
      cwd: this.#gitRoot ?? this.#options.root,
      ...(this.#options.env ? { env: this.#options.env } : {}),
    });
  }
}

/** Past this many entry files changed since the index was built, reading every file is as quick. */
const MAX_INDEX_DIFF = 2_000;

export function defaultEntryFile(keyId: string): string {
  return `keys/${safePathPart(keyId)}.yaml`;
}

/**
 * Where keyledger puts a new entry: `keys/<team>/<key_id>.yaml`. One directory per team keeps each git tree small —
 * with every key in one flat directory, each commit rewrote a tree listing all of them, and issuing 10,000 keys
 * slowed as the registry grew.
 */
export function teamEntryFile(team: string, keyId: string): string {
  return `keys/${safePathPart(team)}/${safePathPart(keyId)}.yaml`;
}

function safePathPart(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
}

/** YAML for a new entry, fields in the schema's order (KEY_ENTRY_FIELD_ORDER), then any others. */
export function renderNewEntry(input: KeyEntryInput | Record<string, unknown>): string {
  const record = input as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  for (const field of KEY_ENTRY_FIELD_ORDER) if (record[field] !== undefined) ordered[field] = record[field];
  for (const [field, value] of Object.entries(record))
    if (!(field in ordered) && value !== undefined) ordered[field] = value;
  const document = parseDocument('{}');
  document.contents = document.createNode(ordered) as never;
  return renderEditedDocument(document);
}

/** Serialises an edited document in the style people write by hand: `[a, b]` flow lists, no folding. */
function renderEditedDocument(document: Document): string {
  return `${document.toString({ flowCollectionPadding: false, lineWidth: 0 }).trimEnd()}\n`;
}

function applyPatch(document: Document, path: (string | number)[], patch: EntryPatch): void {
  for (const [field, value] of Object.entries(patch)) {
    const fieldPath = [...path, field];
    if (value === undefined) {
      document.deleteIn(fieldPath);
    } else if (isPlainObject(value) && isMap(document.getIn(fieldPath, true))) {
      applyPatch(document, fieldPath, value);
    } else {
      const current = document.getIn(fieldPath, true);
      if (isScalar(current) && !isPlainObject(value) && !Array.isArray(value)) {
        // Keep the scalar node (and its comment and quoting style); change only its value.
        current.value = value;
      } else {
        document.setIn(fieldPath, document.createNode(value));
      }
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
