// Programmatic issuance (src/lifecycle/README.md): mint a key at its provider, store it, register it in git and log
// the event — as one unit. Any failure after minting undoes what was done, newest first: the registry entry, the
// stored secret, the minted key. An idempotency key makes a retried command return the first result, or undo a
// crashed run before starting again, so a retry never mints twice.
import { randomBytes } from 'node:crypto';
import type { PeopleDirectory, PeopleSource } from '../directory/people-directory.js';
import { KeyledgerError } from '../errors/keyledger-error.js';
import type { EventLog } from '../events/event-log.js';
import type { Provider } from '../providers/provider.js';
import type { KeyEntryInput } from '../registry/key-entry-schema.js';
import type { PolicyConfig } from '../registry/registry-config.js';
import { addDays, formatDate, formatInstant } from '../registry/registry-dates.js';
import { type RegistryWriter, teamEntryFile } from '../registry/registry-writer.js';
import type { Clock } from '../runtime/clock.js';
import { type FingerprintKey, fingerprintSecret } from '../secrets/secret-fingerprint.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { SecretValue } from '../secrets/secret-value.js';
import { type Logger, silentLogger } from '../telemetry/logger.js';
import { IdempotencyRecords } from './idempotency-records.js';
import { assertIssueDraft, type IssueProgress, mintAndStore, rollBackIssuance } from './issuance-steps.js';
import { IssuanceFailedError, type RollbackStep } from './lifecycle-error.js';
import { KeyPreflight } from './preflight/key-preflight.js';

export interface IssueKeyRequest {
  provider: string;
  team: string;
  owner: string;
  purpose: string;
  permissions: string[];
  /** The provider account the key hangs off (AWS user, OpenAI project...). */
  account?: string;
  /** Days until expiry; defaults to the policy's maximum lifetime for the provider. */
  expiresInDays?: number;
  /** Where the secret goes: a configured store name and a path. Default: the `default` store, `<team>/<key_id>`. */
  store?: { name: string; path: string };
  keyId?: string;
  rotationFrequencyDays?: number;
  consumers?: KeyEntryInput['consumed_by'];
  tags?: string[];
  justification?: string;
  /** Provider-specific options passed to `create` (and kept in the entry's scope). */
  providerOptions?: Record<string, unknown>;
  idempotencyKey?: string;
  actor: string;
}

export interface IssuedKey {
  keyId: string;
  provider: string;
  providerKeyId: string;
  store: string;
  path: string;
  file: string;
  commit: string;
  fingerprint: string;
  expiresAt: string;
  eventSeq: number;
  /** True when this result is the first run's, returned again for a retried idempotency key. */
  replayed: boolean;
}

export interface KeyIssuerDependencies {
  providers: (name: string) => Provider;
  stores: (name: string) => SecretStore;
  writer: RegistryWriter;
  events: EventLog;
  idempotency: IdempotencyRecords;
  fingerprintKey: FingerprintKey;
  policy: PolicyConfig;
  /** Read at each issuance, so an owner who left since the process started is refused now. */
  people?: PeopleSource;
  clock: Clock;
  logger?: Logger;
  /** The checks before minting (src/lifecycle/preflight/); default one over `providers` and `stores`. */
  preflight?: KeyPreflight;
}

export class KeyIssuer {
  readonly #deps: KeyIssuerDependencies;
  readonly #log: Logger;
  readonly #preflight: KeyPreflight;

  constructor(dependencies: KeyIssuerDependencies) {
    this.#deps = dependencies;
    this.#log = (dependencies.logger ?? silentLogger).child({ service: 'issue' });
    this.#preflight =
      dependencies.preflight ??
      new KeyPreflight({ providers: dependencies.providers, stores: dependencies.stores, clock: dependencies.clock });
  }

  /** The entry `issue` would write, checked against the schema and the policy before anything is minted. */
  draftEntry(
    request: IssueKeyRequest,
    keyId: string,
    now: Date,
  ): { entry: KeyEntryInput; store: { name: string; path: string }; expiresAt: Date } {
    const policy = this.#deps.policy;
    const maxDays = policy.max_lifetime_days_by_provider[request.provider] ?? policy.max_lifetime_days;
    const days = request.expiresInDays ?? maxDays;
    const expiresAt = addDays(now, days);
    const store = request.store ?? { name: 'default', path: `${request.team}/${keyId}` };
    const entry: KeyEntryInput = {
      key_id: keyId,
      purpose: request.purpose,
      owner_team: request.team,
      owner_individual: request.owner,
      created_at: formatInstant(now),
      expiration: formatInstant(expiresAt),
      last_rotated: formatInstant(now),
      status: 'active',
      scope: {
        provider: request.provider,
        ...(request.account ? { account_id: request.account } : {}),
        permissions: request.permissions,
        ...(request.providerOptions ?? {}),
      },
      storage: store.name === 'vault' ? { vault_path: store.path } : { store: store.name, path: store.path },
      ...(request.consumers ? { consumed_by: request.consumers } : {}),
      audit: {
        rotation_owner: request.team,
        rotation_frequency_days: request.rotationFrequencyDays ?? Math.min(90, days),
        last_audit: formatDate(now),
      },
      ...(request.tags ? { tags: request.tags } : {}),
      ...(request.justification ? { justification: request.justification } : {}),
    };
    return { entry, store, expiresAt };
  }

  async issue(request: IssueKeyRequest): Promise<IssuedKey> {
    const { idempotency } = this.#deps;
    const key = request.idempotencyKey;
    if (key) {
      const { actor: _actor, ...material } = request;
      const claim = await idempotency.claim<IssueProgress, IssuedKey>(
        key,
        'issue',
        IdempotencyRecords.hashRequest(material),
      );
      if (claim.kind === 'completed') return { ...claim.result, replayed: true };
      if (claim.kind === 'abandoned' && claim.progress) {
        // A previous run crashed half-way: undo what it recorded, then issue afresh under the same key.
        const steps = await this.#rollback(
          claim.progress,
          request.actor,
          'an earlier run with the same idempotency key stopped half-way',
        );
        const stuck = steps.filter((step) => !step.ok);
        if (stuck.length)
          throw new IssuanceFailedError('recovering an earlier run', new Error('its rollback is incomplete'), steps);
      }
    }
    try {
      const result = await this.#issueOnce(request);
      if (key) await idempotency.complete(key, result);
      return result;
    } catch (error) {
      if (key)
        await idempotency.fail(key, error instanceof Error ? error.message : String(error)).catch(() => undefined);
      throw error;
    }
  }

  async #issueOnce(request: IssueKeyRequest): Promise<IssuedKey> {
    const now = this.#deps.clock();
    const keyId = request.keyId ?? generateKeyId(request);
    const people = await this.#deps.people?.();
    const { entry, store, expiresAt } = this.#draftChecked(request, keyId, now, people);
    if (await this.#deps.writer.fileOf(keyId)) {
      throw new KeyledgerError('E_REGISTRY_DUPLICATE', `key_id "${keyId}" already exists in the registry`, {
        category: 'conflict',
      });
    }
    // Before minting: the store is there and writable, the provider answers, the account has room. (A new key has no
    // consumer using it yet, so consumers are not asked.)
    await this.#preflight.check(
      {
        keyId,
        provider: request.provider,
        ...(request.account ? { account: request.account } : {}),
        store: store.name,
        path: store.path,
        consumers: [],
      },
      'issue',
    );
    const provider = this.#deps.providers(request.provider);
    const secretStore = this.#deps.stores(store.name);
    if (await secretStore.exists(store.path)) {
      throw new KeyledgerError(
        'E_SECRET_PATH_TAKEN',
        `store "${store.name}" already holds a secret at "${store.path}"; choose another path`,
        {
          category: 'conflict',
        },
      );
    }

    const progress: IssueProgress = { keyId, provider: request.provider };
    const record = async () => {
      if (request.idempotencyKey) await this.#deps.idempotency.progress(request.idempotencyKey, progress);
    };
    let step = 'mint';
    const log = this.#log.child({ keyId, provider: request.provider });
    log.debug({ store: store.name, path: store.path, expiresAt: formatInstant(expiresAt) }, 'issuing');
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
          log.debug({ providerKeyId: progress.providerKeyId }, 'minted');
          step = next;
        },
      });
      log.debug({ store: store.name, path: store.path }, 'stored');
      step = 'register';
      await record();
      const fingerprint = fingerprintSecret(created.secret as SecretValue, this.#deps.fingerprintKey);
      const written = await this.#deps.writer.create(
        { ...entry, provider_key_id: created.providerKeyId, fingerprint },
        { file: teamEntryFile(request.team, keyId), message: `Issued by ${request.actor} for: ${request.purpose}` },
      );
      progress.registered = true;
      log.debug({ file: written.file, commit: written.commit, fingerprint }, 'registered');
      step = 'record-event';
      await record();
      const event = await this.#deps.events.append({
        type: 'issued',
        actor: request.actor,
        keyId,
        data: {
          provider: request.provider,
          provider_key_id: created.providerKeyId,
          store: store.name,
          path: store.path,
          commit: written.commit,
          owner_team: request.team,
          owner_individual: request.owner,
          expires_at: formatInstant(expiresAt),
        },
      });
      log.info({ providerKeyId: created.providerKeyId, eventSeq: event.seq }, 'issued');
      return {
        keyId,
        provider: request.provider,
        providerKeyId: created.providerKeyId,
        store: store.name,
        path: store.path,
        file: written.file,
        commit: written.commit,
        fingerprint,
        expiresAt: formatInstant(expiresAt),
        eventSeq: event.seq,
        replayed: false,
      };
    } catch (error) {
      if (!progress.providerKeyId) throw error;
      log.warn(
        { step, error: error instanceof Error ? error.message : String(error) },
        'issuance failed; rolling back',
      );
      const steps = await this.#rollback(progress, request.actor, `issuance failed at ${step}`);
      log.warn({ steps }, 'rolled back');
      throw new IssuanceFailedError(step, error, steps);
    }
  }

  #draftChecked(request: IssueKeyRequest, keyId: string, now: Date, people: PeopleDirectory | undefined) {
    const draft = this.draftEntry(request, keyId, now);
    assertIssueDraft(draft.entry, { policy: this.#deps.policy, now, ...(people ? { people } : {}) });
    return draft;
  }

  /** Undoes a run's recorded steps, newest first (issuance-steps.ts, shared with bulk issuance). */
  #rollback(progress: IssueProgress, actor: string, reason: string): Promise<RollbackStep[]> {
    return rollBackIssuance(this.#deps, progress, actor, reason);
  }
}

/** `<team>-<provider>-<purpose words>-<4 hex>`: readable, unique, and within the usual key_id patterns. */
export function generateKeyId(request: Pick<IssueKeyRequest, 'team' | 'provider' | 'purpose'>): string {
  const slug = (text: string) =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '');
  const words = slug(request.purpose).split('-').filter(Boolean).slice(0, 3).join('-');
  return [slug(request.team), slug(request.provider), words, randomBytes(2).toString('hex')].filter(Boolean).join('-');
}
