// Drives one rotation through its states (rotation-states.ts), writing the journal before each external side
// effect (intent) and after it (result), so that a run killed at any instant is finished or rolled back by the
// next one without minting twice, losing the new key, or revoking a key a consumer still uses. The argument for
// that is in docs/rotation.md; the crash test (scripts/rotation-crash-test.ts) checks it.
import { KeyledgerError, NotFoundError } from '../../errors/keyledger-error.js';
import { ProviderError } from '../../errors/provider-error.js';
import type { AppendEventInput } from '../../events/event-log.js';
import { type CreatedKey, keyCapabilities, type Provider, type ProviderKeyRef } from '../../providers/provider.js';
import { entryStorageRef, type KeyEntry } from '../../registry/key-entry-schema.js';
import type { RegistryWriter } from '../../registry/registry-writer.js';
import type { Clock } from '../../runtime/clock.js';
import { realSleep, type Sleep } from '../../runtime/retry-policy.js';
import { withStepDeadline } from '../../runtime/step-deadline.js';
import { type FingerprintKey, fingerprintSecret } from '../../secrets/secret-fingerprint.js';
import type { SecretStore, StoredSecret } from '../../secrets/secret-store.js';
import { SecretStoreError } from '../../secrets/secret-store-error.js';
import { KeyPreflight, PreflightError } from '../preflight/key-preflight.js';
import type { ConsumerConfirmer, ConsumerProbe, ExpectedKeyVersion } from './consumers/consumer-confirmer.js';
import { consumerProbes } from './consumers/consumer-probes.js';
import { RotationError, RotationStepError } from './rotation-error.js';
import { newLeaseOwner, type RotationJournal, type RotationRow } from './rotation-journal.js';
import type { RotationMetrics } from './rotation-metrics.js';
import { type RegistryRotationRecord, recordRotationInRegistry } from './rotation-registry-update.js';
import { ROLLBACK_STATES, type RotationState, type RotationTrigger, TERMINAL_STATES } from './rotation-states.js';

export interface RotationOptions {
  /** How long consumers get to pick up the new version (15 minutes by default, docs/rotation.md). */
  confirmTimeoutMs: number;
  /** How often unconfirmed consumers are asked again. */
  confirmPollMs: number;
  /** The grace period of a consumer that names no probe. */
  defaultGraceSeconds: number;
  /**
   * A worker's hold on a journal row and its key's lock; renewed at every step, before every external effect and
   * while a step waits. Must exceed `stepTimeoutMs + clockSkewMs`.
   */
  leaseMs: number;
  /** The longest one external effect (a mint, a store write, a revoke, a commit) may take before it is abandoned. */
  stepTimeoutMs: number;
  /** How far replicas' clocks may disagree: an effect's deadline ends this long before the lease does. */
  clockSkewMs: number;
  /** Transient failures (429s, 5xx, a busy registry) tolerated per rotation before it gives up. */
  maxAttempts: number;
  /** The first wait after a transient failure; doubled per attempt, capped at a minute. */
  retryBaseMs: number;
}

export const DEFAULT_ROTATION_OPTIONS: RotationOptions = {
  confirmTimeoutMs: 15 * 60_000,
  confirmPollMs: 2_000,
  defaultGraceSeconds: 300,
  leaseMs: 5 * 60_000,
  stepTimeoutMs: 2 * 60_000,
  clockSkewMs: 10_000,
  maxAttempts: 8,
  retryBaseMs: 1_000,
};

export interface KeyRotatorDependencies {
  providers: (name: string) => Provider;
  stores: (name: string) => SecretStore;
  writer: RegistryWriter;
  /** The registry root, for the git recovery of an interrupted commit. */
  registryRoot: string;
  journal: RotationJournal;
  fingerprintKey: FingerprintKey;
  confirmers: (kind: string) => ConsumerConfirmer | undefined;
  clock: Clock;
  metrics?: RotationMetrics;
  sleep?: Sleep;
  /** Who rotates, in events and commits. */
  actor?: string;
  /** This worker's lease owner; default `newLeaseOwner()` (host, pid, start, random). Tests name other replicas. */
  leaseOwner?: string;
  options?: Partial<RotationOptions>;
  /** Extra git environment for registry commits (tests pin identities). */
  gitEnv?: NodeJS.ProcessEnv;
  /** True when the configuration marks a provider manual (its adapter may not exist): those keys get tickets. */
  isManual?: (provider: string) => boolean;
  /** Records a finished rotation in the registry; default one RegistryWriter commit each (bulk runs batch them). */
  recordInRegistry?: (record: RegistryRotationRecord) => Promise<unknown>;
  /** The checks before any external effect; default one over `providers`, `stores` and `confirmers`. */
  preflight?: KeyPreflight;
  /** Tells the key's owner about a rollback that cannot finish (a ticket), and that it finished after all. */
  stuckRotations?: StuckRotationDesk;
}

/** Where a rotation whose rollback is stuck is reported to a person (rotation-ticket-desk.ts through the services). */
export interface StuckRotationDesk {
  opened(row: RotationRow): Promise<void>;
  cleared(row: RotationRow): Promise<void>;
}

/** What `sweepOrphans` found: keys minted by rotations that no journal row or registry entry accounts for. */
export interface OrphanSweep {
  /** Revoked keys; `rotationId` is absent for a key that no journal row names (the account sweep). */
  revoked: Array<{ keyId: string; provider: string; providerKeyId: string; rotationId?: string }>;
  /** Keys that could not be examined or revoked, and why (they are tried again by the next sweep). */
  problems: Array<{ keyId: string; problem: string }>;
  /**
   * Live keys carrying a rotation's `<key_id>.rot-<id>` name that no journal row accounts for and that the sweep
   * left alone, with why: no registry entry names `key_id` (nothing says which store or consumers to check), or
   * the entry's store holds the key (it is in use). A person decides; `keyledger revoke` or the provider's console.
   */
  unaccounted: Array<{ keyId: string; provider: string; account?: string; providerKeyId: string; reason: string }>;
}

/** The name a rotation gives the key it mints (rotation-journal.ts, `plan`): `<key_id>.rot-<first 8 of its id>`. */
const ROTATION_KEY_NAME = /^(.+)\.rot-([0-9a-f]{8})$/;

export type RotationOutcome =
  | { status: 'done' | 'rolled-back' | 'failed'; row: RotationRow }
  /** A transient failure: the row waits for `not_before` and is picked up again by the next run. */
  | { status: 'deferred'; row: RotationRow }
  /** Another live worker holds the row. */
  | { status: 'busy'; rotationId: string }
  /** Shutdown asked: the step in flight finished, the lease was given back. */
  | { status: 'interrupted'; row: RotationRow }
  /**
   * A rollback (or a promote) that failed `maxAttempts` times: the row stays unfinished, retried with a long
   * back-off by the controller and at once by `rotate --resume`; `rotate --status` lists it with the keys it holds.
   */
  | { status: 'stuck'; row: RotationRow };

export interface DriveOptions {
  /** Wait out transient failures in-process instead of returning `deferred`. */
  waitForRetries?: boolean;
  signal?: AbortSignal;
  /** Stops on entering this state without giving anything back, as a crash would (tests of resume). */
  haltAt?: RotationState;
  /** Try once now even when the row waits for `not_before` (`rotate --resume`: a person says the fault is fixed). */
  retryNow?: boolean;
}

/** What one run knows beyond the journal: the secret of a key it minted itself, and which state it entered itself. */
interface RunMemory {
  entered?: RotationState;
  created?: CreatedKey;
  entry?: KeyEntry;
  /** Shutdown: waits (for consumers, for a retry) end early, and the row is given back where it stands. */
  signal?: AbortSignal;
  /** When this run last renewed its lease (clock ms), for the heartbeat of a waiting step. */
  renewedAt?: number;
}

/**
 * Thrown out of a wait when shutdown is asked: waiting for consumers or for a retry changes nothing, so the row
 * is released in its current state and the next start resumes the wait (its deadline runs from the journal).
 */
class ShutdownDuringWait extends Error {}

const MAX_RETRY_WAIT_MS = 60_000;
/** The back-off of a stuck rotation (past `maxAttempts`): from a minute, doubling, up to this. */
const MAX_STUCK_WAIT_MS = 15 * 60_000;
/** States whose failures never end the rotation: finishing them is the only safe way out (see docs/rotation.md). */
const PENDING_STATES: ReadonlySet<RotationState> = new Set(['rolling-back', 'verified']);

export class KeyRotator {
  readonly #deps: KeyRotatorDependencies;
  readonly #options: RotationOptions;
  readonly #owner: string;
  readonly #sleep: Sleep;
  readonly #actor: string;
  readonly #preflight: KeyPreflight;
  /** Rotations planned by this instance after a passing preflight: their `planned` step need not check again. */
  readonly #preflighted = new Set<string>();

  constructor(dependencies: KeyRotatorDependencies) {
    this.#deps = dependencies;
    this.#options = { ...DEFAULT_ROTATION_OPTIONS, ...dependencies.options };
    this.#owner = dependencies.leaseOwner ?? newLeaseOwner();
    const { leaseMs, stepTimeoutMs, clockSkewMs } = this.#options;
    if (leaseMs <= stepTimeoutMs + clockSkewMs) {
      throw new RotationError(
        'E_ROTATION_CONFIG',
        `the rotation lease (${leaseMs} ms) must outlast one step (${stepTimeoutMs} ms) plus the clock-skew margin (${clockSkewMs} ms)`,
        { category: 'input' },
      );
    }
    this.#sleep = dependencies.sleep ?? realSleep;
    this.#actor = dependencies.actor ?? 'system:rotation-controller';
    this.#preflight =
      dependencies.preflight ??
      new KeyPreflight({
        providers: dependencies.providers,
        stores: dependencies.stores,
        confirmers: dependencies.confirmers,
        clock: dependencies.clock,
      });
  }

  /** True when the row's rollback (or promote) has failed `maxAttempts` times and now waits with a long back-off. */
  isStuck(row: RotationRow): boolean {
    return PENDING_STATES.has(row.state) && row.attempts >= this.#options.maxAttempts;
  }

  get options(): Readonly<RotationOptions> {
    return this.#options;
  }

  /** Records the intent to rotate `keyId`; returns the rotation already open for it when there is one. */
  async plan(
    keyId: string,
    trigger: RotationTrigger,
    options: { notBefore?: Date; expectedProviderKeyId?: string } = {},
  ): Promise<{ row: RotationRow; created: boolean }> {
    const found = await this.#deps.writer.read(keyId);
    if (!found) throw new NotFoundError('E_KEY_NOT_FOUND', `no registry entry with key_id "${keyId}"`);
    const { entry } = found;
    // The caller decided from an older read of the entry (a due tick): its key was replaced since, so that decision
    // no longer holds. A rotation still open for the key is joined as usual.
    if (
      options.expectedProviderKeyId !== undefined &&
      String(entry.provider_key_id ?? '') !== options.expectedProviderKeyId
    ) {
      const open = await this.#deps.journal.openForKey(keyId);
      if (open) return { row: open, created: false };
      throw new RotationError(
        'E_ROTATION_ENTRY_MOVED',
        `${keyId} now holds provider key ${entry.provider_key_id ?? '(none)'}, not ${options.expectedProviderKeyId} as when it was found due: read it again`,
        { category: 'conflict' },
      );
    }
    if (entry.status === 'revoked' || entry.status === 'retired') {
      throw new RotationError('E_ROTATION_NOT_ACTIVE', `${keyId} is ${entry.status}: there is nothing to rotate`, {
        category: 'input',
      });
    }
    const providerName = entry.scope?.provider;
    if (!providerName)
      throw new RotationError('E_ROTATION_NO_PROVIDER', `${keyId} has no scope.provider: cannot tell where to mint`, {
        category: 'input',
      });
    const storage = entryStorageRef(entry);
    if (!storage)
      throw new RotationError('E_ROTATION_NO_STORAGE', `${keyId} has no storage: nowhere to put the new key`, {
        category: 'input',
      });
    const manual = this.#deps.isManual?.(providerName) ?? false;
    const provider = manual ? undefined : this.#deps.providers(providerName);
    const capabilities = provider
      ? keyCapabilities(provider, { account: entry.scope?.account_id, kind: entry.scope?.kind })
      : undefined;
    if (!capabilities || capabilities.manual || !capabilities.create) {
      const what = capabilities?.kind
        ? `${providerName} has no issuance API for ${capabilities.kind}s`
        : `${providerName} has no issuance API`;
      throw new RotationError('E_ROTATION_MANUAL', `${what}: ${keyId} is rotated through a ticket`, {
        category: 'input',
      });
    }
    try {
      await this.#preflight.check(
        {
          keyId,
          provider: providerName,
          ...(entry.scope?.account_id ? { account: entry.scope.account_id } : {}),
          ...(entry.scope?.kind ? { kind: entry.scope.kind } : {}),
          store: storage.store,
          path: storage.path,
          ...(entry.provider_key_id ? { currentProviderKeyId: entry.provider_key_id } : {}),
          consumers: consumerProbes(entry, { graceSeconds: this.#options.defaultGraceSeconds }),
        },
        'rotate',
      );
    } catch (error) {
      // A rotation already open for the key is joined whatever the preflight says (its rollback needs no room).
      const open = error instanceof PreflightError ? await this.#deps.journal.openForKey(keyId) : undefined;
      if (open) return { row: open, created: false };
      throw error;
    }
    const planned = await this.#deps.journal.plan(
      {
        keyId,
        provider: providerName,
        ...(entry.scope?.account_id ? { account: entry.scope.account_id } : {}),
        trigger,
        store: storage.store,
        path: storage.path,
        ...(entry.provider_key_id ? { oldProviderKeyId: entry.provider_key_id } : {}),
        ...(options.notBefore ? { notBefore: options.notBefore } : {}),
      },
      {
        type: 'rotation_started',
        actor: this.#actor,
        keyId,
        data: {
          provider: providerName,
          trigger,
          ...(entry.provider_key_id ? { old_provider_key_id: entry.provider_key_id } : {}),
        },
      },
    );
    if (planned.created) this.#preflighted.add(planned.row.rotation_id);
    return planned;
  }

  /** Plans and drives a rotation of `keyId` to its end, waiting out transient failures. */
  async rotate(keyId: string, trigger: RotationTrigger, options: DriveOptions = {}): Promise<RotationOutcome> {
    const { row } = await this.plan(keyId, trigger);
    return this.drive(row.rotation_id, { waitForRetries: true, ...options });
  }

  /** Drives every unfinished rotation in the journal (after a crash, or at daemon start). */
  async resumeAll(options: DriveOptions = {}): Promise<RotationOutcome[]> {
    const outcomes: RotationOutcome[] = [];
    for (const row of await this.#deps.journal.unfinished()) {
      if (options.signal?.aborted) break;
      outcomes.push(await this.drive(row.rotation_id, options));
    }
    await this.observePending();
    return outcomes;
  }

  /** The unfinished rotations, oldest first, each with the provider keys it minted that are still live. */
  async pending(): Promise<Array<{ row: RotationRow; stuck: boolean; liveKeys: string[] }>> {
    return (await this.#deps.journal.unfinished()).map((row) => ({
      row,
      stuck: this.isStuck(row),
      liveKeys: row.new_provider_key_id ? [row.new_provider_key_id] : [],
    }));
  }

  /** Sets the gauge of stuck rotations from the journal (all processes' rows, not only this one's). */
  async observePending(): Promise<void> {
    const metrics = this.#deps.metrics;
    if (!metrics) return;
    metrics.rollbackPending.reset();
    for (const { row, stuck } of await this.pending())
      if (stuck) metrics.rollbackPending.inc({ provider: row.provider });
  }

  /** Takes the row's lease and runs steps until it ends, is deferred, or shutdown is asked. */
  async drive(rotationId: string, options: DriveOptions = {}): Promise<RotationOutcome> {
    let row = await this.#deps.journal.claim(rotationId, this.#owner, this.#options.leaseMs);
    if (!row) {
      const current = await this.#deps.journal.get(rotationId);
      if (current && TERMINAL_STATES.has(current.state))
        return { status: current.state as 'done' | 'rolled-back' | 'failed', row: current };
      return { status: 'busy', rotationId };
    }
    const memory: RunMemory = {
      ...(options.signal ? { signal: options.signal } : {}),
      renewedAt: this.#deps.clock().getTime(),
    };
    let retryNow = options.retryNow === true;
    try {
      for (;;) {
        if (TERMINAL_STATES.has(row.state)) return { status: row.state as 'done' | 'rolled-back' | 'failed', row };
        if (options.haltAt === row.state) return { status: 'interrupted', row };
        if (options.signal?.aborted) {
          await this.#deps.journal.release(row.rotation_id, this.#owner);
          return { status: 'interrupted', row };
        }
        const wait = row.not_before && !retryNow ? Date.parse(row.not_before) - this.#deps.clock().getTime() : 0;
        retryNow = false;
        if (wait > 0) {
          if (this.isStuck(row)) {
            await this.#deps.journal.release(row.rotation_id, this.#owner);
            return { status: 'stuck', row };
          }
          if (!options.waitForRetries) {
            await this.#deps.journal.release(row.rotation_id, this.#owner);
            return { status: 'deferred', row };
          }
          await this.#pause(Math.min(wait, MAX_RETRY_WAIT_MS), options.signal);
          continue;
        }
        try {
          row = await this.#step(row, memory);
        } catch (error) {
          // Fenced: another worker took the key (this one paused past its lease); it stops without acting.
          if (isLeaseLost(error)) return { status: 'busy', rotationId };
          if (error instanceof ShutdownDuringWait) {
            await this.#deps.journal.release(row.rotation_id, this.#owner);
            return { status: 'interrupted', row };
          }
          try {
            row = await this.#onStepFailure(row, memory, error);
          } catch (failure) {
            // Recording the failure found the row fenced (the step failed because the worker was cut off, say).
            if (isLeaseLost(failure)) return { status: 'busy', rotationId };
            throw failure;
          }
        }
      }
    } catch (error) {
      await this.#deps.journal.release(rotationId, this.#owner).catch(() => undefined);
      throw error;
    }
  }

  async #step(row: RotationRow, memory: RunMemory): Promise<RotationRow> {
    switch (row.state) {
      case 'planned':
        return this.#checkRoomAndIntend(row, memory);
      case 'minting':
        return memory.entered === 'minting' ? this.#mint(row, memory) : this.#recoverMinting(row, memory);
      case 'minted':
        return memory.created ? this.#storePending(row, memory) : this.#recoverMinted(row, memory);
      case 'stored':
        return this.#awaitConsumers(row, memory);
      case 'consumers-confirmed':
        return this.#verify(row, memory);
      case 'verified':
        return this.#promote(row, memory);
      case 'promoted':
        return this.#revokeOld(row, memory);
      case 'old-revoked':
        return this.#updateRegistry(row, memory);
      case 'registry-updated':
        return this.#finish(row, memory);
      case 'rolling-back':
        return this.#rollBack(row, memory);
      default:
        throw new RotationError('E_ROTATION_STATE', `rotation ${row.rotation_id} is in an unknown state ${row.state}`);
    }
  }

  // planned -> minting. A provider that caps keys per account (AWS IAM: 2) must have room for the new key: an
  // inactive key other than the current one is deleted first; two live keys make the rotation refuse.
  async #checkRoomAndIntend(row: RotationRow, memory: RunMemory): Promise<RotationRow> {
    const entry = await this.#entry(row, memory);
    // Revoked (or retired) since it was planned — a revoke holds the key's lock, so it ran before this claim.
    if (entry.status === 'revoked' || entry.status === 'retired')
      throw new RotationStepError('rollback', 'key_not_active', `${row.key_id} is ${entry.status}: nothing to rotate`);
    // A row planned elsewhere (another process, a scheduled one, a crash before its first step): check again now.
    if (!this.#preflighted.delete(row.rotation_id)) {
      try {
        await this.#preflight.check(
          {
            keyId: row.key_id,
            provider: row.provider,
            ...(row.account ? { account: row.account } : {}),
            ...(entry.scope?.kind ? { kind: entry.scope.kind } : {}),
            store: row.store,
            path: row.path,
            ...(row.old_provider_key_id ? { currentProviderKeyId: row.old_provider_key_id } : {}),
            consumers: consumerProbes(entry, { graceSeconds: this.#options.defaultGraceSeconds }),
          },
          'rotate',
        );
      } catch (error) {
        if (!(error instanceof PreflightError)) throw error;
        throw new RotationStepError('rollback', 'preflight_failed', error.message, error);
      }
    }
    const provider = this.#deps.providers(row.provider);
    const capabilities = provider.capabilities();
    if (capabilities.maxKeysPerAccount && capabilities.list && row.account) {
      const held = await this.#listLive(provider, row.account);
      if (held.length >= capabilities.maxKeysPerAccount) {
        const spare = held.find((key) => key.providerKeyId !== row.old_provider_key_id && key.status !== 'active');
        if (spare) {
          const account = row.account;
          await this.#fenced(row, memory, () => provider.revoke({ providerKeyId: spare.providerKeyId, account }));
          await this.#deps.journal.advance(
            row,
            row.state,
            {},
            this.#lease({
              type: 'rotation.inactive_key_deleted',
              actor: this.#actor,
              keyId: row.key_id,
              data: {
                provider: row.provider,
                provider_key_id: spare.providerKeyId,
                reason: `room for the new key (limit ${capabilities.maxKeysPerAccount})`,
              },
            }),
          );
        }
        if (!spare || held.length - 1 >= capabilities.maxKeysPerAccount) {
          throw new RotationStepError(
            'rollback',
            'key_limit',
            `${row.provider} account ${row.account} already holds ${held.length} live keys (limit ${capabilities.maxKeysPerAccount}): delete one that is not ${row.old_provider_key_id ?? 'current'} and rotate again`,
          );
        }
      }
    }
    return this.#advance(row, memory, 'minting', {});
  }

  // minting (entered by this run) -> minted: the create call, and its answer recorded at once.
  async #mint(row: RotationRow, memory: RunMemory): Promise<RotationRow> {
    const entry = await this.#entry(row, memory);
    const provider = this.#deps.providers(row.provider);
    const {
      provider: _provider,
      account_id: _account,
      permissions,
      ...scopeOptions
    } = entry.scope ?? { provider: row.provider };
    const expiresAt = entryLifetimeFrom(entry, this.#deps.clock());
    const created = await this.#fenced(row, memory, () =>
      provider.create({
        name: row.new_key_name,
        ...(row.account ? { account: row.account } : {}),
        ...(permissions ? { permissions } : {}),
        ...(expiresAt ? { expiresAt } : {}),
        options: scopeOptions,
      }),
    );
    memory.created = created;
    try {
      return await this.#advance(row, memory, 'minted', { new_provider_key_id: created.providerKeyId });
    } catch (error) {
      // Fenced after the mint landed (another worker took the key meanwhile): the secret lives only in this
      // process, so no one can be using the key — revoke it rather than leave a key no journal row records.
      if (isLeaseLost(error)) await this.#revokeOwnMint(row, created);
      throw error;
    }
  }

  // minted (this run holds the secret) -> stored: the secret goes to its store as `pending`, under a token that
  // makes a repeated write return the same version.
  async #storePending(row: RotationRow, memory: RunMemory): Promise<RotationRow> {
    const created = memory.created!;
    const store = this.#deps.stores(row.store);
    let attempt = 0;
    for (;;) {
      let landed = false;
      try {
        const version = await this.#fenced(row, memory, () =>
          store.put(row.path, created.secret, {
            stage: 'pending',
            metadata: {
              key_id: row.key_id,
              provider: row.provider,
              provider_key_id: created.providerKeyId,
              rotation_id: row.rotation_id,
            },
            idempotencyToken: `rotation-${row.rotation_id}`,
          }),
        );
        landed = true;
        const fingerprint = fingerprintSecret(created.secret, this.#deps.fingerprintKey);
        memory.created = undefined;
        return this.#advance(row, memory, 'stored', { new_version_id: version.versionId, fingerprint });
      } catch (error) {
        if (isLeaseLost(error)) {
          // Fenced before the write: another worker holds the key now and cannot know this secret, so the key is
          // revoked, not left live. Fenced after it: the store holds it, and the new holder adopts it from there.
          if (!landed) await this.#revokeOwnMint(row, created);
          throw error;
        }
        // The secret exists only in this process: keep trying here rather than defer, then give the key up.
        attempt += 1;
        if (!isTransient(error) || attempt >= 4) {
          throw new RotationStepError(
            'rollback',
            'store_failed',
            `the new key could not be stored at ${row.store}:${row.path}: ${messageOf(error)}`,
            error,
          );
        }
        await this.#sleep(this.#backoff(attempt));
      }
    }
  }

  // minting found on resume (or after a failed create): did the create happen? The store is asked first (the key
  // may have been stored just before the crash), then the provider, by the rotation's unique key name.
  async #recoverMinting(row: RotationRow, memory: RunMemory): Promise<RotationRow> {
    const stored = await this.#ourStoredVersion(row);
    if (stored) return this.#advance(row, memory, 'stored', stored);
    const orphans = await this.#fenced(row, memory, () => this.#revokeOrphans(row));
    memory.entered = 'minting';
    return this.#deps.journal.advance(
      row,
      'minting',
      { attempts: row.attempts + (orphans.length ? 1 : 0) },
      this.#lease(
        orphans.length ? this.#orphanEvent(row, orphans, 'its answer was lost before it was recorded') : undefined,
      ),
    );
  }

  // minted found on resume: the secret was in the crashed process's memory. Stored already, or lost for good —
  // then the key is revoked (no one can hold its secret) and minting starts again.
  async #recoverMinted(row: RotationRow, memory: RunMemory): Promise<RotationRow> {
    const stored = await this.#ourStoredVersion(row);
    if (stored) return this.#advance(row, memory, 'stored', stored);
    const lost = row.new_provider_key_id!;
    await this.#fenced(row, memory, () =>
      this.#revokeQuietly(row.provider, { providerKeyId: lost, ...(row.account ? { account: row.account } : {}) }),
    );
    const next = await this.#deps.journal.advance(
      row,
      'minting',
      { new_provider_key_id: null, attempts: row.attempts + 1 },
      this.#lease(this.#orphanEvent(row, [lost], 'its secret was lost before it was stored')),
    );
    memory.entered = 'minting';
    return next;
  }

  // stored -> consumers-confirmed: every consumer reports the new version (or its grace period passes).
  async #awaitConsumers(row: RotationRow, memory: RunMemory): Promise<RotationRow> {
    const entry = await this.#entry(row, memory);
    const expected = this.#expected(row);
    const failure = await this.#confirmAll(
      consumerProbes(entry, { graceSeconds: this.#options.defaultGraceSeconds }),
      expected,
      Date.parse(row.state_entered_at),
      memory.signal,
      () => this.#heartbeat(row, memory),
    );
    if (failure) throw new RotationStepError('rollback', failure.reason, failure.detail);
    return this.#advance(row, memory, 'consumers-confirmed', {});
  }

  // consumers-confirmed -> verified: the provider's identify-self call with the new key, then each consumer's own
  // code path where the registry names a check.
  async #verify(row: RotationRow, memory: RunMemory): Promise<RotationRow> {
    const pending = await this.#deps.stores(row.store).get(row.path, 'pending');
    if (!pending || pending.metadata.rotation_id !== row.rotation_id) {
      throw new RotationStepError(
        'rollback',
        'pending_lost',
        `the pending version at ${row.store}:${row.path} is no longer this rotation's`,
      );
    }
    const provider = this.#deps.providers(row.provider);
    if (provider.capabilities().verify) {
      const result = await provider.verify(pending.value, {
        providerKeyId: row.new_provider_key_id!,
        ...(row.account ? { account: row.account } : {}),
      });
      if (!result.valid)
        throw new RotationStepError(
          'rollback',
          'verification_failed',
          `${row.provider} refused the new key: ${result.reason ?? 'no reason given'}`,
        );
    }
    const entry = await this.#entry(row, memory);
    const expected = this.#expected(row);
    for (const probe of consumerProbes(entry, { graceSeconds: this.#options.defaultGraceSeconds })) {
      const confirmer = this.#deps.confirmers(probe.kind);
      if (!confirmer?.exercise) continue;
      const result = await confirmer.exercise(probe, expected);
      if (result.state !== 'confirmed') throw new RotationStepError('rollback', 'consumer_check_failed', result.detail);
    }
    return this.#advance(row, memory, 'verified', {});
  }

  // verified -> promoted: pending becomes current, the old version previous. A promote that happened before a
  // crash is recognised by the current version's rotation id.
  async #promote(row: RotationRow, memory: RunMemory): Promise<RotationRow> {
    const store = this.#deps.stores(row.store);
    const current = await store.get(row.path, 'current');
    if (current?.metadata.rotation_id !== row.rotation_id) {
      const pending = await store
        .versions(row.path)
        .then((versions) => versions.find((version) => version.stages.includes('pending')));
      if (pending?.metadata.rotation_id !== row.rotation_id) {
        throw new RotationStepError(
          'rollback',
          'pending_lost',
          `the pending version at ${row.store}:${row.path} is no longer this rotation's`,
        );
      }
      await this.#fenced(row, memory, () => store.promote(row.path));
    }
    return this.#advance(row, memory, 'promoted', {});
  }

  // promoted -> old-revoked. Consumers confirmed the new version before promotion, so none still needs the old one.
  async #revokeOld(row: RotationRow, memory: RunMemory): Promise<RotationRow> {
    const old = row.old_provider_key_id;
    if (old && old !== row.new_provider_key_id) {
      await this.#fenced(row, memory, () =>
        this.#revokeQuietly(row.provider, { providerKeyId: old, ...(row.account ? { account: row.account } : {}) }),
      );
    }
    return this.#advance(row, memory, 'old-revoked', {});
  }

  async #updateRegistry(row: RotationRow, memory: RunMemory): Promise<RotationRow> {
    const record: RegistryRotationRecord = {
      keyId: row.key_id,
      rotationId: row.rotation_id,
      providerKeyId: row.new_provider_key_id!,
      fingerprint: row.fingerprint!,
      rotatedAt: new Date(row.state_entered_at),
      actor: this.#actor,
      trigger: row.trigger,
    };
    const recordInRegistry = this.#deps.recordInRegistry;
    await this.#fenced(row, memory, async () => {
      if (recordInRegistry) await recordInRegistry(record);
      else await recordRotationInRegistry(this.#deps.writer, this.#deps.registryRoot, record, this.#deps.gitEnv);
    });
    return this.#advance(row, memory, 'registry-updated', {});
  }

  async #finish(row: RotationRow, memory: RunMemory): Promise<RotationRow> {
    const done = await this.#advance(
      row,
      memory,
      'done',
      { failure: null },
      {
        type: 'rotated',
        actor: this.#actor,
        keyId: row.key_id,
        data: {
          provider: row.provider,
          trigger: row.trigger,
          ...(row.old_provider_key_id ? { old_provider_key_id: row.old_provider_key_id } : {}),
          new_provider_key_id: row.new_provider_key_id,
          store: row.store,
          path: row.path,
          version_id: row.new_version_id,
        },
      },
    );
    this.#deps.metrics?.success.inc({ provider: row.provider });
    return done;
  }

  // rolling-back -> rolled-back, in three steps that do not depend on one another: the store (our pending version
  // goes), the consumers (none may still use the new key), the provider (the new key and any orphan are revoked).
  // The provider step runs even when the store cannot be reached — a minted key never waits on the store to die —
  // unless a consumer reports using the new key. Whatever cannot be done yet keeps the row in `rolling-back`, retried
  // with back-off (#rollbackPending); the row ends `rolled-back` only when nothing of the rotation is left.
  async #rollBack(row: RotationRow, memory: RunMemory): Promise<RotationRow> {
    const problems: string[] = [];
    // 1. The store. `undefined`: it could not be asked.
    let current: StoredSecret | null | undefined;
    try {
      const store = this.#deps.stores(row.store);
      current = await store.get(row.path, 'current');
      if (current?.metadata.rotation_id === row.rotation_id) {
        // Promoted after all (a crash between promote and its journal write): finishing is the safe direction.
        return this.#deps.journal.advance(row, 'promoted', { rollback_reason: null }, this.#lease());
      }
      const pending = await store
        .versions(row.path)
        .then((versions) => versions.find((version) => version.stages.includes('pending')));
      if (pending?.metadata.rotation_id === row.rotation_id)
        await this.#fenced(row, memory, () => store.discardPending(row.path));
    } catch (error) {
      if (isLeaseLost(error)) throw error;
      current = undefined;
      // A store that is not even configured never received anything of a rotation that stored nothing.
      const unconfigured = error instanceof KeyledgerError && error.category === 'config';
      if (!(unconfigured && !row.new_version_id)) problems.push(`store ${row.store}: ${messageOf(error)}`);
    }
    // 2. The consumers, where the new version reached the store (before that, no one can hold the new key).
    let blocked: string | undefined;
    if (row.new_provider_key_id && row.new_version_id) {
      const entry = await this.#entry(row, memory).catch(() => undefined);
      const probes = (entry ? consumerProbes(entry, { graceSeconds: this.#options.defaultGraceSeconds }) : []).filter(
        (probe) => probe.kind !== 'grace',
      );
      if (current) {
        // Seen back on the current version, for as long as consumers are given to confirm.
        const back: ExpectedKeyVersion = {
          keyId: row.key_id,
          rotationId: row.rotation_id,
          versionId: current.versionId,
          providerKeyId: current.metadata.provider_key_id ?? row.old_provider_key_id ?? '',
          fingerprint: fingerprintSecret(current.value, this.#deps.fingerprintKey),
          storedAt: new Date(row.state_entered_at),
        };
        // The first attempt's wait runs from entering rolling-back (across restarts); a retry after a fault (the
        // store came back) gives consumers their full time again, from now.
        const since = row.attempts > 0 ? this.#deps.clock().getTime() : Date.parse(row.state_entered_at);
        const stuck = await this.#confirmAll(probes, back, since, memory.signal, () => this.#heartbeat(row, memory));
        if (stuck) blocked = stuck.detail;
      } else if (current === undefined) {
        // The store cannot say what is current: only a consumer that reports the new key keeps it alive. One that
        // cannot be asked is no reason to leave a key live (it cannot be using a key it never loaded... or it can,
        // and then it would say so when it answers).
        for (const probe of probes) {
          const status = await this.#deps.confirmers(probe.kind)?.check(probe, this.#expected(row));
          if (status?.state === 'confirmed') blocked = `${probe.name} still uses the new key (${status.detail})`;
        }
      }
    }
    // 3. The provider.
    const revoked: string[] = [];
    if (!blocked) {
      try {
        await this.#fenced(row, memory, async () => {
          if (row.new_provider_key_id) {
            await this.#revokeQuietly(row.provider, {
              providerKeyId: row.new_provider_key_id,
              ...(row.account ? { account: row.account } : {}),
            });
            revoked.push(row.new_provider_key_id);
          }
          revoked.push(...(await this.#revokeOrphans(row)));
        });
      } catch (error) {
        if (isLeaseLost(error)) throw error;
        problems.push(`${row.provider}: ${messageOf(error)}`);
      }
    }
    if (!blocked && problems.length === 0) {
      return this.#endRolledBack(row, memory, {}, row.rollback_reason ?? 'unknown', row.failure ?? '', revoked);
    }
    const detail = blocked
      ? `rollback waits: the new key ${row.new_provider_key_id} stays live because ${blocked}`
      : `rollback incomplete (${problems.join('; ')})${revoked.length ? `; revoked ${revoked.join(', ')}` : ''}`;
    return this.#rollbackPending(
      row,
      memory,
      blocked ? 'consumer_on_new_key' : 'rollback_incomplete',
      detail,
      // A revoked key is no longer held: the next attempt only finishes what is left.
      revoked.includes(row.new_provider_key_id ?? '') ? { new_provider_key_id: null } : {},
      revoked.length
        ? {
            type: 'rotation.new_key_revoked',
            actor: this.#actor,
            keyId: row.key_id,
            data: { provider: row.provider, provider_key_ids: revoked, left: detail },
          }
        : undefined,
    );
  }

  /**
   * A step of a rotation that must be finished rather than abandoned (its rollback, or its promote) failed: the row
   * stays in its state with `not_before` set — the usual back-off up to `maxAttempts`, then a minute doubling up to
   * MAX_STUCK_WAIT_MS — and
   * keeps `rollback_reason`. On becoming stuck it counts in the metrics and the key's owner gets a ticket.
   */
  async #rollbackPending(
    row: RotationRow,
    memory: RunMemory,
    why: string,
    failure: string,
    fields: Parameters<RotationJournal['advance']>[2] = {},
    event?: AppendEventInput,
  ): Promise<RotationRow> {
    const attempts = row.attempts + 1;
    const waitMs =
      attempts >= this.#options.maxAttempts
        ? Math.min(
            MAX_STUCK_WAIT_MS,
            Math.max(MAX_RETRY_WAIT_MS, this.#options.retryBaseMs * 2 ** Math.min(attempts - 1, 20)),
          )
        : this.#backoff(attempts);
    const notBefore = new Date(this.#deps.clock().getTime() + waitMs).toISOString();
    const becameStuck = attempts === this.#options.maxAttempts;
    const stuckEvent: AppendEventInput | undefined = becameStuck
      ? {
          type: 'rotation.stuck',
          actor: this.#actor,
          keyId: row.key_id,
          data: {
            provider: row.provider,
            state: row.state,
            reason: why,
            failure,
            ...(fields.new_provider_key_id !== null && row.new_provider_key_id
              ? { live_provider_key_id: row.new_provider_key_id }
              : {}),
          },
        }
      : undefined;
    const next = await this.#deps.journal.advance(
      row,
      row.state,
      { ...fields, attempts, not_before: notBefore, failure: `${why}: ${failure}` },
      this.#lease(event ?? stuckEvent),
    );
    // The step's own event went with the journal write; the stuck event follows it.
    if (event && stuckEvent) await this.#deps.journal.recordEvent(row.rotation_id, stuckEvent);
    memory.entered = row.state;
    if (becameStuck) {
      this.#deps.metrics?.rollbackStuck.inc({ provider: row.provider });
      await this.#deps.stuckRotations?.opened(next).catch(() => undefined);
      await this.observePending().catch(() => undefined);
    }
    return next;
  }

  /** The end of a rollback: the journal's last state, its `rolled_back` event, and the counters. */
  async #endRolledBack(
    row: RotationRow,
    memory: RunMemory,
    fields: Parameters<RotationJournal['advance']>[2],
    reason: string,
    failure: string,
    revoked: string[],
  ): Promise<RotationRow> {
    const rolledBack = await this.#advance(row, memory, 'rolled-back', fields, {
      type: 'rolled_back',
      actor: this.#actor,
      keyId: row.key_id,
      data: { provider: row.provider, trigger: row.trigger, reason, failure, revoked_new_keys: revoked },
    });
    this.#deps.metrics?.rolledBack.inc({ reason });
    this.#deps.metrics?.failure.inc({ reason });
    if (row.attempts >= this.#options.maxAttempts) {
      // It was stuck: its ticket is closed and the gauge no longer counts it.
      await this.#deps.stuckRotations?.cleared(rolledBack).catch(() => undefined);
      await this.observePending().catch(() => undefined);
    }
    return rolledBack;
  }

  async #onStepFailure(row: RotationRow, memory: RunMemory, error: unknown): Promise<RotationRow> {
    memory.created = undefined;
    const failure = messageOf(error);
    const kind =
      error instanceof RotationStepError
        ? error.kind
        : isTransient(error)
          ? 'transient'
          : ROLLBACK_STATES.has(row.state)
            ? 'rollback'
            : 'transient';
    const reason = error instanceof RotationStepError ? error.reason : reasonOf(error, row.state);
    // A rollback never ends `failed`: whatever went wrong, it is tried again (a minted key must not be left live).
    if (row.state === 'rolling-back') return this.#rollbackPending(row, memory, reason, failure);
    if (kind === 'fatal') return this.#fail(row, reason, failure);
    if (kind === 'rollback' && row.state === 'planned') {
      // Nothing was minted or stored yet: there is nothing to undo, and no reason to look for orphans.
      return this.#endRolledBack(row, memory, { rollback_reason: reason, failure }, reason, failure, []);
    }
    if (kind === 'rollback') {
      // The rollback gets its own budget of attempts.
      return this.#deps.journal.advance(
        row,
        'rolling-back',
        { rollback_reason: reason, failure, attempts: 0, not_before: null },
        this.#lease(),
      );
    }
    // A promote may have landed without its answer: only the store can tell, so it is asked again, never undone.
    if (row.state === 'verified') return this.#rollbackPending(row, memory, reason, failure);
    // Transient: wait (Retry-After when the provider gave one) and try the same step again, a bounded number of times.
    const attempts = row.attempts + 1;
    if (attempts > this.#options.maxAttempts) {
      if (ROLLBACK_STATES.has(row.state)) {
        return this.#deps.journal.advance(
          row,
          'rolling-back',
          { rollback_reason: reason, failure, attempts: 0, not_before: null },
          this.#lease(),
        );
      }
      return this.#fail(row, reason, `gave up after ${attempts - 1} attempts: ${failure}`);
    }
    const retryAfterMs =
      error instanceof ProviderError && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0;
    const waitMs = Math.max(retryAfterMs, this.#backoff(attempts));
    const notBefore = new Date(this.#deps.clock().getTime() + waitMs).toISOString();
    if (row.state === 'minting') memory.entered = undefined; // the create may have happened: search before minting again
    return this.#deps.journal.advance(row, row.state, { attempts, not_before: notBefore, failure }, this.#lease());
  }

  async #fail(row: RotationRow, reason: string, failure: string): Promise<RotationRow> {
    const failed = await this.#deps.journal.advance(
      row,
      'failed',
      { failure, rollback_reason: reason },
      this.#lease({
        type: 'rotation_failed',
        actor: this.#actor,
        keyId: row.key_id,
        data: {
          provider: row.provider,
          trigger: row.trigger,
          reason,
          failure,
          state: row.state,
          ...(row.new_provider_key_id ? { new_provider_key_id: row.new_provider_key_id } : {}),
        },
      }),
    );
    this.#deps.metrics?.failure.inc({ reason });
    return failed;
  }

  /** Polls until every probe confirms; returns the first failure, or a timeout, or undefined when all confirmed. */
  async #confirmAll(
    probes: ConsumerProbe[],
    expected: ExpectedKeyVersion,
    sinceMs: number,
    signal?: AbortSignal,
    heartbeat?: () => Promise<void>,
  ): Promise<{ reason: string; detail: string } | undefined> {
    const deadline = sinceMs + this.#options.confirmTimeoutMs;
    let waiting = probes;
    for (;;) {
      // A wait may outlast the lease (15 minutes against 5): renewing it keeps the key, or stops here if it is lost.
      await heartbeat?.();
      const still: ConsumerProbe[] = [];
      const details: string[] = [];
      for (const probe of waiting) {
        const confirmer = this.#deps.confirmers(probe.kind);
        if (!confirmer)
          return { reason: 'consumer_probe_unknown', detail: `${probe.name}: unknown probe kind "${probe.kind}"` };
        const status = await confirmer.check(probe, expected);
        if (status.state === 'failed') return { reason: 'consumer_failed', detail: status.detail };
        if (status.state === 'waiting') {
          still.push(probe);
          details.push(status.detail);
        }
      }
      if (still.length === 0) return undefined;
      const left = deadline - this.#deps.clock().getTime();
      if (left <= 0)
        return {
          reason: 'consumers_not_confirmed',
          detail: `not confirmed within ${Math.round(this.#options.confirmTimeoutMs / 1000)}s: ${details.join('; ')}`,
        };
      waiting = still;
      if (signal?.aborted) throw new ShutdownDuringWait();
      await this.#pause(Math.min(this.#options.confirmPollMs, left), signal);
      if (signal?.aborted) throw new ShutdownDuringWait();
    }
  }

  /** Sleeps `ms`, or less when `signal` aborts first. */
  async #pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) return this.#sleep(ms);
    if (signal.aborted) return;
    let onAbort = (): void => undefined;
    const aborted = new Promise<void>((resolve) => {
      onAbort = resolve;
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.#sleep(ms), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  #expected(row: RotationRow): ExpectedKeyVersion {
    return {
      keyId: row.key_id,
      rotationId: row.rotation_id,
      versionId: row.new_version_id!,
      providerKeyId: row.new_provider_key_id!,
      fingerprint: row.fingerprint!,
      storedAt: new Date(row.state_entered_at),
    };
  }

  async #ourStoredVersion(
    row: RotationRow,
  ): Promise<{ new_provider_key_id: string; new_version_id: string; fingerprint: string } | undefined> {
    const store = this.#deps.stores(row.store);
    const pending = await store.get(row.path, 'pending');
    if (!pending || pending.metadata.rotation_id !== row.rotation_id) return undefined;
    return {
      new_provider_key_id: pending.metadata.provider_key_id!,
      new_version_id: pending.versionId,
      fingerprint: fingerprintSecret(pending.value, this.#deps.fingerprintKey),
    };
  }

  /**
   * Keys at the provider minted under this rotation's name and not recorded: their secret never reached the store,
   * so no one can use them; they are revoked. Providers that do not list names (AWS) are matched by being live,
   * newer than the rotation and neither the old key nor the one recorded.
   */
  async #revokeOrphans(row: RotationRow): Promise<string[]> {
    const provider = this.#deps.providers(row.provider);
    if (!provider.capabilities().list) return [];
    // Unnamed keys (AWS) count only when created after this rotation was planned; with AWS's two-key limit and the
    // refusal to start with two live keys, the only such key can be the one this rotation minted.
    const since = Date.parse(row.created_at) - 1_000;
    const orphans: string[] = [];
    for (const key of await this.#listLive(provider, row.account ?? undefined)) {
      if (key.providerKeyId === row.old_provider_key_id || key.providerKeyId === row.new_provider_key_id) continue;
      const named = key.name !== undefined;
      const ours = named ? key.name === row.new_key_name : !!row.account && (key.createdAt?.getTime() ?? 0) >= since;
      if (!ours) continue;
      await this.#revokeQuietly(row.provider, {
        providerKeyId: key.providerKeyId,
        ...(row.account ? { account: row.account } : {}),
      });
      orphans.push(key.providerKeyId);
    }
    return orphans;
  }

  /**
   * `rotate --resume`'s sweep: the keys that rotations which ended `failed` (an older keyledger ended rollbacks so)
   * minted and that are still live at the provider — the one the row recorded, or one carrying its `<key_id>.rot-<id>` name — unless the
   * registry entry names them or the key's store still holds them (a failure after promote: the key is in use).
   * Each is revoked with a `rotation.orphan_revoked` event. Keys with a rotation still open are left to it.
   */
  async sweepOrphans(options: { entries?: readonly KeyEntry[] } = {}): Promise<OrphanSweep> {
    const sweep: OrphanSweep = { revoked: [], problems: [], unaccounted: [] };
    await this.#sweepFailedRows(sweep);
    if (options.entries) await this.#sweepAccounts(options.entries, sweep);
    return sweep;
  }

  async #sweepFailedRows(sweep: OrphanSweep): Promise<void> {
    // Only `failed` rows: a `rolled-back` one revoked its keys (and its orphans) before it ended.
    const ended = await this.#deps.journal.list({ states: ['failed'], limit: 100_000 });
    const byKey = new Map<string, RotationRow[]>();
    for (const row of ended) byKey.set(row.key_id, [...(byKey.get(row.key_id) ?? []), row]);
    for (const [keyId, rows] of byKey) {
      try {
        if (await this.#deps.journal.openForKey(keyId)) continue;
        const entry = (await this.#deps.writer.read(keyId))?.entry;
        for (const group of groupBy(rows, (row) => `${row.provider}\u0000${row.account ?? ''}`)) {
          const first = group[0]!;
          const provider = this.#deps.providers(first.provider);
          if (!provider.capabilities().list) continue;
          const byName = new Map(group.map((row) => [row.new_key_name, row]));
          const byId = new Map(
            group.flatMap((row) => (row.new_provider_key_id ? [[row.new_provider_key_id, row]] : [])),
          );
          const candidates: Array<{ providerKeyId: string; row: RotationRow }> = [];
          for (const key of await this.#listLive(provider, first.account ?? undefined)) {
            if (key.providerKeyId === entry?.provider_key_id) continue;
            const row = byId.get(key.providerKeyId) ?? (key.name ? byName.get(key.name) : undefined);
            if (row) candidates.push({ providerKeyId: key.providerKeyId, row });
          }
          if (candidates.length === 0) continue;
          // In the store at any stage: a rotation that failed after its promote left it current (in use).
          const stored = new Set<string>();
          for (const { store, path } of uniqueBy(group, (row) => `${row.store}\u0000${row.path}`)) {
            for (const version of await this.#deps.stores(store).versions(path))
              if (version.stages.length && version.metadata.provider_key_id)
                stored.add(version.metadata.provider_key_id);
          }
          for (const { providerKeyId, row } of candidates) {
            if (stored.has(providerKeyId)) continue;
            await this.#revokeQuietly(row.provider, {
              providerKeyId,
              ...(row.account ? { account: row.account } : {}),
            });
            await this.#deps.journal.recordEvent(
              row.rotation_id,
              this.#orphanEvent(
                row,
                [providerKeyId],
                `rotation ${row.rotation_id} ended ${row.state} and left it live`,
              ),
            );
            sweep.revoked.push({ keyId, provider: row.provider, providerKeyId, rotationId: row.rotation_id });
          }
        }
      } catch (error) {
        sweep.problems.push({ keyId, problem: messageOf(error) });
      }
    }
  }

  /**
   * The account sweep: every provider account the registry names is listed once, and a live key with a rotation's
   * name that the first pass and the journal do not account for — a journal restored from an older backup, rows
   * deleted by hand, a second keyledger with its own database rotating the same accounts — is revoked when its
   * entry exists, is not mid-rotation, does not name it as current and its store does not hold it. Anything else is
   * listed as `unaccounted` for a person. One listing per (provider, account); providers that cannot list are skipped.
   */
  async #sweepAccounts(entries: readonly KeyEntry[], sweep: OrphanSweep): Promise<void> {
    const revoked = new Set(sweep.revoked.map((key) => `${key.provider}\u0000${key.providerKeyId}`));
    const byKeyId = new Map(entries.map((entry) => [entry.key_id, entry]));
    const accounts = new Map<string, { provider: string; account: string | undefined }>();
    for (const entry of entries) {
      const provider = entry.scope?.provider;
      if (!provider || entry.status === 'revoked') continue;
      const account = entry.scope?.account_id;
      accounts.set(`${provider}\u0000${account ?? ''}`, { provider, account });
    }
    for (const { provider: providerName, account } of accounts.values()) {
      let live: Awaited<ReturnType<KeyRotator['listLiveKeys']>>;
      try {
        const provider = this.#deps.providers(providerName);
        if (!provider.capabilities().list) continue;
        live = await this.listLiveKeys(provider, account);
      } catch (error) {
        sweep.problems.push({
          keyId: `${providerName}${account ? `:${account}` : ''}`,
          problem: `could not list the account: ${messageOf(error)}`,
        });
        continue;
      }
      for (const key of live) {
        const keyId = key.name ? ROTATION_KEY_NAME.exec(key.name)?.[1] : undefined;
        if (!keyId || revoked.has(`${providerName}\u0000${key.providerKeyId}`)) continue;
        const found = { keyId, provider: providerName, providerKeyId: key.providerKeyId };
        try {
          const entry = byKeyId.get(keyId);
          if (entry?.provider_key_id === key.providerKeyId) continue;
          if (await this.#deps.journal.openForKey(keyId)) continue;
          const rows = await this.#deps.journal.list({ keyId });
          const row = rows.find((candidate) => candidate.new_key_name === key.name);
          // A `failed` row's keys are the first pass's (it spared them for a reason: in the store).
          if (row?.state === 'failed') continue;
          if (!entry || entry.scope?.provider !== providerName || entry.scope?.account_id !== account) {
            sweep.unaccounted.push({
              ...found,
              ...(account ? { account } : {}),
              reason: `no registry entry ${keyId} in this ${providerName} account: nothing says which store or consumers to check`,
            });
            continue;
          }
          const storage = entryStorageRef(entry);
          if (storage) {
            const versions = await this.#deps.stores(storage.store).versions(storage.path);
            if (
              versions.some(
                (version) => version.stages.length > 0 && version.metadata.provider_key_id === key.providerKeyId,
              )
            ) {
              sweep.unaccounted.push({
                ...found,
                ...(account ? { account } : {}),
                reason: `the store ${storage.store} holds it at ${storage.path}: it may be in use`,
              });
              continue;
            }
          }
          await this.#revokeQuietly(providerName, {
            providerKeyId: key.providerKeyId,
            ...(account ? { account } : {}),
          });
          const why = row
            ? `rotation ${row.rotation_id} ended ${row.state} and a later one did not revoke it`
            : 'no journal row accounts for it';
          const event: AppendEventInput = {
            type: 'rotation.orphan_revoked',
            actor: this.#actor,
            keyId,
            data: { provider: providerName, provider_key_ids: [key.providerKeyId], why },
          };
          await this.#deps.journal.recordEvent(row?.rotation_id, event);
          sweep.revoked.push({ ...found, ...(row ? { rotationId: row.rotation_id } : {}) });
        } catch (error) {
          sweep.problems.push({ keyId, problem: messageOf(error) });
        }
      }
    }
  }

  /** Live (not revoked, not expired) keys of one provider account. */
  async listLiveKeys(provider: Provider, account: string | undefined) {
    return this.#listLive(provider, account);
  }

  async #listLive(provider: Provider, account: string | undefined) {
    const keys = [];
    for await (const key of provider.list(account ? { account } : {}))
      if (key.status !== 'revoked' && key.status !== 'expired') keys.push(key);
    return keys;
  }

  async #revokeQuietly(providerName: string, ref: ProviderKeyRef): Promise<void> {
    try {
      await this.#deps.providers(providerName).revoke(ref);
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
      throw error;
    }
  }

  /**
   * A key this run minted and can no longer record (it was fenced): revoked without the lease — the secret never
   * left this process, so nothing can use the key — with a `rotation.orphan_revoked` event.
   */
  async #revokeOwnMint(row: RotationRow, created: CreatedKey): Promise<void> {
    try {
      await this.#revokeQuietly(row.provider, {
        providerKeyId: created.providerKeyId,
        ...(row.account ? { account: row.account } : {}),
      });
      await this.#deps.journal.recordEvent(
        row.rotation_id,
        this.#orphanEvent(row, [created.providerKeyId], 'minted by a worker that lost its lease before recording it'),
      );
    } catch {
      // Left to the next holder's orphan search by name (`<key_id>.rot-<id>`) and to `rotate --resume`'s sweep.
    }
  }

  #orphanEvent(row: RotationRow, keys: string[], why: string): AppendEventInput {
    return {
      type: 'rotation.orphan_revoked',
      actor: this.#actor,
      keyId: row.key_id,
      data: { provider: row.provider, provider_key_ids: keys, why },
    };
  }

  async #entry(row: RotationRow, memory: RunMemory): Promise<KeyEntry> {
    if (memory.entry) return memory.entry;
    const found = await this.#deps.writer.read(row.key_id);
    if (!found)
      throw new RotationStepError(
        ROLLBACK_STATES.has(row.state) ? 'rollback' : 'fatal',
        'key_missing',
        `${row.key_id} is no longer in the registry`,
      );
    memory.entry = found.entry;
    return found.entry;
  }

  async #advance(
    row: RotationRow,
    memory: RunMemory,
    to: RotationState,
    fields: Parameters<RotationJournal['advance']>[2],
    event?: AppendEventInput,
  ): Promise<RotationRow> {
    const next = await this.#deps.journal.advance(row, to, { not_before: null, ...fields }, this.#lease(event));
    memory.entered = to;
    memory.renewedAt = this.#deps.clock().getTime();
    return next;
  }

  /**
   * Runs one external effect under the fence: first the row is proved ours under its token (its lease and the key's
   * lock renewed, E_ROTATION_LEASE_LOST otherwise) — unless the lease this run wrote moments ago still covers the
   * whole step (#leaseCovers) — then `effect` runs with a deadline — the step timeout, or less
   * when the lease ends sooner — that ends `clockSkewMs` before the lease could lapse on any replica's clock, so a
   * take-over never overlaps it. The provider HTTP client aborts on the deadline (src/runtime/step-deadline.ts);
   * an effect still unanswered then is given up as transient, and the step's recovery finds out what landed.
   */
  async #fenced<T>(row: RotationRow, memory: RunMemory, effect: () => Promise<T>): Promise<T> {
    const budget = this.#leaseCovers(row) ? this.#options.stepTimeoutMs : await this.#renewForEffect(row, memory);
    if (budget <= 0) throw leaseLostError(row, 'too little of the lease is left for the step');
    const deadline = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        deadline.abort();
        reject(
          new RotationStepError(
            'transient',
            'step_deadline',
            `no answer within ${Math.round(budget / 1000)}s at ${row.state}: given up before the lease could lapse`,
          ),
        );
      }, budget);
      timer.unref?.();
    });
    try {
      return await Promise.race([withStepDeadline(deadline.signal, effect), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * True when the lease this run last wrote on the row (its claim, its last advance or fence: `row` carries that
   * write's `lease_expires_at`, or an older one) still covers a whole step plus the clock-skew margin by this
   * process's clock. Then a fence would prove nothing more — no other worker may take the row or its key's lock
   * before that lease lapses on its own clock, and the effect's deadline would be the full step timeout either way
   * — so the effect runs without that round trip. A run that paused (a stopped process, a long GC, a test clock moved
   * past the lease) finds too little left and fences, as before. A bulk run saves one transaction per external
   * effect: the effects follow an advance within milliseconds.
   */
  #leaseCovers(row: RotationRow): boolean {
    if (!row.lease_expires_at || row.lease_owner !== this.#owner) return false;
    const left = Date.parse(row.lease_expires_at) - this.#deps.clock().getTime() - this.#options.clockSkewMs;
    return Number.isFinite(left) && left >= this.#options.stepTimeoutMs;
  }

  /** Fences the row (renewing its lease and its key's lock) and returns the effect's budget under the new lease. */
  async #renewForEffect(row: RotationRow, memory: RunMemory): Promise<number> {
    const held = await this.#deps.journal.fence(row, { owner: this.#owner, leaseMs: this.#options.leaseMs });
    memory.renewedAt = this.#deps.clock().getTime();
    const left = Date.parse(held.lease_expires_at!) - memory.renewedAt - this.#options.clockSkewMs;
    return Math.min(this.#options.stepTimeoutMs, left);
  }

  /** While a step waits (consumers, a rollback's consumers), renews the lease every third of it: a live holder keeps its key. */
  async #heartbeat(row: RotationRow, memory: RunMemory): Promise<void> {
    const now = this.#deps.clock().getTime();
    if (memory.renewedAt !== undefined && now - memory.renewedAt < this.#options.leaseMs / 3) return;
    await this.#deps.journal.fence(row, { owner: this.#owner, leaseMs: this.#options.leaseMs });
    memory.renewedAt = now;
  }

  #lease(event?: AppendEventInput) {
    return { owner: this.#owner, leaseMs: this.#options.leaseMs, ...(event ? { event } : {}) };
  }

  #backoff(attempt: number): number {
    const step = Math.min(MAX_RETRY_WAIT_MS, this.#options.retryBaseMs * 2 ** (attempt - 1));
    return Math.round(step / 2 + Math.random() * (step / 2));
  }
}

function isLeaseLost(error: unknown): boolean {
  return error instanceof RotationError && error.code === 'E_ROTATION_LEASE_LOST';
}

function leaseLostError(row: RotationRow, why: string): RotationError {
  return new RotationError('E_ROTATION_LEASE_LOST', `rotation ${row.rotation_id} of ${row.key_id}: ${why}`, {
    category: 'conflict',
  });
}

function isTransient(error: unknown): boolean {
  if (error instanceof RotationStepError) return error.kind === 'transient';
  if (error instanceof ProviderError || error instanceof SecretStoreError) return error.retryable;
  if (error instanceof KeyledgerError)
    return error.category === 'external' && /SQLITE_BUSY|ECONNRE|timeout/i.test(error.message);
  return false;
}

function reasonOf(error: unknown, state: RotationState): string {
  if (error instanceof ProviderError) {
    if (error.code === 'E_PROVIDER_RATE_LIMITED') return 'rate_limited';
    if (error.code === 'E_PROVIDER_LIMIT_EXCEEDED') return 'key_limit';
    if (error.code === 'E_PROVIDER_UNAVAILABLE' || error.code === 'E_PROVIDER_TIMEOUT') return 'provider_unavailable';
    return `provider_error_at_${state.replace(/-/g, '_')}`;
  }
  if (error instanceof SecretStoreError) return 'store_error';
  return `error_at_${state.replace(/-/g, '_')}`;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups.values()];
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return groupBy(items, key).map((group) => group[0]!);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The new key lives as long as the old one was meant to, counted from now (expiration - created_at). */
function entryLifetimeFrom(entry: KeyEntry, now: Date): Date | undefined {
  if (!entry.expiration || !entry.created_at) return undefined;
  const lifetime = Date.parse(entry.expiration) - Date.parse(entry.created_at);
  return Number.isFinite(lifetime) && lifetime > 0 ? new Date(now.getTime() + lifetime) : undefined;
}
