// `keyledger split KEY_ID` (issue 15 item 5: "when a key is shared across teams, you lose the ability to attribute
// usage. Split it"): one key per consuming team, each with its own entry, owner and consumers; each team's
// consumers moved to their key and confirmed on it; then the shared key revoked. The steps reuse the lifecycle:
// KeyIssuer mints, stores and registers each team's key (with an idempotency key, so a re-run never mints twice);
// each consumer is re-pointed (its probe's `move_url`) while the shared key still works — both keys are live, the
// consumer keeps the old one as its fallback — and confirmed through the rotation's consumer confirmers against
// the new key's stored version; the provider verifies the new key; only when every team is on its own key does
// KeyRevoker revoke the shared one. Each team's progress is a row of `key_splits`: a failed or interrupted split
// stops with what is done and what is not, and `split KEY_ID` again resumes.
// The whole run holds the shared key's lock (key-locks.ts, operation `split`), so no rotation or revoke of the key
// interleaves with it on any replica: taken before the plan is read, renewed before each step and every third of
// the lease while consumers are awaited, each `key_splits` write made under its fencing token, handed to the final
// revoke, released at the end. A run that paused past its lease while another took the key is refused
// (E_KEY_LOCK_LOST) at its next step; a run resumed after a crash takes the lock again (at once when the dead
// holder was a process on this host, else when its lease lapses).
import type { Kysely } from 'kysely';
import { request } from 'undici';
import type { OperationalSchema } from '../db/operational-schema.js';
import { writeTransaction } from '../db/write-transaction.js';
import { KeyledgerError, NotFoundError, UsageError } from '../errors/keyledger-error.js';
import type { Provider } from '../providers/provider.js';
import { type Consumer, entryStorageRef, type KeyEntry } from '../registry/key-entry-schema.js';
import type { RegistryWriter } from '../registry/registry-writer.js';
import type { Clock } from '../runtime/clock.js';
import { realSleep, type Sleep } from '../runtime/retry-policy.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { KeyIssuer } from './key-issuance.js';
import { KeyBusyError, type KeyLease, KeyLockLostError, type KeyLocks, newLeaseOwner } from './key-locks.js';
import type { KeyRevoker } from './key-revocation.js';
import { RevocationJournal } from './revocation-journal.js';
import type { ConsumerConfirmer, ExpectedKeyVersion } from './rotation/consumers/consumer-confirmer.js';
import { consumerName, consumerProbes } from './rotation/consumers/consumer-probes.js';

export const SPLIT_STATES = ['planned', 'issued', 'moved', 'verified', 'done'] as const;
export type SplitState = (typeof SPLIT_STATES)[number];

export interface SplitTeamPlan {
  team: string;
  newKeyId: string;
  owner: string;
  consumers: string[];
  /** Where the team's key is stored: `<team>/<new key id>` in the shared key's store. */
  path: string;
  state: SplitState;
}

export interface SplitPlan {
  sharedKeyId: string;
  provider: string;
  teams: SplitTeamPlan[];
}

export interface SplitResult extends SplitPlan {
  dryRun: boolean;
  /** True when this run found rows an earlier run left and went on from them. */
  resumed: boolean;
  revoked: boolean;
}

/** Re-points one consumer at another stored secret; the default posts `{path}` to its probe's `move_url`. */
export type ConsumerMover = (
  consumer: Consumer,
  target: { keyId: string; store: string; path: string },
) => Promise<void>;

export interface KeySplitterDependencies {
  db: Kysely<OperationalSchema>;
  writer: RegistryWriter;
  issuer: KeyIssuer;
  revoker: KeyRevoker;
  providers: (name: string) => Provider;
  stores: (name: string) => SecretStore;
  confirmers: (kind: string) => ConsumerConfirmer | undefined;
  clock: Clock;
  mover?: ConsumerMover;
  sleep?: Sleep;
  /** How long each team's consumers get to report the new key (default 15 minutes, as rotation). */
  confirmTimeoutMs?: number;
  confirmPollMs?: number;
  /** The owner of each team's new key, by team; default the shared key's owner (a person confirms it later). */
  owners?: Readonly<Record<string, string>>;
  /** This run's holder name for the shared key's lock; default `newLeaseOwner()`. Tests name other replicas. */
  leaseOwner?: string;
  /** The lease of the shared key's lock, renewed before each step and while consumers are awaited; default 5 min. */
  leaseMs?: number;
}

const DEFAULT_SPLIT_LEASE_MS = 5 * 60_000;

/**
 * The split's hold on the shared key's lock: renewed under its fencing token (KeyLockLostError once another holder
 * took the key), and by `heartbeat` at most every third of the lease while the split waits.
 */
class SplitLease {
  #lease: KeyLease;
  #renewedAt: number;
  readonly #locks: KeyLocks;
  readonly #leaseMs: number;
  readonly #clock: Clock;

  constructor(lease: KeyLease, locks: KeyLocks, leaseMs: number, clock: Clock) {
    this.#lease = lease;
    this.#locks = locks;
    this.#leaseMs = leaseMs;
    this.#clock = clock;
    this.#renewedAt = clock().getTime();
  }

  get current(): KeyLease {
    return this.#lease;
  }

  /** Proves the lock is still ours and extends it; `db` may be the transaction of the write it fences. */
  async renew(db?: Kysely<OperationalSchema>): Promise<void> {
    this.#lease = await this.#locks.renew(this.#lease, this.#leaseMs, db);
    this.#renewedAt = this.#clock().getTime();
  }

  /** Renews when a third of the lease has passed since the last renewal: a live split keeps its key. */
  async heartbeat(): Promise<void> {
    if (this.#clock().getTime() - this.#renewedAt >= this.#leaseMs / 3) await this.renew();
  }

  release(): Promise<void> {
    return this.#locks.release(this.#lease);
  }
}

export class SplitFailedError extends KeyledgerError {
  constructor(sharedKeyId: string, team: string, step: string, cause: unknown, done: string[], notDone: string[]) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      'E_SPLIT_INCOMPLETE',
      `split of ${sharedKeyId} stopped at "${step}" for team ${team}: ${reason}. Done: ${done.join('; ') || 'nothing'}. NOT done: ${notDone.join('; ')}. The shared key still works; run \`keyledger split ${sharedKeyId}\` again to resume.`,
      { category: 'external', details: { done, notDone }, cause },
    );
  }
}

/** The team a consumer belongs to: its own `team`, or the shared entry's owner team. */
function teamOf(consumer: Consumer, entry: KeyEntry): string | undefined {
  return typeof consumer === 'object' && consumer.team ? consumer.team : entry.owner_team;
}

export class KeySplitter {
  readonly #deps: KeySplitterDependencies;
  /** The key locks and the open-rotation check a revoke uses too (revocation-journal.ts). */
  readonly #revocations: RevocationJournal;
  readonly #owner: string;
  readonly #leaseMs: number;

  constructor(dependencies: KeySplitterDependencies) {
    this.#deps = dependencies;
    this.#revocations = new RevocationJournal(dependencies.db, dependencies.clock);
    this.#owner = dependencies.leaseOwner ?? newLeaseOwner();
    this.#leaseMs = dependencies.leaseMs ?? DEFAULT_SPLIT_LEASE_MS;
  }

  /** What a split would do: checked in full before anything is minted (and all `--dry-run` does). */
  async plan(sharedKeyId: string): Promise<{ plan: SplitPlan; entry: KeyEntry }> {
    const found = await this.#deps.writer.read(sharedKeyId);
    if (!found) throw new NotFoundError('E_NOT_FOUND', `no registry entry ${sharedKeyId}`);
    const entry = found.entry;
    if (entry.status === 'revoked' || entry.status === 'retired') {
      const rows = await this.#rows(sharedKeyId);
      if (rows.length === 0) throw new UsageError(`${sharedKeyId} is ${entry.status}: nothing to split`);
    }
    const provider = entry.scope?.provider;
    const storage = entryStorageRef(entry);
    if (!provider || !storage) throw new UsageError(`${sharedKeyId} names no provider or storage: it cannot be split`);
    const byTeam = new Map<string, Consumer[]>();
    for (const consumer of entry.consumed_by ?? []) {
      const team = teamOf(consumer, entry);
      if (!team)
        throw new UsageError(`${sharedKeyId}: consumer ${consumerName(consumer)} names no team (consumed_by[].team)`);
      byTeam.set(team, [...(byTeam.get(team) ?? []), consumer]);
    }
    const existing = new Map((await this.#rows(sharedKeyId)).map((row) => [row.team, row]));
    if (byTeam.size < 2 && existing.size === 0)
      throw new UsageError(
        `${sharedKeyId} is consumed by ${byTeam.size === 0 ? 'no team' : `one team only (${[...byTeam.keys()][0]})`}: nothing to split`,
      );
    // A resumed split reads its teams from its journal: the shared entry's consumers may already be emptied.
    const teams = existing.size > 0 ? [...existing.keys()].sort() : [...byTeam.keys()].sort();
    const owner = entry.owner_individual ?? '';
    return {
      entry,
      plan: {
        sharedKeyId,
        provider,
        teams: teams.map((team) => {
          const newKeyId = existing.get(team)?.new_key_id ?? `${sharedKeyId}-${team}`;
          return {
            team,
            newKeyId,
            owner: this.#deps.owners?.[team] ?? owner,
            consumers: (byTeam.get(team) ?? []).map(consumerName),
            path: `${team}/${newKeyId}`,
            state: (existing.get(team)?.state as SplitState | undefined) ?? 'planned',
          };
        }),
      },
    };
  }

  /**
   * Splits the key, or resumes the split an earlier run left, holding the shared key's lock throughout: E_KEY_BUSY,
   * with nothing done, while another operation holds the key or a rotation of it is unfinished.
   */
  async split(sharedKeyId: string, options: { dryRun?: boolean; actor: string }): Promise<SplitResult> {
    // Checked before the lock is taken, so a key that cannot be split leaves no lock row behind.
    const { plan: checked } = await this.plan(sharedKeyId);
    if (options.dryRun)
      return {
        ...checked,
        dryRun: true,
        resumed: checked.teams.some((team) => team.state !== 'planned'),
        revoked: false,
      };
    const lease = new SplitLease(
      await this.#revocations.locks.acquireOrThrow(
        sharedKeyId,
        { holder: this.#owner, operation: 'split', operationId: `split:${sharedKeyId}`, leaseMs: this.#leaseMs },
        'nothing was done; split again when it has finished',
      ),
      this.#revocations.locks,
      this.#leaseMs,
      this.#deps.clock,
    );
    try {
      // Checked under the lock: a rotation cannot take a step without it, so none moves on meanwhile.
      const rotation = await this.#revocations.openRotation(sharedKeyId);
      if (rotation)
        throw new KeyBusyError(
          sharedKeyId,
          undefined,
          `rotation ${rotation.rotationId} of it is unfinished (${rotation.state}); nothing was done. Let it finish or roll back (\`keyledger rotate --resume\`), then split again`,
        );
      return await this.#splitHeld(sharedKeyId, { actor: options.actor }, lease);
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  async #splitHeld(sharedKeyId: string, options: { actor: string }, lease: SplitLease): Promise<SplitResult> {
    // Read again under the lock: the states an earlier (or a fenced) run left cannot change until we let go.
    const { plan, entry } = await this.plan(sharedKeyId);
    const resumed = plan.teams.some((team) => team.state !== 'planned');
    const storage = entryStorageRef(entry)!;
    const consumersByTeam = new Map<string, Consumer[]>();
    for (const consumer of entry.consumed_by ?? []) {
      const team = teamOf(consumer, entry)!;
      consumersByTeam.set(team, [...(consumersByTeam.get(team) ?? []), consumer]);
    }
    const now = () => this.#deps.clock().toISOString();
    for (const team of plan.teams) {
      if (team.state !== 'planned') continue;
      await this.#deps.db
        .insertInto('key_splits')
        .values({
          shared_key_id: sharedKeyId,
          team: team.team,
          new_key_id: team.newKeyId,
          state: 'planned',
          detail: null,
          actor: options.actor,
          started_at: now(),
          updated_at: now(),
        })
        .onConflict((conflict) => conflict.columns(['shared_key_id', 'team']).doNothing())
        .execute();
    }
    for (const team of plan.teams) {
      const step = async (name: string, work: () => Promise<string | undefined>, next: SplitState) => {
        try {
          // Fenced: a run that paused past its lease (another took the key) stops here, doing nothing.
          await lease.renew();
          const detail = await work();
          await this.#advance(lease, sharedKeyId, team.team, next, detail ?? null);
          team.state = next;
        } catch (error) {
          if (error instanceof KeyLockLostError) throw error;
          await this.#advance(lease, sharedKeyId, team.team, team.state, (error as Error).message).catch(
            () => undefined,
          );
          throw new SplitFailedError(sharedKeyId, team.team, name, error, this.#done(plan), this.#notDone(plan));
        }
      };
      // The team's consumers, as the shared entry declared them (or, on a resumed run after the registry moved
      // them, as the team's own entry does).
      const consumers =
        consumersByTeam.get(team.team) ?? (await this.#deps.writer.read(team.newKeyId))?.entry.consumed_by ?? [];
      if (team.state === 'planned')
        await step(
          'issue',
          async () => {
            const issued = await this.#deps.issuer.issue({
              provider: plan.provider,
              team: team.team,
              owner: team.owner,
              purpose:
                `${team.team}'s own key, split from ${sharedKeyId}: ${entry.purpose ?? entry.description ?? ''}`.trim(),
              permissions: entry.scope?.permissions ?? [],
              ...(entry.scope?.account_id ? { account: String(entry.scope.account_id) } : {}),
              keyId: team.newKeyId,
              store: { name: storage.store, path: team.path },
              consumers,
              tags: [...(entry.tags ?? []), `split-from:${sharedKeyId}`],
              idempotencyKey: `split:${sharedKeyId}:${team.team}`,
              actor: options.actor,
            });
            return `issued ${issued.providerKeyId}`;
          },
          'issued',
        );
      const expected = async (): Promise<ExpectedKeyVersion> => {
        const found = await this.#deps.writer.read(team.newKeyId);
        const stored = await this.#deps.stores(storage.store).get(team.path, 'current');
        if (!found || !stored) throw new Error(`${team.newKeyId} is not registered and stored`);
        return {
          keyId: team.newKeyId,
          rotationId: `split:${sharedKeyId}`,
          versionId: stored.versionId,
          providerKeyId: String(found.entry.provider_key_id ?? stored.metadata.provider_key_id ?? ''),
          fingerprint: found.entry.fingerprint ?? '',
          storedAt: new Date(stored.createdAt),
        };
      };
      if (team.state === 'issued')
        await step(
          'move consumers',
          async () => {
            const version = await expected();
            const mover = this.#deps.mover ?? moveByProbeUrl;
            for (const consumer of consumers) {
              await lease.heartbeat();
              await mover(consumer, { keyId: team.newKeyId, store: storage.store, path: team.path });
            }
            const details = await this.#confirmAll(consumers, entry, version, lease);
            return details.join('; ');
          },
          'moved',
        );
      if (team.state === 'moved')
        await step(
          'verify',
          async () => {
            const version = await expected();
            const stored = await this.#deps.stores(storage.store).get(team.path, 'current');
            const verified = await this.#deps.providers(plan.provider).verify(stored!.value, {
              providerKeyId: version.providerKeyId,
              ...(entry.scope?.account_id ? { account: String(entry.scope.account_id) } : {}),
            });
            if (!verified.valid)
              throw new Error(`the provider refuses ${team.newKeyId}: ${verified.reason ?? 'invalid'}`);
            return `verified ${version.providerKeyId}`;
          },
          'verified',
        );
    }
    // Every team is on its own key: the shared one can go.
    let revoked = false;
    if (plan.teams.every((team) => team.state === 'verified' || team.state === 'done')) {
      if (plan.teams.some((team) => team.state === 'verified')) {
        try {
          const current = await this.#deps.writer.read(sharedKeyId);
          if (current && current.entry.status !== 'revoked') {
            await lease.renew();
            // Under the split's own lock: the revoke renews it before each of its steps, so it is fenced too.
            await this.#deps.revoker.revoke(
              {
                keyId: sharedKeyId,
                actor: options.actor,
                reason: `split into ${plan.teams.map((team) => team.newKeyId).join(', ')}`,
              },
              { lease: lease.current },
            );
          }
        } catch (error) {
          if (error instanceof KeyLockLostError) throw error;
          throw new SplitFailedError(sharedKeyId, '(all)', 'revoke the shared key', error, this.#done(plan), [
            `revoke ${sharedKeyId}`,
          ]);
        }
        for (const team of plan.teams) {
          await this.#advance(lease, sharedKeyId, team.team, 'done', `shared key ${sharedKeyId} revoked`);
          team.state = 'done';
        }
      }
      revoked = true;
    }
    return { ...plan, dryRun: false, resumed, revoked };
  }

  async #confirmAll(
    consumers: readonly Consumer[],
    entry: KeyEntry,
    version: ExpectedKeyVersion,
    lease: SplitLease,
  ): Promise<string[]> {
    // A store's version ids count per path (the shared secret and the team's may both be version 1): a consumer is
    // on the team's key when it reports the team's key id or fingerprint, never by version id.
    const probes = consumerProbes({ ...entry, consumed_by: [...consumers] }, { graceSeconds: 0 }).map((probe) =>
      probe.settings.field === 'fingerprint'
        ? probe
        : { ...probe, settings: { ...probe.settings, field: 'provider_key_id' } },
    );
    const timeout = this.#deps.confirmTimeoutMs ?? 15 * 60_000;
    const poll = this.#deps.confirmPollMs ?? 2_000;
    const sleep = this.#deps.sleep ?? realSleep;
    const deadline = Date.now() + timeout;
    const details: string[] = [];
    for (const probe of probes) {
      const confirmer = this.#deps.confirmers(probe.kind);
      if (!confirmer) throw new Error(`no confirmer for probe kind ${probe.kind} (consumer ${probe.name})`);
      for (;;) {
        // The wait may outlast the lease (15 minutes by default): renewed as it goes, and fenced each time.
        await lease.heartbeat();
        const status = await confirmer.check(probe, version);
        if (status.state === 'confirmed') {
          details.push(status.detail);
          break;
        }
        if (status.state === 'failed' || Date.now() >= deadline)
          throw new Error(`consumer ${probe.name} did not move to ${version.keyId}: ${status.detail}`);
        await sleep(poll);
      }
    }
    return details;
  }

  #done(plan: SplitPlan): string[] {
    return plan.teams.filter((team) => team.state !== 'planned').map((team) => `${team.newKeyId}: ${team.state}`);
  }

  #notDone(plan: SplitPlan): string[] {
    return [
      ...plan.teams
        .filter((team) => team.state !== 'verified' && team.state !== 'done')
        .map((t) => `${t.newKeyId} to verified`),
      `revoke ${plan.sharedKeyId}`,
    ];
  }

  /** A team's row moves under the lock's fencing token, in one transaction: a fenced run records nothing. */
  async #advance(
    lease: SplitLease,
    sharedKeyId: string,
    team: string,
    state: SplitState,
    detail: string | null,
  ): Promise<void> {
    await writeTransaction(this.#deps.db, async (trx) => {
      await lease.renew(trx);
      await trx
        .updateTable('key_splits')
        .set({ state, detail, updated_at: this.#deps.clock().toISOString() })
        .where('shared_key_id', '=', sharedKeyId)
        .where('team', '=', team)
        .execute();
    });
  }

  #rows(sharedKeyId: string) {
    return this.#deps.db.selectFrom('key_splits').selectAll().where('shared_key_id', '=', sharedKeyId).execute();
  }
}

/**
 * The default mover: POSTs `{key_id, store, path}` to the consumer's `probe.move_url` — the consumer's own hook for
 * reading another secret (a deploy job, a config endpoint). A consumer without one cannot be moved automatically.
 */
export const moveByProbeUrl: ConsumerMover = async (consumer, target) => {
  const probe = typeof consumer === 'object' ? (consumer.probe as Record<string, unknown> | undefined) : undefined;
  const url = typeof probe?.move_url === 'string' ? probe.move_url : undefined;
  if (!url)
    throw new UsageError(
      `consumer ${consumerName(consumer)} has no probe.move_url: re-point it to ${target.store}:${target.path} by hand, then run split again`,
    );
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key_id: target.keyId, store: target.store, path: target.path }),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await response.body.text();
  if (response.statusCode >= 300)
    throw new Error(
      `consumer ${consumerName(consumer)} refused the move (${response.statusCode}): ${text.slice(0, 200)}`,
    );
};
