// The sandbox consumer behaves like a service with one loader per secret: a periodic reload and a rotation probe's
// reload that overlap must not put a key it already left back in front (consumer-sandbox.ts, #refresh).
import { afterEach, expect, it } from 'vitest';
import type { Provider, VerifyResult } from '../../providers/provider.js';
import type { SecretStage, SecretStore, StoredSecret } from '../../secrets/secret-store.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { ConsumerSandbox } from './consumer-sandbox.js';

/** A one-path store whose next read of `current` can be held until released (a slow database under load). */
class HeldStore {
  readonly versions: Partial<Record<SecretStage, StoredSecret>> = {};
  #hold: { armed: boolean; reached?: () => void; release?: Promise<void> } = { armed: false };

  /** The next `get(path, 'current')` waits for `release`; resolves once that read has started. */
  holdNextCurrentRead(release: Promise<void>): Promise<void> {
    return new Promise((reached) => {
      this.#hold = { armed: true, reached, release };
    });
  }

  asStore(): SecretStore {
    return {
      kind: 'held',
      get: async (_path: string, stage: SecretStage = 'current') => {
        if (stage === 'current' && this.#hold.armed) {
          const { reached, release } = this.#hold;
          this.#hold = { armed: false };
          const answer = this.versions.current ?? null;
          reached?.();
          await release;
          return answer;
        }
        return this.versions[stage] ?? null;
      },
    } as unknown as SecretStore;
  }
}

function version(id: string, secret: string): StoredSecret {
  return {
    versionId: id,
    stages: [],
    createdAt: new Date(),
    metadata: { provider_key_id: `pk-${id}` },
    value: new SecretValue(secret),
  };
}

let consumer: ConsumerSandbox | undefined;
afterEach(async () => {
  await consumer?.stop();
  consumer = undefined;
});

it('a periodic reload that read the old key before a rotation staged the new one does not put it back in front', async () => {
  const store = new HeldStore();
  store.versions.current = version('1', 'canary-old-key-material');
  const revoked = new Set<string>();
  const provider = {
    name: 'fake',
    verify: async (secret: SecretValue): Promise<VerifyResult> =>
      revoked.has(secret.reveal()) ? { valid: false, reason: '401' } : { valid: true },
  } as unknown as Provider;
  consumer = new ConsumerSandbox({
    keys: [{ keyId: 'k', store: store.asStore(), path: 'k', provider }],
    refreshMs: 100,
    callMs: 60_000,
    reloadOnProbe: true,
  });
  await consumer.start();

  // The periodic reload reads "no pending", then its read of `current` is slow: it has the old key in hand.
  let release!: () => void;
  await store.holdNextCurrentRead(new Promise<void>((resolve) => (release = resolve)));
  // Meanwhile a rotation stages the new key and asks the consumer which version it uses.
  store.versions.pending = version('2', 'canary-new-key-material');
  const probe = fetch(`${consumer.url}/keys/k/version`).then((res) => res.json() as Promise<{ version_id: string }>);
  // A consumer that reloads out of order answers at once; one that waits for the reload in flight answers after it.
  await Promise.race([probe, new Promise((resolve) => setTimeout(resolve, 1_500))]);
  release();
  expect((await probe).version_id).toBe('2');
  await new Promise((resolve) => setImmediate(resolve));

  // The rotation, confirmed on version 2, promotes it and revokes the old key: the consumer's next call works with
  // the key it reported, without falling back.
  store.versions.current = store.versions.pending;
  delete store.versions.pending;
  revoked.add('canary-old-key-material');
  await consumer.callAll();
  expect(consumer.stats()).toMatchObject({ calls: 1, fallbacks: 0, failures: 0 });
});
