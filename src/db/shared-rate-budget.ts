// A request budget shared by every replica of a fleet on PostgreSQL: a provider's documented rate limit kept as one
// row of `rate_budgets` (migration 0026) — tokens left and when they were counted — instead of one TokenBucket per
// process (src/runtime/token-bucket.ts), with which N replicas send N times the limit and lean on the provider's 429s.
// A draw is one `UPDATE ... RETURNING`: the row refills for the time since it was counted (by the database's clock,
// so replicas' clocks never matter), grants up to a batch of whole tokens and keeps the rest, under the row's lock.
// A replica takes a batch per round-trip (a tenth of a second's worth by default) and spends it locally; tokens it
// has not spent by the time the budget would have refilled them are dropped, so no replica hoards a burst. The
// single-process default (SQLite) keeps the in-memory TokenBucket: the app builds these only on PostgreSQL.
import { type Kysely, sql } from 'kysely';
import { realSleep, type Sleep } from '../runtime/retry-policy.js';
import type { RateLimit, RateLimiter } from '../runtime/token-bucket.js';
import type { OperationalSchema } from './operational-schema.js';
import { dialectOf } from './operational-store.js';

export interface SharedRateBudgetOptions {
  /** Tokens taken per round-trip to the database; default a tenth of a second's worth (at least 1, at most the burst). */
  batch?: number;
  /** Tokens the budget holds at most; default one window's worth (`requests`), as TokenBucket. */
  burst?: number;
  sleep?: Sleep;
  /** A monotonic clock in milliseconds, for the local expiry of a batch; injected for tests. */
  now?: () => number;
  /** A number in [0, 1) for the jitter of a wait; injected for tests. */
  random?: () => number;
}

/** The database's clock in milliseconds since the epoch, at the start of the statement. */
const DATABASE_NOW_MS = sql`(extract(epoch from now()) * 1000)`;

export class SharedRateBudget implements RateLimiter {
  readonly #db: Kysely<OperationalSchema>;
  readonly #name: string;
  readonly #ratePerMs: number;
  readonly #capacity: number;
  readonly #batch: number;
  readonly #sleep: Sleep;
  readonly #now: () => number;
  readonly #random: () => number;
  #held = 0;
  #heldUntil = 0;
  #created = false;
  /** Acquirers take their turn one after another, so one round-trip serves a batch of them. */
  #queue: Promise<void> = Promise.resolve();
  /** Round-trips to the database so far (benches and tests read it). */
  draws = 0;

  constructor(db: Kysely<OperationalSchema>, name: string, limit: RateLimit, options: SharedRateBudgetOptions = {}) {
    if (dialectOf(db) !== 'postgres') throw new Error('a shared rate budget needs the PostgreSQL operational store');
    if (!(limit.requests > 0) || !(limit.perSeconds > 0))
      throw new RangeError('a rate limit needs requests > 0 and perSeconds > 0');
    this.#db = db;
    this.#name = name;
    this.#ratePerMs = limit.requests / (limit.perSeconds * 1000);
    this.#capacity = Math.max(1, options.burst ?? limit.requests);
    this.#batch = Math.min(this.#capacity, Math.max(1, Math.floor(options.batch ?? this.#ratePerMs * 100)));
    this.#sleep = options.sleep ?? realSleep;
    this.#now = options.now ?? (() => performance.now());
    this.#random = options.random ?? Math.random;
  }

  acquire(): Promise<void> {
    const turn = this.#queue.then(() => this.#takeOne());
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  async #takeOne(): Promise<void> {
    for (;;) {
      if (this.#held >= 1 && this.#now() < this.#heldUntil) {
        this.#held -= 1;
        return;
      }
      this.#held = 0;
      const { granted, tokens } = await this.#draw();
      if (granted > 0) {
        this.#held = granted - 1;
        // Spent within the time the budget takes to refill them, or dropped.
        this.#heldUntil = this.#now() + granted / this.#ratePerMs;
        return;
      }
      // Empty: come back when a whole batch has refilled, so a saturated budget still costs about one draw per batch;
      // jittered, so replicas that found it empty together do not all come back at the same instant.
      const refill = (this.#batch - tokens) / this.#ratePerMs;
      await this.#sleep(Math.max(1, Math.ceil(refill * (1 + this.#random() / 2))));
    }
  }

  /** One round-trip: refill by the database's clock, grant up to a batch of whole tokens, keep the rest. */
  async #draw(): Promise<{ granted: number; tokens: number }> {
    if (!this.#created) {
      await sql`insert into rate_budgets (budget, tokens, counted_at_ms, last_granted)
        values (${this.#name}, ${this.#capacity}::double precision, ${DATABASE_NOW_MS}, 0)
        on conflict (budget) do nothing`.execute(this.#db);
      this.#created = true;
    }
    const capacity = sql`${this.#capacity}::double precision`;
    const rate = sql`${this.#ratePerMs}::double precision`;
    // Every SET expression reads the row as it was before this statement (after waiting for its lock).
    const available = sql`least(${capacity}, tokens + greatest(0, ${DATABASE_NOW_MS} - counted_at_ms) * ${rate})`;
    const granted = sql`greatest(0, least(${this.#batch}::double precision, floor(${available})))`;
    const result = await sql<{ last_granted: number; tokens: number }>`update rate_budgets
      set last_granted = ${granted}::integer,
          tokens = ${available} - ${granted},
          counted_at_ms = greatest(counted_at_ms, ${DATABASE_NOW_MS})
      where budget = ${this.#name}
      returning last_granted, tokens`.execute(this.#db);
    this.draws += 1;
    const row = result.rows[0];
    if (!row) throw new Error(`rate budget ${this.#name} has no row`);
    return { granted: Number(row.last_granted), tokens: Number(row.tokens) };
  }
}

/**
 * The `rateLimiterFor` of the provider context (src/providers/provider-context.ts) over the operational store: one
 * shared budget per provider (`provider:<name>`) on PostgreSQL, cached per name and limit; undefined on SQLite,
 * where adapters keep their own TokenBucket.
 */
export function sharedProviderRateLimiters(
  db: Kysely<OperationalSchema>,
  options: SharedRateBudgetOptions = {},
): ((provider: string, limit: RateLimit) => RateLimiter) | undefined {
  if (dialectOf(db) !== 'postgres') return undefined;
  const budgets = new Map<string, SharedRateBudget>();
  return (provider, limit) => {
    const key = `${provider}:${limit.requests}/${limit.perSeconds}`;
    let budget = budgets.get(key);
    if (!budget) {
      budget = new SharedRateBudget(db, `provider:${provider}`, limit, options);
      budgets.set(key, budget);
    }
    return budget;
  };
}
