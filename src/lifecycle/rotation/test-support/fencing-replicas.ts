// Two "replicas" over one rotation world for the fencing tests (rotation-fencing.test.ts): each a KeyRotator (and a
// KeyRevoker) with a lease owner naming another host — so the same-host dead-process check never helps — over a
// provider and store that count every mint, revoke and promote per replica and per key, and that can hold a replica
// still at a chosen point (a GC stall, SIGSTOP, a partition) until the test lets it go.
import type { Provider, ProviderKeyRef } from '../../../providers/provider.js';
import type { SecretStore } from '../../../secrets/secret-store.js';
import { KeyRevoker } from '../../key-revocation.js';
import { RevocationJournal } from '../../revocation-journal.js';
import type { KeyRotator, KeyRotatorDependencies } from '../key-rotator.js';
import type { RotationJournal } from '../rotation-journal.js';
import type { RotationWorld } from './rotation-fixture.js';

export interface EffectTally {
  /** `<replica> <what> <key id or provider key id>` per effect, in order. */
  log: string[];
  count(replica: string | undefined, what: 'mint' | 'revoke' | 'promote', subject?: string): number;
}

/** A point where a replica waits until released: `arm()` it, await `reached`, then `release()`. */
export class Gate {
  #armed = false;
  #reached!: () => void;
  #release!: () => void;
  reached: Promise<void> = new Promise((resolve) => {
    this.#reached = resolve;
  });
  readonly #released = new Promise<void>((resolve) => {
    this.#release = resolve;
  });

  arm(): void {
    this.#armed = true;
  }

  release(): void {
    this.#armed = false;
    this.#release();
  }

  async pass(): Promise<void> {
    if (!this.#armed) return;
    this.#reached();
    await this.#released;
  }
}

export function newTally(): EffectTally {
  const log: string[] = [];
  return {
    log,
    count: (replica, what, subject) =>
      log.filter((line) => {
        const [who, kind, about] = line.split(' ');
        return (
          (replica === undefined || who === replica) && kind === what && (subject === undefined || about === subject)
        );
      }).length,
  };
}

/** The world's provider, counting mints (by key id, read off the rotation's key name) and revokes (by key id). */
export function countingProvider(inner: Provider, tally: EffectTally, replica: string, gate?: Gate): Provider {
  return {
    name: inner.name,
    capabilities: () => inner.capabilities(),
    rateLimit: () => inner.rateLimit(),
    create: async (request) => {
      const created = await inner.create(request);
      tally.log.push(`${replica} mint ${request.name.replace(/\.rot-[0-9a-f]+$/, '')}`);
      return created;
    },
    list: (options) => inner.list(options),
    verify: (secret, ref) => inner.verify(secret, ref),
    revoke: async (ref: ProviderKeyRef, secret) => {
      await gate?.pass();
      await inner.revoke(ref, secret);
      tally.log.push(`${replica} revoke ${ref.providerKeyId}`);
    },
    lastUsed: (ref) => inner.lastUsed(ref),
    ...(inner.kindOf ? { kindOf: (account: string | undefined) => inner.kindOf!(account) } : {}),
  };
}

/**
 * The world's store, counting promotes; `afterVersions` holds the replica still right after it lists a path's
 * versions — in a promote, after it saw its pending version and before it proves its lease and promotes.
 */
export function countingStore(
  inner: SecretStore,
  tally: EffectTally,
  replica: string,
  afterVersions?: Gate,
): SecretStore {
  return {
    kind: inner.kind,
    put: (path, value, options) => inner.put(path, value, options),
    get: (path, stage) => inner.get(path, stage),
    discardPending: (path) => inner.discardPending(path),
    delete: (path) => inner.delete(path),
    exists: (path) => inner.exists(path),
    checkWritable: (path) => inner.checkWritable(path),
    versions: async (path) => {
      const versions = await inner.versions(path);
      await afterVersions?.pass();
      return versions;
    },
    promote: async (path) => {
      tally.log.push(`${replica} promote ${path}`);
      return inner.promote(path);
    },
  };
}

export interface Replica {
  name: string;
  rotator: KeyRotator;
  revoker: KeyRevoker;
}

/** A replica over `world`: its own lease owner (another host), optionally its own journal (its own database pool). */
export function replicaOf(
  world: RotationWorld,
  name: string,
  tally: EffectTally,
  options: {
    journal?: RotationJournal;
    revocations?: RevocationJournal;
    promoteGate?: Gate;
    revokeGate?: Gate;
    rotator?: Partial<KeyRotatorDependencies>;
  } = {},
): Replica {
  const provider = countingProvider(world.provider, tally, name, options.revokeGate);
  const store = countingStore(world.store, tally, name, options.promoteGate);
  const leaseOwner = `${name}.example.internal:4242:-:${name}`;
  const providers = (providerName: string) => (providerName === 'internal' ? provider : world.providers(providerName));
  return {
    name,
    rotator: world.rotator({
      providers,
      stores: () => store,
      leaseOwner,
      ...(options.journal ? { journal: options.journal } : {}),
      ...options.rotator,
    }),
    revoker: new KeyRevoker({
      providers,
      stores: () => store,
      writer: world.writer,
      events: world.events,
      journal: options.revocations ?? new RevocationJournal(world.operational.db, world.clock),
      leaseOwner,
    }),
  };
}
