// Revocation as one unit. First everything that can be checked without changing anything: the entry exists and
// its file has no uncommitted edit (the registry step would refuse it), the provider has a revocation API and
// answers one cheap read with the configured credentials, the secret store is configured and reachable. Only then
// the plan goes into the revocation journal and the steps run: the provider revokes the key (the step that ends
// the risk), the secret leaves its store, the registry marks the entry `revoked` (one commit), the event is
// logged (with the journal marked done, in one transaction). A failure after the first step leaves the journal
// row `pending` and an error naming what was done and what was not; the same command run again, or
// `keyledger revoke --resume`, finishes the remaining steps. Every step is idempotent.
import { KeyledgerError, NotFoundError } from '../errors/keyledger-error.js';
import type { EventLog } from '../events/event-log.js';
import { keyCapabilities, type Provider, type ProviderKeyRef } from '../providers/provider.js';
import { entryStorageRef, type KeyEntry } from '../registry/key-entry-schema.js';
import type { RegistryWriter } from '../registry/registry-writer.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { SecretValue } from '../secrets/secret-value.js';
import { type Logger, silentLogger } from '../telemetry/logger.js';
import { KeyBusyError, type KeyLease, type KeyLocks, newLeaseOwner } from './key-locks.js';
import { RevocationIncompleteError } from './lifecycle-error.js';
import type { RevocationJournal, RevocationRecord, RevocationStep } from './revocation-journal.js';

export interface RevokeKeyRequest {
  keyId: string;
  actor: string;
  reason?: string;
  /** Keep the secret in its store (forensics); it is deleted by default. */
  keepSecret?: boolean;
}

export interface RevokedKey {
  keyId: string;
  provider: string;
  providerKeyId?: string;
  /** What was done, in order (across every run of this revoke). */
  steps: string[];
  commit?: string;
  eventSeq: number;
  revocationId: string;
  /** True when this run finished a revoke an earlier run left pending. */
  resumed: boolean;
}

export interface KeyRevokerDependencies {
  providers: (name: string) => Provider;
  stores: (name: string) => SecretStore;
  writer: RegistryWriter;
  events: EventLog;
  journal: RevocationJournal;
  logger?: Logger;
  /** This worker's lease owner for the key's lock; default `newLeaseOwner()`. Tests name other replicas. */
  leaseOwner?: string;
  /** How long the key's lock is held between steps (each step renews it); default 5 minutes. */
  leaseMs?: number;
}

/** A step of the plan with what it needs to run again after a crash (ids and paths, never a secret). */
interface PlannedStep extends RevocationStep {
  providerKeyId?: string;
  account?: string;
  store?: string;
  path?: string;
}

export class KeyRevoker {
  readonly #deps: KeyRevokerDependencies;
  readonly #log: Logger;
  readonly #owner: string;
  readonly #leaseMs: number;

  constructor(dependencies: KeyRevokerDependencies) {
    this.#deps = dependencies;
    this.#log = (dependencies.logger ?? silentLogger).child({ service: 'revoke' });
    this.#owner = dependencies.leaseOwner ?? newLeaseOwner();
    this.#leaseMs = dependencies.leaseMs ?? 5 * 60_000;
  }

  get #locks(): KeyLocks {
    return this.#deps.journal.locks;
  }

  /**
   * Revokes a key, or finishes its revoke when an earlier run left one pending, holding the key's lock throughout
   * (key-locks.ts): E_KEY_BUSY, with nothing done, while a rotation or split of the key holds it or a rotation of it
   * is unfinished. `lease`: the caller's own lock on the key (a split revoking the key it split), used instead.
   */
  async revoke(request: RevokeKeyRequest, options: { lease?: KeyLease } = {}): Promise<RevokedKey> {
    return this.#locked(request.keyId, options.lease, async (lease) => {
      const pending = await this.#deps.journal.pendingFor(request.keyId);
      if (pending) return this.#finish(pending, true, lease);
      const plan = await this.#preflight(request);
      const record = await this.#deps.journal.start({
        keyId: request.keyId,
        provider: plan.provider,
        actor: request.actor,
        ...(request.reason ? { reason: request.reason } : {}),
        plan: plan.steps,
      });
      return this.#finish(record, false, lease);
    });
  }

  /** Runs `work` under the key's lock (taken here, or the caller's), after checking no rotation of it is open. */
  async #locked<T>(keyId: string, given: KeyLease | undefined, work: (lease: KeyLease) => Promise<T>): Promise<T> {
    const lease =
      given ??
      (await this.#locks.acquireOrThrow(
        keyId,
        { holder: this.#owner, operation: 'revocation', operationId: `revoke:${keyId}`, leaseMs: this.#leaseMs },
        'nothing was done; revoke again when it has finished',
      ));
    try {
      // Checked under the lock: a rotation cannot move on without it, so none can start a step meanwhile.
      const rotation = await this.#deps.journal.openRotation(keyId);
      if (rotation) {
        throw new KeyBusyError(
          keyId,
          undefined,
          `rotation ${rotation.rotationId} of it is unfinished (${rotation.state}); nothing was done. Let it finish or roll back (\`keyledger rotate --resume\`), then revoke again`,
        );
      }
      return await work(lease);
    } finally {
      if (!given) await this.#locks.release(lease).catch(() => undefined);
    }
  }

  /** Finishes every revoke left pending; one failing does not stop the others. */
  async resumeAll(): Promise<{ finished: RevokedKey[]; failed: { keyId: string; error: KeyledgerError | Error }[] }> {
    const finished: RevokedKey[] = [];
    const failed: { keyId: string; error: KeyledgerError | Error }[] = [];
    for (const record of await this.#deps.journal.pending()) {
      try {
        finished.push(await this.#locked(record.keyId, undefined, (lease) => this.#finish(record, true, lease)));
      } catch (error) {
        failed.push({ keyId: record.keyId, error: error instanceof Error ? error : new Error(String(error)) });
      }
    }
    return { finished, failed };
  }

  /** Every check that needs no change anywhere; returns the plan, or throws having done nothing. */
  async #preflight(request: RevokeKeyRequest): Promise<{ provider: string; steps: PlannedStep[] }> {
    const found = await this.#deps.writer.read(request.keyId);
    if (!found) throw new NotFoundError('E_KEY_NOT_FOUND', `no registry entry with key_id "${request.keyId}"`);
    const { entry } = found;
    const providerName = entry.scope?.provider;
    if (!providerName) {
      throw new KeyledgerError(
        'E_REVOKE_NO_PROVIDER',
        `${request.keyId} has no scope.provider: cannot tell where to revoke it`,
        { category: 'input' },
      );
    }
    const steps = planSteps(request, entry, providerName);
    const refuse = (error: unknown): never => {
      throw nothingDone(request.keyId, steps, error);
    };
    const providerStep = steps.find((step) => step.step === 'provider');
    // Each check below throws before anything has changed; nothingDone() says so in the error.
    const provider = await Promise.resolve()
      .then(() => this.#deps.providers(providerName))
      .catch(refuse);
    if (providerStep?.providerKeyId) {
      const capabilities = keyCapabilities(provider, { account: entry.scope?.account_id, kind: entry.scope?.kind });
      // A kind may be manual to create (a GitHub PAT) and still revocable by API: only `revoke` counts here.
      if (provider.capabilities().manual || !capabilities.revoke) {
        throw new KeyledgerError(
          'E_REVOKE_MANUAL',
          `${providerName} offers no revocation API: revoke ${entry.provider_key_id} in its console, then mark ${request.keyId} \`status: revoked\` in the registry. Nothing was done.`,
          { category: 'input', details: { keyId: request.keyId, done: [], notDone: steps.map((s) => s.description) } },
        );
      }
    }
    if (steps.some((step) => step.step === 'registry')) {
      await this.#deps.writer.assertUpdatable(request.keyId).catch(refuse);
    }
    const storeStep = steps.find((step) => step.store !== undefined);
    if (storeStep?.store && storeStep.path) {
      const { store, path } = storeStep;
      await Promise.resolve()
        .then(() => this.#deps.stores(store).get(path))
        .catch((error: unknown) => refuse(reachError(`secret store "${store}"`, error)));
    }
    if (providerStep?.providerKeyId) {
      await checkProviderAnswers(provider, refOf(providerStep)).catch((error: unknown) =>
        refuse(reachError(`${providerName} (with the configured credentials)`, error)),
      );
    }
    return { provider: providerName, steps };
  }

  /** Runs the steps of a journalled revoke that are not done yet, recording each. */
  async #finish(record: RevocationRecord, resumed: boolean, held: KeyLease): Promise<RevokedKey> {
    let lease = held;
    const plan = record.plan as PlannedStep[];
    const log = this.#log.child({ keyId: record.keyId, revocationId: record.revocationId });
    let commit: string | undefined;
    let eventSeq = 0;
    for (const step of plan) {
      if (step.done) continue;
      // Fenced: a revoke that paused past its lock's lease (another worker took the key) stops here, doing nothing.
      lease = await this.#locks.renew(lease, this.#leaseMs);
      try {
        if (step.step === 'event') {
          eventSeq = await this.#logEvent(record, plan, resumed, commit);
        } else {
          if (step.step === 'provider') await this.#revokeAtProvider(record.provider, step, plan);
          if (step.step === 'secret' && step.store && step.path) await this.#deps.stores(step.store).delete(step.path);
          if (step.step === 'registry') {
            const written = await this.#deps.writer.update(
              record.keyId,
              { status: 'revoked' },
              { message: `Revoked by ${record.actor}${record.reason ? `: ${record.reason}` : ''}` },
            );
            commit = written.commit;
          }
          step.done = true;
          await this.#deps.journal.save(record, { failure: null });
        }
        log.debug({ step: step.step }, step.description);
      } catch (error) {
        const failure = error instanceof Error ? error.message : String(error);
        log.warn({ step: step.step, error: failure }, 'revoke stopped; left pending');
        const recorded = await this.#deps.journal.save(record, { failure }).then(
          () => true,
          () => false,
        );
        throw new RevocationIncompleteError({
          keyId: record.keyId,
          revocationId: record.revocationId,
          failedStep: step.description,
          cause: error,
          done: plan.filter((candidate) => candidate.done).map(pastTense),
          notDone: plan.filter((candidate) => !candidate.done).map((candidate) => candidate.description),
          recorded,
        });
      }
    }
    const providerStep = plan.find((step) => step.step === 'provider');
    log.info({ provider: record.provider, resumed }, 'revoked');
    return {
      keyId: record.keyId,
      provider: record.provider,
      ...(providerStep?.providerKeyId ? { providerKeyId: providerStep.providerKeyId } : {}),
      steps: plan.filter((step) => step.step !== 'event').map(pastTense),
      ...(commit ? { commit } : {}),
      eventSeq,
      revocationId: record.revocationId,
      resumed,
    };
  }

  async #revokeAtProvider(providerName: string, step: PlannedStep, plan: PlannedStep[]): Promise<void> {
    if (!step.providerKeyId) return;
    // Some providers revoke a token only with the token itself (Slack's auth.revoke): hand it over when stored.
    const secretStep = plan.find((candidate) => candidate.step === 'secret');
    const stored =
      step.store && step.path && !secretStep?.done
        ? await this.#deps
            .stores(step.store)
            .get(step.path)
            .catch(() => null)
        : null;
    const secret: SecretValue[] = stored ? [stored.value] : [];
    await this.#deps.providers(providerName).revoke(refOf(step), ...secret);
  }

  /** The event and the journal's `done` in one transaction: a crash between them cannot log the revoke twice. */
  async #logEvent(
    record: RevocationRecord,
    plan: PlannedStep[],
    resumed: boolean,
    commit: string | undefined,
  ): Promise<number> {
    const providerStep = plan.find((step) => step.step === 'provider');
    const eventStep = plan.find((step) => step.step === 'event');
    const seq = await this.#deps.journal.transaction(async (trx) => {
      const [event] = await this.#deps.events.appendWithin(trx, [
        {
          type: 'revoked',
          actor: record.actor,
          keyId: record.keyId,
          data: {
            provider: record.provider,
            revocation_id: record.revocationId,
            ...(providerStep?.providerKeyId ? { provider_key_id: providerStep.providerKeyId } : {}),
            ...(record.reason ? { reason: record.reason } : {}),
            ...(commit ? { commit } : {}),
            ...(resumed ? { resumed: true } : {}),
            steps: plan.filter((step) => step.step !== 'event').map(pastTense),
          },
        },
      ]);
      // A copy: if the transaction rolls back, the plan in memory must still say the event is not logged.
      const finished = plan.map((step) => (step.step === 'event' ? { ...step, done: true } : step));
      await this.#deps.journal.save({ ...record, plan: finished }, { failure: null, state: 'done' }, trx);
      return event!.seq;
    });
    if (eventStep) eventStep.done = true;
    record.state = 'done';
    return seq;
  }
}

function planSteps(request: RevokeKeyRequest, entry: KeyEntry, providerName: string): PlannedStep[] {
  const storageRef = entryStorageRef(entry);
  const account = entry.scope?.account_id;
  const steps: PlannedStep[] = [];
  steps.push(
    entry.provider_key_id
      ? {
          step: 'provider',
          description: `revoke ${providerName} key ${entry.provider_key_id}`,
          done: false,
          providerKeyId: entry.provider_key_id,
          ...(account ? { account } : {}),
          ...(storageRef ? { store: storageRef.store, path: storageRef.path } : {}),
        }
      : {
          step: 'provider',
          description: `no provider_key_id recorded: nothing to revoke at ${providerName}`,
          done: true,
        },
  );
  if (storageRef && !request.keepSecret) {
    steps.push({
      step: 'secret',
      description: `delete the secret at ${storageRef.store}:${storageRef.path}`,
      done: false,
      store: storageRef.store,
      path: storageRef.path,
    });
  }
  if (entry.status !== 'revoked') {
    steps.push({ step: 'registry', description: `mark ${request.keyId} revoked in the registry`, done: false });
  }
  steps.push({ step: 'event', description: 'log the revoked event', done: false });
  return steps;
}

/** `revoke internal key ik_1` -> `revoked internal key ik_1`: the words of the steps list and the event. */
function pastTense(step: RevocationStep): string {
  if (step.step === 'provider' && step.description.startsWith('no provider_key_id')) return step.description;
  const words: Record<RevocationStep['step'], [string, string]> = {
    provider: ['revoke ', 'revoked '],
    secret: ['delete ', 'deleted '],
    registry: ['mark ', 'marked '],
    event: ['log ', 'logged '],
  };
  const [present, past] = words[step.step];
  return step.description.startsWith(present) ? past + step.description.slice(present.length) : step.description;
}

function refOf(step: PlannedStep): ProviderKeyRef {
  return { providerKeyId: step.providerKeyId!, ...(step.account ? { account: step.account } : {}) };
}

/**
 * One cheap read that proves the credentials work: the key's last use, else the first page of the account's
 * keys. A key the provider no longer knows is fine (revoking it again is not an error); an adapter without
 * either read is taken on trust.
 */
async function checkProviderAnswers(provider: Provider, ref: ProviderKeyRef): Promise<void> {
  const capabilities = provider.capabilities();
  try {
    if (capabilities.lastUsed) {
      await provider.lastUsed(ref);
    } else if (capabilities.list) {
      for await (const _key of provider.list(ref.account ? { account: ref.account } : {})) break;
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'E_PROVIDER_NOT_FOUND' || code === 'E_PROVIDER_UNSUPPORTED') return;
    throw error;
  }
}

function reachError(what: string, error: unknown): unknown {
  if (error instanceof KeyledgerError) return error;
  return new KeyledgerError('E_REVOKE_PREFLIGHT', `cannot reach ${what}: ${(error as Error)?.message ?? error}`, {
    category: 'external',
    cause: error,
  });
}

/** A preflight failure keeps its code and says that nothing was done, and what the revoke would have done. */
function nothingDone(keyId: string, steps: PlannedStep[], error: unknown): KeyledgerError {
  const cause =
    error instanceof KeyledgerError
      ? error
      : new KeyledgerError('E_REVOKE_PREFLIGHT', (error as Error)?.message ?? String(error), { cause: error });
  const notDone = steps.filter((step) => !step.done).map((step) => step.description);
  return new KeyledgerError(
    cause.code,
    `cannot revoke ${keyId}: ${cause.message}. Nothing was done: the key is unchanged at its provider, in its store and in the registry.`,
    {
      category: cause.category,
      ...(cause.position ? { position: cause.position } : {}),
      details: { ...(cause.details ?? {}), keyId, done: [], notDone },
      cause: error,
    },
  );
}
