// The event log on both engines: what append stores and hashes, the list filters, the secret guard, and appends
// from several connections and processes at once leaving one unbroken chain.
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openOperationalStore } from '../db/operational-store.js';
import { runTypeScriptChild } from '../db/test-support/child-process-runner.js';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { writeTransaction } from '../db/write-transaction.js';
import { fixedClock } from '../runtime/clock.js';
import { SecretValue } from '../secrets/secret-value.js';
import { GENESIS_HASH, hashEvent } from './event-hash.js';
import { EventLog } from './event-log.js';

const start = '2026-04-01T10:00:00.000Z';

forEachBackend((backend) => {
  it('appends events chained from the genesis hash, with seq counting from 1', async () => {
    const store = await backend.open();
    const log = new EventLog(store.db, fixedClock(start));
    const first = await log.append({
      type: 'issued',
      actor: 'alice@example.com',
      keyId: 'payments-stripe-live-001',
      data: { provider: 'stripe' },
    });
    const second = await log.append({ type: 'stored', actor: 'system:issuer' });
    expect(first).toMatchObject({
      seq: 1,
      at: start,
      type: 'issued',
      keyId: 'payments-stripe-live-001',
      prevHash: GENESIS_HASH,
    });
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash, keyId: null, data: {} });
    const { prevHash, keyId, hash, ...rest } = first;
    expect(hash).toBe(hashEvent({ ...rest, key_id: keyId, prev_hash: prevHash }));
    const stored = await store.db.selectFrom('events').selectAll().where('seq', '=', 1).executeTakeFirstOrThrow();
    expect(stored.data).toBe('{"provider":"stripe"}');
    expect(await log.list()).toEqual([first, second]);
    expect(await log.head()).toEqual({ seq: 2, hash: second.hash });
    expect(await log.verify()).toEqual({
      ok: true,
      checked: 2,
      head: { seq: 2, hash: second.hash },
      firstBad: null,
      keyedFrom: null,
      anchorsChecked: 0,
    });
  });

  it('stores data as it will read back: dates as text, undefined fields absent', async () => {
    const store = await backend.open();
    const log = new EventLog(store.db, fixedClock(start));
    const event = await log.append({
      type: 'rotated',
      actor: 'a',
      data: { due: new Date('2026-05-01T00:00:00Z'), note: undefined, nested: { b: 2, a: 1 } },
    });
    expect(event.data).toEqual({ due: '2026-05-01T00:00:00.000Z', nested: { a: 1, b: 2 } });
    expect((await log.list())[0]).toEqual(event);
    expect((await log.verify()).ok).toBe(true);
  });

  it('filters by type, key, actor and time, pages by seq and orders either way', async () => {
    const store = await backend.open();
    const clock = fixedClock(start);
    const log = new EventLog(store.db, clock);
    const plan = [
      { type: 'issued', actor: 'alice', keyId: 'k1' },
      { type: 'rotated', actor: 'bob', keyId: 'k1' },
      { type: 'issued', actor: 'bob', keyId: 'k2' },
      { type: 'finding', actor: 'scanner', keyId: null },
      { type: 'revoked', actor: 'alice', keyId: 'k2' },
    ];
    for (const input of plan) {
      await log.append(input);
      clock.advance(60_000);
    }
    const seqs = (events: { seq: number }[]) => events.map((event) => event.seq);
    expect(seqs(await log.list({ type: 'issued' }))).toEqual([1, 3]);
    expect(seqs(await log.list({ keyId: 'k2' }))).toEqual([3, 5]);
    expect(seqs(await log.list({ actor: 'alice' }))).toEqual([1, 5]);
    expect(seqs(await log.list({ since: '2026-04-01T10:01:00Z', until: new Date('2026-04-01T10:03:00Z') }))).toEqual([
      2, 3,
    ]);
    expect(seqs(await log.list({ since: '2026-04-01' }))).toEqual([1, 2, 3, 4, 5]);
    expect(seqs(await log.list({ type: 'issued', actor: 'bob' }))).toEqual([3]);
    expect(seqs(await log.list({ limit: 2, order: 'desc' }))).toEqual([5, 4]);
    expect(seqs(await log.list({ limit: 2, afterSeq: 2 }))).toEqual([3, 4]);
    expect(seqs(await log.list({ beforeSeq: 3, order: 'desc' }))).toEqual([2, 1]);
    await expect(log.list({ since: 'yesterday' })).rejects.toMatchObject({ code: 'E_EVENT_INPUT' });
    await expect(log.list({ limit: 0 })).rejects.toMatchObject({ code: 'E_EVENT_INPUT' });
  });

  it('refuses an event carrying a SecretValue and stores no trace of the secret', async () => {
    const store = await backend.open();
    const log = new EventLog(store.db);
    const secret = new SecretValue('sk_live_51Hx9notARealKeyButLongEnough');
    await expect(log.append({ type: 'issued', actor: 'a', data: { key: secret } })).rejects.toMatchObject({
      code: 'E_EVENT_SECRET',
      details: { path: 'data.key' },
    });
    await expect(
      log.append({ type: 'issued', actor: 'a', data: { nested: [{ token: `${secret}` }] } }),
    ).rejects.toMatchObject({
      code: 'E_EVENT_SECRET',
      details: { path: 'data.nested[0].token' },
    });
    await expect(log.append({ type: 'issued', actor: 'a', data: { dump: inspect({ secret }) } })).rejects.toMatchObject(
      {
        code: 'E_EVENT_SECRET',
      },
    );
    // A scanner's partial redaction is fine, and nothing anywhere in the table holds the secret.
    await log.append({ type: 'finding', actor: 'scanner', data: { match: 'sk_live_51…[REDACTED]' } });
    const rows = await store.db.selectFrom('events').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(secret.reveal());
  });

  it('refuses a malformed type, an empty actor and data that is not an object', async () => {
    const store = await backend.open();
    const log = new EventLog(store.db);
    await expect(log.append({ type: 'Key Issued', actor: 'a' })).rejects.toMatchObject({ code: 'E_EVENT_INPUT' });
    await expect(log.append({ type: 'issued', actor: ' ' })).rejects.toMatchObject({ code: 'E_EVENT_INPUT' });
    await expect(
      log.append({ type: 'issued', actor: 'a', data: [] as unknown as Record<string, unknown> }),
    ).rejects.toMatchObject({
      code: 'E_EVENT_INPUT',
    });
    await expect(log.append({ type: 'issued', actor: 'a', data: { n: Number.NaN } })).rejects.toMatchObject({
      code: 'E_EVENT_DATA',
    });
    expect(await log.append({ type: 'vault.lease_renewed', actor: 'a' })).toMatchObject({ seq: 1 });
  });

  it('appends a batch in one transaction, and appendWithin commits or rolls back with the caller', async () => {
    const store = await backend.open();
    const log = new EventLog(store.db);
    const batch = await log.appendMany(
      Array.from({ length: 1_200 }, (_, index) => ({ type: 'registered', actor: 'import', data: { index } })),
    );
    expect(batch.map((event) => event.seq)).toEqual(Array.from({ length: 1_200 }, (_, index) => index + 1));
    await expect(
      writeTransaction(store.db, async (trx) => {
        await log.appendWithin(trx, [{ type: 'revoked', actor: 'a' }]);
        throw new Error('provider said no');
      }),
    ).rejects.toThrow('provider said no');
    const kept = await writeTransaction(store.db, (trx) => log.appendWithin(trx, [{ type: 'revoked', actor: 'a' }]));
    expect(kept[0]?.seq).toBe(1_201);
    expect(await log.verify({ pageSize: 500 })).toMatchObject({ ok: true, checked: 1_201 });
  });

  // The children append in rounds (see append-events-process.ts), so they interleave however loaded the machine is.
  it('keeps one unbroken chain when several processes append at once', async () => {
    const database = await backend.createDatabase();
    await (await database.open()).close();
    const child = new URL('./test-support/append-events-process.ts', import.meta.url);
    const barrier = join(database.options.dataDir, 'barrier');
    const results = await Promise.all(
      [1, 2, 3].map(() => runTypeScriptChild(child, [JSON.stringify(database.options), barrier, '3', '40'])),
    );
    // Code and stderr together, so a failure shows what the child said.
    expect(results.map(({ code, stderr }) => ({ code, stderr }))).toEqual(Array(3).fill({ code: 0, stderr: '' }));
    const store = await database.open();
    const events = await new EventLog(store.db).list({ limit: 1_000 });
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 120 }, (_, index) => index + 1));
    // The processes really did interleave: no single process wrote one contiguous block of 40.
    const runs = events.filter((event, index) => index === 0 || event.actor !== events[index - 1]?.actor).length;
    expect(runs).toBeGreaterThan(3);
    expect(await new EventLog(store.db).verify()).toMatchObject({ ok: true, checked: 120 });
  }, 90_000);
});

describe('appends on PostgreSQL from many connections', () => {
  it('serialises 200 concurrent appends from four pools into one verified chain', async () => {
    const { createTestBackend } = await import('../db/test-support/test-databases.js');
    const backend = createTestBackend('postgres');
    try {
      const database = await backend.createDatabase();
      const stores = await Promise.all(
        [1, 2, 3, 4].map(() => openOperationalStore({ ...database.options, poolSize: 5 })),
      );
      try {
        const logs = stores.map((store) => new EventLog(store.db));
        await Promise.all(
          Array.from({ length: 200 }, (_, index) =>
            logs[index % logs.length]!.append({
              type: 'verified',
              actor: `pool:${index % logs.length}`,
              data: { index },
            }),
          ),
        );
        const verification = await logs[0]!.verify({ pageSize: 64 });
        expect(verification).toMatchObject({ ok: true, checked: 200, head: { seq: 200 } });
      } finally {
        await Promise.all(stores.map((store) => store.close()));
      }
    } finally {
      await backend.cleanup();
    }
  });
});
