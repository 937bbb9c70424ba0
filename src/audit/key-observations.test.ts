// Recording what a discovery source saw, on both engines: values matched by fingerprint (never stored), store
// paths matched to entries' storage, a later complete run marking what went away, a failed run marking nothing,
// another scope untouched; the stored rows and the results scanned for the planted secrets.
import { describe, expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import type { DiscoverySource, SecretObservation } from '../discovery-sources/discovery-source.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { fixedClock } from '../runtime/clock.js';
import { fingerprintSecret } from '../secrets/secret-fingerprint.js';
import { keyObservations, observationScope, observeSource } from './key-observations.js';

const FINGERPRINT_KEY = { version: 'v1', key: Buffer.alloc(32, 7) };
const STRIPE = 'sk_live_CANARYobservations00000000';
const OPENAI = 'sk-proj-CANARYobservations1111111';

const ENTRIES = [
  { key_id: 'payments-stripe', fingerprint: fingerprintSecret(STRIPE, FINGERPRINT_KEY), status: 'active' },
  { key_id: 'ml-openai', fingerprint: fingerprintSecret(OPENAI, FINGERPRINT_KEY), status: 'active' },
  { key_id: 'chat-slack', storage: { vault_path: 'chat/slack-bot' }, status: 'active' },
] as unknown as KeyEntry[];

/** A source that reads the values it is given, as the export and Kubernetes sources do; fails when told to. */
function fakeSource(
  items: Array<{ location: string; name: string; value?: string; storePath?: string }>,
  failAfter?: number,
): DiscoverySource {
  return {
    name: 'fake',
    description: 'test',
    options: { file: { description: 'x' } },
    async *observe(context) {
      let n = 0;
      for (const item of items) {
        if (failAfter !== undefined && n >= failAfter) throw new Error('listing interrupted');
        n += 1;
        const keyId = item.value ? context.matchSecret(item.value) : undefined;
        const observation: SecretObservation = {
          location: item.location,
          name: item.name,
          ...(keyId ? { keyId } : {}),
          ...(item.storePath ? { storePath: item.storePath } : {}),
        };
        yield observation;
      }
    },
  };
}

forEachBackend((backend) => {
  describe(`observeSource (${backend.dialect})`, () => {
    it('records observations matched by fingerprint and store path, then marks what a later run no longer shows', async () => {
      const store = await backend.open();
      const clock = fixedClock('2026-12-01T00:00:00Z');
      const run = (items: Parameters<typeof fakeSource>[0], options: Record<string, string>, failAfter?: number) =>
        observeSource({
          source: fakeSource(items, failAfter),
          options,
          env: {},
          entries: ENTRIES,
          fingerprintKey: FINGERPRINT_KEY,
          db: store.db,
          clock,
        });
      const items = [
        { location: 'vault/Payments', name: 'password', value: STRIPE },
        { location: 'vault/ML', name: 'field:key', value: OPENAI },
        { location: 'vault/ML', name: 'notes', value: 'not a key' },
        { location: 'externalsecret chat/slack-bot', name: 'token', storePath: '/chat/slack-bot/' },
      ];
      const first = await run(items, { file: 'a.1pux' });
      expect(first).toMatchObject({ observed: 4, matched: 3, new: 4, gone: 0 });
      expect(first.error).toBeUndefined();
      await run([{ location: 'elsewhere', name: 'x', value: STRIPE }], { file: 'b.1pux' });

      clock.set('2026-12-02T00:00:00Z');
      const failed = await run(items.slice(1), { file: 'a.1pux' }, 1);
      expect(failed.error).toEqual({ code: 'E_DISCOVERY_SOURCE', message: 'listing interrupted' });
      expect(failed.gone).toBe(0);

      const second = await run(items.slice(1), { file: 'a.1pux' });
      expect(second).toMatchObject({ observed: 3, new: 0, gone: 1 });
      const rows = await keyObservations(store.db, 'fake');
      expect(rows.map((r) => `${r.scope}|${r.location}|${r.name}|${r.key_id ?? '-'}`)).toEqual([
        'file=b.1pux|elsewhere|x|payments-stripe',
        'file=a.1pux|externalsecret chat/slack-bot|token|chat-slack',
        'file=a.1pux|vault/ML|field:key|ml-openai',
        'file=a.1pux|vault/ML|notes|-',
      ]);
      expect(rows[1]).toMatchObject({
        first_seen_at: '2026-12-01T00:00:00.000Z',
        last_seen_at: '2026-12-02T00:00:00.000Z',
      });
      const all = await store.db.selectFrom('key_observations').selectAll().execute();
      expect(all.find((r) => r.location === 'vault/Payments')?.gone_at).toBe('2026-12-02T00:00:00.000Z');
      const text = JSON.stringify([all, first, second, failed]);
      for (const secret of [STRIPE, OPENAI]) expect(text).not.toContain(secret);
    });
  });
});

describe('observationScope', () => {
  it('is the options in name order, without where the token came from', () => {
    expect(observationScope({ url: 'https://k8s', namespace: 'a', 'token-env': 'T' })).toBe(
      'namespace=a url=https://k8s',
    );
  });
});
