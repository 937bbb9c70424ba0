// The shared rate budget (issue 19, fleet-ops item 3): two "replicas" — two limiters over their own connection pools
// to one PostgreSQL database — acquiring as fast as they can stay within one budget together, where two in-memory
// token buckets send twice the limit; each takes a batch per round-trip; SQLite keeps the in-memory bucket.
import { afterAll, describe, expect, it } from 'vitest';
import { TokenBucket } from '../runtime/token-bucket.js';
import { SharedRateBudget, sharedProviderRateLimiters } from './shared-rate-budget.js';
import { createTestBackend } from './test-support/test-databases.js';

const LIMIT = { requests: 40, perSeconds: 1 };
const RUN_MS = 1_500;

/** Acquires with `workers` callers at once until `ms` have passed; how many went through. */
async function hammer(limiter: { acquire(): Promise<void> }, workers: number, until: number): Promise<number> {
  let acquired = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < until) {
        await limiter.acquire();
        if (Date.now() < until) acquired += 1;
      }
    }),
  );
  return acquired;
}

describe('SharedRateBudget (postgres)', () => {
  const postgres = createTestBackend('postgres');
  afterAll(() => postgres.cleanup());

  it('two replicas over one database stay within one budget together; two local buckets send twice as much', async () => {
    const database = await postgres.createDatabase();
    const replicaA = await database.open();
    const replicaB = await database.open({ migrate: false });
    const a = new SharedRateBudget(replicaA.db, 'provider:test', LIMIT);
    const b = new SharedRateBudget(replicaB.db, 'provider:test', LIMIT);
    const started = Date.now();
    const until = started + RUN_MS;
    const [byA, byB] = await Promise.all([hammer(a, 8, until), hammer(b, 8, until)]);
    const seconds = (Date.now() - started) / 1000;
    // The budget: a full burst at the start, then the refill rate, for both together.
    const budget = LIMIT.requests + LIMIT.requests * seconds;
    expect(byA + byB).toBeLessThanOrEqual(Math.ceil(budget));
    // Both got a share, and most of the budget was used.
    expect(byA).toBeGreaterThan(10);
    expect(byB).toBeGreaterThan(10);
    expect(byA + byB).toBeGreaterThan(budget * 0.6);
    // A batch per round-trip (4 tokens at 40/s): fewer draws than tokens, even with two replicas contending.
    process.stdout.write(
      `shared budget: ${byA}+${byB} in ${seconds.toFixed(2)} s (budget ${budget.toFixed(0)}), ${a.draws + b.draws} draws\n`,
    );
    expect(a.draws + b.draws).toBeLessThan(byA + byB);
    // What each replica's own bucket did before: each sends the whole budget.
    const localUntil = Date.now() + RUN_MS;
    const localStarted = Date.now();
    const local = await Promise.all([
      hammer(new TokenBucket(LIMIT), 8, localUntil),
      hammer(new TokenBucket(LIMIT), 8, localUntil),
    ]);
    const localBudget = LIMIT.requests + LIMIT.requests * ((Date.now() - localStarted) / 1000);
    expect(local[0]! + local[1]!).toBeGreaterThan(localBudget * 1.5);
  }, 20_000);

  it('refills by the database clock: an empty budget grants again after its refill time, not before', async () => {
    const database = await postgres.createDatabase();
    const store = await database.open();
    const sleeps: number[] = [];
    const budget = new SharedRateBudget(
      store.db,
      'provider:slow',
      { requests: 2, perSeconds: 1 },
      {
        sleep: async (ms) => {
          sleeps.push(ms);
          await new Promise((resolve) => setTimeout(resolve, ms));
        },
      },
    );
    await budget.acquire();
    await budget.acquire();
    expect(sleeps).toEqual([]);
    const started = Date.now();
    await budget.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(sleeps.length).toBeGreaterThan(0);
    const row = await store.db.selectFrom('rate_budgets').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ budget: 'provider:slow', last_granted: 1 });
    expect(Number(row.tokens)).toBeLessThan(1);
  });

  it('the provider context factory: one budget per provider on PostgreSQL', async () => {
    const store = await postgres.open();
    const limiterFor = sharedProviderRateLimiters(store.db)!;
    expect(limiterFor('gitlab', LIMIT)).toBe(limiterFor('gitlab', LIMIT));
    expect(limiterFor('gitlab', LIMIT)).not.toBe(limiterFor('datadog', LIMIT));
  });
});

describe('SharedRateBudget (sqlite)', () => {
  const sqlite = createTestBackend('sqlite');
  afterAll(() => sqlite.cleanup());

  it('is not built on SQLite: adapters keep their own token bucket', async () => {
    const store = await sqlite.open();
    expect(sharedProviderRateLimiters(store.db)).toBeUndefined();
    expect(() => new SharedRateBudget(store.db, 'provider:x', LIMIT)).toThrow(/PostgreSQL/);
  });
});
