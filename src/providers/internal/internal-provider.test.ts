import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { expect, it } from 'vitest';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { isValidInternalKey } from '../../runtime/base62-crc32.js';
import { fixedClock } from '../../runtime/clock.js';
import { SecretValue } from '../../secrets/secret-value.js';
import type { ProviderKey } from '../provider.js';
import { deriveVerificationKey, InternalProvider } from './internal-provider.js';

const verificationKey = deriveVerificationKey(randomBytes(32));

async function collect(iterable: AsyncIterable<ProviderKey>): Promise<ProviderKey[]> {
  const keys: ProviderKey[] = [];
  for await (const key of iterable) keys.push(key);
  return keys;
}

forEachBackend((backend) => {
  async function provider(options: { prefix?: string } = {}) {
    const store = await backend.open();
    const clock = fixedClock('2026-11-23T12:00:00Z');
    return {
      store,
      clock,
      provider: new InternalProvider({ db: store.db, verificationKey, clock, options, listPageSize: 10 }),
    };
  }

  it('mints keys in the checksummed format, stores only a keyed hash, and lists them', async () => {
    const { store, provider: internal } = await provider({ prefix: 'acme' });
    const created = await internal.create({ name: 'billing-api', account: 'billing', permissions: ['invoices:read'] });
    const secret = created.secret.reveal();
    expect(secret).toMatch(/^acme_live_[0-9A-Za-z]{36}$/);
    expect(isValidInternalKey(secret)).toBe(true);
    expect(inspect(created)).not.toContain(secret);
    expect(JSON.stringify(created)).not.toContain(secret);
    const rows = await store.db.selectFrom('internal_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(secret);
    const listed = await collect(internal.list({ account: 'billing' }));
    expect(listed).toMatchObject([
      { providerKeyId: created.providerKeyId, name: 'billing-api', status: 'active', permissions: ['invoices:read'] },
    ]);
    expect(await collect(internal.list({ account: 'other' }))).toEqual([]);
  });

  it('verifies a working key, records last use, and refuses look-alikes and unknown keys', async () => {
    const { clock, provider: internal } = await provider();
    const created = await internal.create({ name: 'svc' });
    expect(await internal.lastUsed(created)).toEqual({ at: null });
    clock.advance(60_000);
    expect(await internal.verify(created.secret)).toMatchObject({ valid: true, providerKeyId: created.providerKeyId });
    expect((await internal.lastUsed(created)).at?.toISOString()).toBe('2026-11-23T12:01:00.000Z');
    const secret = created.secret.reveal();
    const tampered = `${secret.slice(0, 12)}${secret[12] === 'a' ? 'b' : 'a'}${secret.slice(13)}`;
    expect(await internal.verify(new SecretValue(tampered))).toMatchObject({ valid: false, reason: /checksum/ });
    const other = await (await provider()).provider.create({ name: 'elsewhere' });
    expect(await internal.verify(other.secret)).toMatchObject({ valid: false, reason: 'unknown key' });
  });

  it("writes a key's last use at most once a minute, the later uses when the minute is over or at flush", async () => {
    const { store, clock, provider: internal } = await provider();
    const created = await internal.create({ name: 'api-token' });
    const stored = async () =>
      (
        await store.db
          .selectFrom('internal_keys')
          .select('last_used_at')
          .where('id', '=', created.providerKeyId)
          .executeTakeFirstOrThrow()
      ).last_used_at;
    const writes: string[] = [];
    const counting = new InternalProvider({
      db: store.db.withPlugin({
        transformQuery: (args) => {
          if (args.node.kind === 'UpdateQueryNode') writes.push('update');
          return args.node;
        },
        transformResult: async (args) => args.result,
      }),
      verificationKey,
      clock,
    });
    // The first use writes at once; 100 uses within the minute write nothing more, yet lastUsed tells the latest.
    expect((await counting.verify(created.secret)).valid).toBe(true);
    expect(await stored()).toBe('2026-11-23T12:00:00.000Z');
    for (let i = 0; i < 100; i++) {
      clock.advance(500);
      expect((await counting.verify(created.secret)).valid).toBe(true);
    }
    expect(writes).toHaveLength(1);
    expect(await stored()).toBe('2026-11-23T12:00:00.000Z');
    expect((await counting.lastUsed(created)).at?.toISOString()).toBe('2026-11-23T12:00:50.000Z');
    // Past the minute, the next use writes again, at its own time.
    clock.advance(15_000);
    await counting.verify(created.secret);
    expect(writes).toHaveLength(2);
    expect(await stored()).toBe('2026-11-23T12:01:05.000Z');
    // A use waiting in memory is written at flush (the app's close); never backwards over a later time another process wrote.
    clock.advance(1_000);
    await counting.verify(created.secret);
    expect(await stored()).toBe('2026-11-23T12:01:05.000Z');
    await counting.flush();
    expect(await stored()).toBe('2026-11-23T12:01:06.000Z');
    await store.db
      .updateTable('internal_keys')
      .set({ last_used_at: '2026-11-23T13:00:00.000Z' })
      .where('id', '=', created.providerKeyId)
      .execute();
    clock.advance(1_000);
    await counting.verify(created.secret);
    await counting.flush();
    expect(await stored()).toBe('2026-11-23T13:00:00.000Z');
    // Without coalescing (interval 0) every use writes, as before.
    const everyUse = new InternalProvider({ db: store.db, verificationKey, clock, lastUsedWriteIntervalMs: 0 });
    clock.advance(3_600_000);
    await everyUse.verify(created.secret);
    expect(await stored()).toBe('2026-11-23T13:01:07.000Z');
  });

  it('revokes (idempotently), after which the key no longer verifies', async () => {
    const { provider: internal } = await provider();
    const created = await internal.create({ name: 'svc' });
    await internal.revoke(created);
    await internal.revoke(created);
    expect(await internal.verify(created.secret)).toMatchObject({ valid: false, reason: 'revoked' });
    expect((await collect(internal.list()))[0]?.status).toBe('revoked');
  });

  it('refuses an expired key', async () => {
    const { clock, provider: internal } = await provider();
    const created = await internal.create({ name: 'svc', expiresAt: new Date('2026-12-01T00:00:00Z') });
    clock.set('2026-12-02T00:00:00Z');
    expect(await internal.verify(created.secret)).toMatchObject({ valid: false, reason: 'expired' });
  });

  it('raises a typed not-found error for an unknown key id', async () => {
    const { provider: internal } = await provider();
    await expect(internal.revoke({ providerKeyId: 'ik_nope' })).rejects.toMatchObject({ code: 'E_PROVIDER_NOT_FOUND' });
    await expect(internal.lastUsed({ providerKeyId: 'ik_nope' })).rejects.toMatchObject({
      code: 'E_PROVIDER_NOT_FOUND',
    });
  });

  it('lists past one page', async () => {
    const { provider: internal } = await provider();
    for (let i = 0; i < 25; i++) await internal.create({ name: `k${i}`, account: 'bulk' });
    expect(await collect(internal.list({ account: 'bulk' }))).toHaveLength(25);
  });
});
