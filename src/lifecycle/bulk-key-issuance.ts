// Bulk issuance (`keyledger issue --from FILE`, issue 13 item 9): many keys, each still one unit as in
// key-issuance.ts — mint, store, register, log, or nothing at all — with the registry writes batched into one git
// commit per batch (src/registry/registry-batch-committer.ts) instead of one commit per key. Every request is
// checked first (schema, policy, duplicates, providers and stores configured, paths free); one bad row stops the
// run before anything is minted. A key whose batch commit fails is rolled back like a single issuance.

import { readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { KeyledgerError } from '../errors/keyledger-error.js';
import type { AppendEventInput, EventLog, LoggedEvent } from '../events/event-log.js';
import { runGit } from '../git/git-command.js';
import type { Provider } from '../providers/provider.js';
import { stageFile } from '../registry/atomic-file.js';
import { analyzeEntryText } from '../registry/entry-analysis.js';
import type { KeyEntryInput } from '../registry/key-entry-schema.js';
import { compilePolicy } from '../registry/policy/policy-engine.js';
import {
  type CommittedChange,
  RegistryBatchCommitter,
  type RegistryBatchCommitterOptions,
} from '../registry/registry-batch-committer.js';
import { formatInstant } from '../registry/registry-dates.js';
import { RegistryInvalidEntryError, renderNewEntry, teamEntryFile } from '../registry/registry-writer.js';
import { fingerprintSecret } from '../secrets/secret-fingerprint.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { SecretValue } from '../secrets/secret-value.js';
import { type Logger, silentLogger } from '../telemetry/logger.js';
import { IdempotencyRecords } from './idempotency-records.js';
import { type IssueProgress, issueDraftProblems, mintAndStore, rollBackIssuance } from './issuance-steps.js';
import { IssueRequestFileError, type IssueRequestProblem } from './issue-request-file.js';
import {
  generateKeyId,
  type IssuedKey,
  type IssueKeyRequest,
  KeyIssuer,
  type KeyIssuerDependencies,
} from './key-issuance.js';
import { IssuanceFailedError, type RollbackStep } from './lifecycle-error.js';
import { KeyPreflight, PreflightError } from './preflight/key-preflight.js';

export interface BulkIssueRequest extends IssueKeyRequest {
  /** Where the request was read from (issue-request-file.ts), so problems name the file, line and field. */
  source?: { file: string; row: number; line: number; fieldLines?: Partial<Record<string, number>> };
}

export interface BulkKeyIssuerDependencies extends KeyIssuerDependencies {
  /** The registry root, where the batch commits run. */
  root: string;
  gitEnv?: NodeJS.ProcessEnv;
  author?: { name: string; email: string };
  /** How registry writes are batched (defaults: 200 ms linger, 1,000 entries per commit, spacing 3). */
  batching?: Pick<RegistryBatchCommitterOptions, 'lingerMs' | 'maxBatch' | 'commitSpacing'>;
}

export interface BulkIssueOptions {
  /** Keys minted and stored at once (default 16); a key waiting for its batch commit does not hold a slot. */
  concurrency?: number;
  /** Check every request and report what would be issued; mint nothing. */
  dryRun?: boolean;
  /** Rows without their own idempotency key get `<this>:<row>`, so a re-run of the same file mints nothing new. */
  idempotencyKey?: string;
  /** Called after each key settles, for progress lines. */
  onProgress?: (progress: BulkIssueProgress) => void;
  /** The name problems are reported against when requests carry no `source`. */
  file?: string;
}

export interface BulkIssueProgress {
  total: number;
  issued: number;
  replayed: number;
  failed: number;
}

export type BulkIssueResult =
  | { row: number; status: 'issued' | 'replayed'; key: IssuedKey }
  | {
      row: number;
      status: 'planned';
      keyId: string;
      provider: string;
      store: string;
      path: string;
      file: string;
      expiresAt: string;
      /** Its idempotency key says it was issued already: a run returns that first result. */
      alreadyIssued?: true;
    }
  | {
      row: number;
      status: 'failed';
      keyId: string;
      error: { code: string; message: string; failedStep?: string; rollback?: RollbackStep[] };
    };

export interface BulkIssueReport extends BulkIssueProgress {
  dryRun: boolean;
  planned: number;
  /** Registry commits made for the issued keys. */
  commits: number;
  seconds: number;
  /** One per request, in the requests' order. */
  results: BulkIssueResult[];
}

/** What the keys of one issueMany call share. */
interface BulkRun {
  committer: RegistryBatchCommitter;
  events: CoalescedEventAppends;
  /** The registry's files for the key_ids of the batch being applied (looked up once per batch, under the lock). */
  inRegistry: Map<string, string>;
  /** Keys not yet past minting and storing: at zero, the last batch is committed at once. */
  toSubmit: number;
}

interface Plan {
  row: number;
  request: BulkIssueRequest;
  keyId: string;
  store: { name: string; path: string };
  file: string;
  expiresAt: string;
  /** The idempotency record says this request finished already: its first result is returned. */
  replay: boolean;
}

/** Where a field of the drafted entry came from in the request, for problems the policy finds. */
const REQUEST_FIELD_OF_ENTRY_FIELD: Record<string, string> = {
  key_id: 'key-id',
  purpose: 'purpose',
  owner_team: 'team',
  owner_individual: 'owner',
  expiration: 'expires',
  storage: 'store',
  consumed_by: 'consumer',
  tags: 'tag',
  justification: 'justification',
  'scope.provider': 'provider',
  'scope.account_id': 'account',
  'scope.permissions': 'scope',
  'audit.rotation_frequency_days': 'rotate-every',
  'audit.rotation_owner': 'team',
};

const DEFAULT_CONCURRENCY = 16;

export class BulkKeyIssuer {
  readonly #deps: BulkKeyIssuerDependencies;
  readonly #single: KeyIssuer;
  readonly #log: Logger;

  constructor(dependencies: BulkKeyIssuerDependencies) {
    this.#deps = dependencies;
    this.#single = new KeyIssuer(dependencies);
    this.#log = (dependencies.logger ?? silentLogger).child({ service: 'issue-bulk' });
  }

  /**
   * Issues every request, each as one unit. Throws IssueRequestFileError, having minted nothing, when any request
   * is bad; otherwise reports each key (issued, replayed, or failed and rolled back).
   */
  async issueMany(requests: readonly BulkIssueRequest[], options: BulkIssueOptions = {}): Promise<BulkIssueReport> {
    const started = performance.now();
    const plans = await this.#plan(requests, options);
    const progress: BulkIssueProgress = { total: plans.length, issued: 0, replayed: 0, failed: 0 };
    const report = (results: BulkIssueResult[], commits: number): BulkIssueReport => ({
      dryRun: options.dryRun ?? false,
      ...progress,
      planned: results.filter((result) => result.status === 'planned').length,
      commits,
      seconds: (performance.now() - started) / 1000,
      results,
    });
    if (options.dryRun) {
      return report(
        plans.map((plan) => ({
          row: plan.row,
          status: 'planned',
          keyId: plan.keyId,
          provider: plan.request.provider,
          store: plan.store.name,
          path: plan.store.path,
          file: plan.file,
          expiresAt: plan.expiresAt,
          ...(plan.replay ? { alreadyIssued: true as const } : {}),
        })),
        0,
      );
    }
    const committer = new RegistryBatchCommitter({
      root: this.#deps.root,
      writer: this.#deps.writer,
      beforeApply: async (keyIds) => {
        run.inRegistry = await this.#deps.writer.filesOf(keyIds);
      },
      // Issuance waits on its commits (a key is not issued until it is registered): spacing them less than
      // rotation does (src/lifecycle/rotation/registry-rotation-batcher.ts) keeps git's share near a half.
      commitSpacing: 1,
      subject: (count) => `keyledger: issue ${count} key(s)`,
      ...(this.#deps.gitEnv ? { gitEnv: this.#deps.gitEnv } : {}),
      ...(this.#deps.author ? { author: this.#deps.author } : {}),
      ...this.#deps.batching,
    });
    const run: BulkRun = {
      committer,
      events: new CoalescedEventAppends(this.#deps.events),
      inRegistry: new Map(),
      toSubmit: plans.length,
    };
    const slots = new Slots(Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY));
    const results = await Promise.all(
      plans.map(async (plan): Promise<BulkIssueResult> => {
        const release = await slots.take();
        // A turn of the event loop per key: on SQLite every query settles as a microtask, and a run of them kept
        // the batch's linger timer from ever firing (a single commit after every key was minted).
        await nextTurn();
        let submitted = false;
        const passed = () => {
          release();
          if (submitted) return;
          submitted = true;
          run.toSubmit -= 1;
          if (run.toSubmit === 0) committer.flushNow();
        };
        try {
          const result = await this.#issueOne(plan, run, passed);
          if (result.status === 'failed') progress.failed += 1;
          else if (result.status === 'replayed') progress.replayed += 1;
          else progress.issued += 1;
          options.onProgress?.({ ...progress });
          return result;
        } finally {
          passed();
        }
      }),
    );
    this.#log.info({ ...progress, commits: run.committer.commits }, 'bulk issuance finished');
    return report(results, run.committer.commits);
  }

  /** Checks every request before anything is minted, and decides each key's id, secret path and entry file. */
  async #plan(requests: readonly BulkIssueRequest[], options: BulkIssueOptions): Promise<Plan[]> {
    const now = this.#deps.clock();
    const policy = compilePolicy(this.#deps.policy, now, await this.#deps.people?.());
    const problems: IssueRequestProblem[] = [];
    const fallbackFile = options.file ?? '<requests>';
    const problem = (request: BulkIssueRequest, row: number, field: string, message: string) => {
      const source = request.source;
      problems.push({
        file: source?.file ?? fallbackFile,
        line: source?.fieldLines?.[field] ?? source?.line ?? row,
        row,
        field,
        message,
      });
    };
    const rows = requests.map((original, index) => {
      const row = original.source?.row ?? index + 1;
      const request: BulkIssueRequest =
        original.idempotencyKey || !options.idempotencyKey
          ? original
          : { ...original, idempotencyKey: `${options.idempotencyKey}:${row}` };
      return { row, request };
    });

    const seen = { keyIds: new Map<string, number>(), paths: new Map<string, number>(), idempotency: new Map() };
    const plans: Array<Plan | undefined> = new Array(rows.length);
    const providers = new Map<string, Provider | Error>();
    const stores = new Map<string, SecretStore | Error>();
    const resolve = <T>(cache: Map<string, T | Error>, name: string, open: (name: string) => T): T | Error => {
      if (!cache.has(name)) {
        try {
          cache.set(name, open(name));
        } catch (error) {
          cache.set(name, error as Error);
        }
      }
      return cache.get(name)!;
    };

    // Key ids first: a generated one that the registry holds already is generated again (same team, provider and
    // purpose words leave 65,536 of them), so a row is refused only for an id its author chose.
    const keyIds = rows.map(({ request }) => request.keyId);
    const taken = new Set(keyIds.filter((keyId): keyId is string => keyId !== undefined));
    const generate = (request: BulkIssueRequest) => {
      let keyId: string;
      do keyId = generateKeyId(request);
      while (taken.has(keyId));
      taken.add(keyId);
      return keyId;
    };
    for (const [index, { request }] of rows.entries()) keyIds[index] ??= generate(request);
    let inRegistry = await this.#deps.writer.filesOf(keyIds as string[]);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const clashing = rows.flatMap(({ request }, index) =>
        !request.keyId && inRegistry.has(keyIds[index]!) ? [index] : [],
      );
      if (clashing.length === 0) break;
      for (const index of clashing) keyIds[index] = generate(rows[index]!.request);
      const again = await this.#deps.writer.filesOf(clashing.map((index) => keyIds[index]!));
      inRegistry = new Map([...inRegistry, ...again]);
    }

    // What can be checked without waiting, row by row, in order (so duplicates point at the later row).
    const lookups: Array<() => Promise<void>> = [];
    rows.forEach(({ row, request }, index) => {
      const key = request.idempotencyKey;
      if (key) {
        const first = seen.idempotency.get(key);
        if (first !== undefined) problem(request, row, 'idempotency-key', `used by row ${first} too`);
        else seen.idempotency.set(key, row);
      }
      const provider = resolve(providers, request.provider, this.#deps.providers);
      if (provider instanceof Error) problem(request, row, 'provider', provider.message);
      const keyId = keyIds[index]!;
      const first = seen.keyIds.get(keyId);
      if (first !== undefined) problem(request, row, 'key-id', `"${keyId}" is requested by row ${first} too`);
      else seen.keyIds.set(keyId, row);
      const { entry, store, expiresAt } = this.#single.draftEntry(request, keyId, now);
      for (const found of issueDraftProblems(entry, policy)) {
        problem(
          request,
          row,
          requestFieldOf(found.path),
          found.rule ? `${found.rule}: ${found.message}` : found.message,
        );
      }
      const secretStore = resolve(stores, store.name, this.#deps.stores);
      if (secretStore instanceof Error) problem(request, row, 'store', secretStore.message);
      const pathKey = `${store.name}:${store.path}`;
      const firstPath = seen.paths.get(pathKey);
      if (firstPath !== undefined) problem(request, row, 'store', `${pathKey} is requested by row ${firstPath} too`);
      else seen.paths.set(pathKey, row);
      const plan: Plan = {
        row,
        request,
        keyId,
        store,
        file: teamEntryFile(request.team, keyId),
        expiresAt: formatInstant(expiresAt),
        replay: false,
      };
      plans[index] = plan;
      lookups.push(async () => {
        if (key) {
          const recorded = await this.#deps.idempotency.peek(key);
          if (recorded) {
            const { actor: _actor, source: _source, ...material } = request;
            if (recorded.command !== 'issue' || recorded.requestHash !== IdempotencyRecords.hashRequest(material)) {
              problem(request, row, 'idempotency-key', `"${key}" was already used for a different request`);
              return;
            }
            if (recorded.status === 'completed') {
              plan.replay = true;
              return;
            }
            // A run that stopped half-way: the claim undoes it before issuing again, so what it left is no conflict.
            if (recorded.status === 'in_progress') return;
          }
        }
        const existing = inRegistry.get(plan.keyId);
        if (existing) {
          problem(request, row, 'key-id', `key_id "${plan.keyId}" already exists in ${existing}`);
        } else if (await pathExists(join(this.#deps.root, plan.file))) {
          problem(request, row, 'key-id', `${plan.file} already exists (not committed?)`);
        }
        if (!(secretStore instanceof Error) && (await secretStore.exists(store.path))) {
          problem(request, row, 'store', `store "${store.name}" already holds a secret at "${store.path}"`);
        }
      });
    });
    await runBounded(lookups, DEFAULT_CONCURRENCY);
    // The preflight (src/lifecycle/preflight/): each store, provider and account once, before any row is minted —
    // a file of 10,000 requests to an unconfigured store stops here, not after the first mint.
    const preflight =
      this.#deps.preflight ??
      new KeyPreflight({ providers: this.#deps.providers, stores: this.#deps.stores, clock: this.#deps.clock });
    const targets = new Map<string, { row: number; request: BulkIssueRequest; plan: Plan }>();
    rows.forEach(({ row, request }, index) => {
      const plan = plans[index]!;
      if (
        plan.replay ||
        providers.get(request.provider) instanceof Error ||
        stores.get(plan.store.name) instanceof Error
      )
        return;
      const slot = `${request.provider}\u0000${request.account ?? ''}\u0000${plan.store.name}`;
      if (!targets.has(slot)) targets.set(slot, { row, request, plan });
    });
    for (const { row, request, plan } of targets.values()) {
      try {
        await preflight.check(
          {
            keyId: plan.keyId,
            provider: request.provider,
            ...(request.account ? { account: request.account } : {}),
            store: plan.store.name,
            path: plan.store.path,
            consumers: [],
          },
          'issue',
        );
      } catch (error) {
        if (!(error instanceof PreflightError)) throw error;
        for (const found of error.problems) {
          problem(
            request,
            row,
            found.check === 'store' ? 'store' : 'provider',
            `${found.message} (${found.configKey})`,
          );
        }
      }
    }
    if (problems.length) {
      problems.sort((a, b) => a.row - b.row || a.line - b.line);
      throw new IssueRequestFileError(problems[0]!.file, problems);
    }
    return plans as Plan[];
  }

  async #issueOne(plan: Plan, run: BulkRun, release: () => void): Promise<BulkIssueResult> {
    const { request } = plan;
    const key = request.idempotencyKey;
    try {
      if (key) {
        const { actor: _actor, source: _source, ...material } = request;
        const claim = await this.#deps.idempotency.claim<IssueProgress, IssuedKey>(
          key,
          'issue',
          IdempotencyRecords.hashRequest(material),
        );
        if (claim.kind === 'completed')
          return { row: plan.row, status: 'replayed', key: { ...claim.result, replayed: true } };
        if (claim.kind === 'abandoned' && claim.progress) {
          if (!claim.progress.registered) await this.#discardUncommittedEntry(plan.file, claim.progress.keyId);
          const steps = await rollBackIssuance(
            this.#deps,
            claim.progress,
            request.actor,
            'an earlier run with the same idempotency key stopped half-way',
          );
          if (steps.some((step) => !step.ok)) {
            const error = new IssuanceFailedError(
              'recovering an earlier run',
              new Error('its rollback is incomplete'),
              steps,
            );
            // The record keeps its progress, so a later run retries the rollback (as single issuance does).
            return failedResult(plan, error);
          }
        }
      }
      const issued = await this.#mintStoreRegister(plan, run, release);
      if (key) await this.#deps.idempotency.complete(key, issued);
      return { row: plan.row, status: 'issued', key: issued };
    } catch (error) {
      if (key)
        await this.#deps.idempotency
          .fail(key, error instanceof Error ? error.message : String(error))
          .catch(() => undefined);
      return failedResult(plan, error);
    }
  }

  async #mintStoreRegister(plan: Plan, run: BulkRun, release: () => void): Promise<IssuedKey> {
    const { request, keyId } = plan;
    const now = this.#deps.clock();
    const { entry, store, expiresAt } = this.#single.draftEntry(request, keyId, now);
    const provider = this.#deps.providers(request.provider);
    const secretStore = this.#deps.stores(store.name);
    const progress: IssueProgress = { keyId, provider: request.provider };
    const record = async () => {
      if (request.idempotencyKey) await this.#deps.idempotency.progress(request.idempotencyKey, progress);
    };
    let step = 'mint';
    const log = this.#log.child({ keyId, provider: request.provider });
    try {
      const created = await mintAndStore({
        keyId,
        request,
        provider,
        secretStore,
        store,
        expiresAt,
        progress,
        record,
        onStep: (next) => {
          step = next;
        },
      });
      step = 'register';
      await record();
      const fingerprint = fingerprintSecret(created.secret as SecretValue, this.#deps.fingerprintKey);
      const staged = await this.#stageEntry(plan.file, keyId, {
        ...entry,
        provider_key_id: created.providerKeyId,
        fingerprint,
      });
      // From here the key waits for its batch's commit, which takes no provider call: its slot goes to the next key.
      release();
      const committed = await run.committer
        .submit({
          keyId,
          summary: `issued by ${request.actor} for: ${request.purpose.replace(/\s+/g, ' ')}`,
          apply: () => this.#placeEntry(plan.file, keyId, staged, run.inRegistry),
          revert: (file) => this.#removeEntry(file),
        })
        .catch(async (error: unknown) => {
          await unlink(staged).catch(() => undefined);
          throw error;
        });
      progress.registered = true;
      step = 'record-event';
      await record();
      const event = await run.events.append({
        type: 'issued',
        actor: request.actor,
        keyId,
        data: {
          provider: request.provider,
          provider_key_id: created.providerKeyId,
          store: store.name,
          path: store.path,
          commit: committed.commit,
          owner_team: request.team,
          owner_individual: request.owner,
          expires_at: formatInstant(expiresAt),
        },
      });
      log.debug({ providerKeyId: created.providerKeyId, eventSeq: event.seq }, 'issued');
      return issuedKey(plan, created.providerKeyId, committed, fingerprint, formatInstant(expiresAt), event.seq);
    } catch (error) {
      if (!progress.providerKeyId) throw error;
      log.warn(
        { step, error: error instanceof Error ? error.message : String(error) },
        'issuance failed; rolling back',
      );
      const steps = await rollBackIssuance(this.#deps, progress, request.actor, `issuance failed at ${step}`);
      throw new IssuanceFailedError(step, error, steps);
    }
  }

  /**
   * Renders and checks the entry and writes it, flushed, to a temporary file beside its place: the slow half of an
   * atomic write, done before the registry lock so that a batch holds the lock only for the renames.
   */
  async #stageEntry(file: string, keyId: string, entry: KeyEntryInput): Promise<string> {
    const text = renderNewEntry(entry);
    const analysis = analyzeEntryText(file, text);
    const errors = analysis.issues.filter((issue) => issue.severity === 'error');
    if (!analysis.entry || errors.length) {
      throw new RegistryInvalidEntryError(
        keyId,
        errors.map((issue) => `${issue.field ? `${issue.field}: ` : ''}${issue.message}`),
      );
    }
    return stageFile(join(this.#deps.root, file), text);
  }

  /** Puts a staged entry in its place for the batch; runs under the registry lock, with RegistryWriter.create's checks. */
  async #placeEntry(
    file: string,
    keyId: string,
    staged: string,
    inRegistry: ReadonlyMap<string, string>,
  ): Promise<{ file: string; written: boolean; created: boolean }> {
    const existing = inRegistry.get(keyId);
    if (existing) {
      throw new KeyledgerError('E_REGISTRY_DUPLICATE', `key_id "${keyId}" already exists in ${existing}`, {
        category: 'conflict',
      });
    }
    const path = join(this.#deps.root, file);
    if (await pathExists(path)) {
      throw new KeyledgerError('E_REGISTRY_FILE_EXISTS', `${file} already exists`, { category: 'conflict' });
    }
    await rename(staged, path);
    return { file, written: true, created: true };
  }

  /**
   * A run killed between placing its entry and committing it left the file untracked: it was never in the registry,
   * so it is removed rather than deleted by a commit (RegistryWriter.delete refuses a file with uncommitted changes).
   */
  async #discardUncommittedEntry(file: string, keyId: string): Promise<void> {
    const path = join(this.#deps.root, file);
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined || analyzeEntryText(file, text).keyId !== keyId) return;
    const status = await runGit(['status', '--porcelain', '--', file], {
      cwd: this.#deps.root,
      ...(this.#deps.gitEnv ? { env: this.#deps.gitEnv } : {}),
    });
    if (status.startsWith('??')) await this.#removeEntry(file);
  }

  /** Undoes #placeEntry when its batch's commit failed: the file goes, and its team directory if left empty. */
  async #removeEntry(file: string): Promise<void> {
    const path = join(this.#deps.root, file);
    await unlink(path).catch(() => undefined);
    await rmdir(dirname(path)).catch(() => undefined);
  }
}

function issuedKey(
  plan: Plan,
  providerKeyId: string,
  committed: CommittedChange,
  fingerprint: string,
  expiresAt: string,
  eventSeq: number,
): IssuedKey {
  return {
    keyId: plan.keyId,
    provider: plan.request.provider,
    providerKeyId,
    store: plan.store.name,
    path: plan.store.path,
    file: committed.file,
    commit: committed.commit,
    fingerprint,
    expiresAt,
    eventSeq,
    replayed: false,
  };
}

function failedResult(plan: Plan, error: unknown): BulkIssueResult {
  const known = error instanceof KeyledgerError ? error : undefined;
  return {
    row: plan.row,
    status: 'failed',
    keyId: plan.keyId,
    error: {
      code: known?.code ?? 'E_INTERNAL',
      message: error instanceof Error ? error.message : String(error),
      ...(error instanceof IssuanceFailedError ? { failedStep: error.failedStep, rollback: error.rollback } : {}),
    },
  };
}

/** The request field (flag name) a path inside the drafted entry comes from. */
function requestFieldOf(path: readonly PropertyKey[]): string {
  const [first, second] = path.map(String);
  if (first === undefined) return 'row';
  return (
    (second !== undefined ? REQUEST_FIELD_OF_ENTRY_FIELD[`${first}.${second}`] : undefined) ??
    REQUEST_FIELD_OF_ENTRY_FIELD[first] ??
    (first === 'scope' ? 'provider' : first)
  );
}

async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function runBounded(tasks: Array<() => Promise<void>>, concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, tasks.length) }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }),
  );
}

/**
 * Appends the events of keys that finish together (a batch's commit releases hundreds at once) in one transaction:
 * one at a time they queued on the event chain's lock and took longer than the commit. A group that fails is
 * retried event by event, so one bad event fails only its own key.
 */
class CoalescedEventAppends {
  readonly #events: EventLog;
  #queue: Array<{ input: AppendEventInput; resolve: (event: LoggedEvent) => void; reject: (error: unknown) => void }> =
    [];

  constructor(events: EventLog) {
    this.#events = events;
  }

  append(input: AppendEventInput): Promise<LoggedEvent> {
    return new Promise((resolve, reject) => {
      if (this.#queue.length === 0) setImmediate(() => void this.#flush());
      this.#queue.push({ input, resolve, reject });
    });
  }

  async #flush(): Promise<void> {
    const group = this.#queue.splice(0);
    try {
      const logged = await this.#events.appendMany(group.map(({ input }) => input));
      for (const [index, { resolve }] of group.entries()) resolve(logged[index]!);
    } catch {
      for (const { input, resolve, reject } of group) await this.#events.append(input).then(resolve, reject);
    }
  }
}

/** A counting semaphore whose waiters are served in order; `take` resolves to the slot's release (idempotent). */
class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#free = size;
  }

  async take(): Promise<() => void> {
    if (this.#free > 0) this.#free -= 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free += 1;
    };
  }
}
