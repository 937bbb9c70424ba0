// Runs many rotations at once under the providers' limits (docs/rotation.md): one queue per provider, worked by as
// many rotations in flight as it tolerates, started no faster than its request budget allows for the calls a
// rotation makes, paused as a whole when it answers 429, and optionally spread evenly over a window ("spread
// rotation across hours"). Keys of providers without an issuance API get a ticket instead.

import { ProviderError } from '../../errors/provider-error.js';
import { keyCapabilities, type Provider } from '../../providers/provider.js';
import type { Clock } from '../../runtime/clock.js';
import { realSleep, type Sleep } from '../../runtime/retry-policy.js';
import { TokenBucket } from '../../runtime/token-bucket.js';
import { SecretStoreError } from '../../secrets/secret-store-error.js';
import type { KeyRotator, RotationOutcome } from './key-rotator.js';
import type { DueKey } from './rotation-due.js';
import type { RotationMetrics } from './rotation-metrics.js';

/** Opens (or finds) the rotation ticket of a key that cannot be rotated by API. */
export interface ManualRotationDesk {
  ensureTicket(due: DueKey): Promise<{ created: boolean; id: string; url?: string }>;
}

export interface RotationSchedulerDependencies {
  rotator: KeyRotator;
  providers: (name: string) => Provider;
  /** True when the configuration marks this provider manual (its adapter may not even exist). */
  isManual?: (provider: string) => boolean;
  tickets?: ManualRotationDesk;
  clock: Clock;
  sleep?: Sleep;
  metrics?: RotationMetrics;
}

export interface ScheduleOptions {
  /** Spread the starts of each provider's rotations evenly over this many milliseconds (0: as fast as allowed). */
  windowMs?: number;
  /** Rotations in flight per provider when the provider does not say (default 16). */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called after each rotation ends or is deferred (progress output). */
  onOutcome?: (keyId: string, outcome: RotationOutcome | { status: 'error'; error: string }) => void;
}

export interface ScheduleReport {
  planned: number;
  done: number;
  rolledBack: number;
  failed: number;
  /** Still waiting for a retry when the run stopped (picked up by the next run or `--resume`). */
  deferred: number;
  busy: number;
  /** Rotations whose rollback cannot finish for now (`keyledger rotate --status` lists them). */
  stuck: number;
  errors: Array<{ keyId: string; error: string }>;
  tickets: { opened: number; existing: number; failed: number };
  seconds: number;
  /** Per provider; `workers`: rotations it had in flight at most (past `concurrency` only by released slots). */
  byProvider: Record<
    string,
    { keys: number; done: number; requestsPerRotation: number; rotationsPerSecond: number; workers: number }
  >;
}

interface QueueItem {
  due: DueKey;
  rotationId?: string;
  notBefore: number;
  /** Transient failures while planning (the preflight's read answered 429 or timed out). */
  planFailures?: number;
}

/** Transient failures of one key's planning tolerated before it is reported as an error. */
const MAX_PLAN_FAILURES = 6;

/**
 * Provider calls one rotation makes: create, verify, revoke (+ two lists where keys per account are capped: the
 * preflight's and the room check's; + the extra calls of a revoke that takes several).
 */
export function requestsPerRotation(provider: Provider): number {
  const capabilities = provider.capabilities();
  let calls = 3;
  if (capabilities.maxKeysPerAccount && capabilities.list) calls += 2;
  calls += Math.max(1, capabilities.revokeCalls ?? 1) - 1;
  return calls;
}

export class RotationScheduler {
  readonly #deps: RotationSchedulerDependencies;
  readonly #sleep: Sleep;
  /** keyId -> gives its rotation's slot back, for the rotations in flight. */
  readonly #releasers = new Map<string, () => void>();

  constructor(dependencies: RotationSchedulerDependencies) {
    this.#deps = dependencies;
    this.#sleep = dependencies.sleep ?? realSleep;
  }

  /**
   * Says that the rotation of `keyId` is past its last provider call and now waits on a step all providers share
   * (a registry batch commit: `recordInRegistry`). Its provider's slot goes to the next key meanwhile, so a slow
   * shared step does not leave a provider's budget unused; `concurrency` still bounds the rotations at the provider.
   */
  releaseSlot(keyId: string): void {
    this.#releasers.get(keyId)?.();
  }

  async run(due: readonly DueKey[], options: ScheduleOptions = {}): Promise<ScheduleReport> {
    const started = performance.now();
    const report: ScheduleReport = {
      planned: 0,
      done: 0,
      rolledBack: 0,
      failed: 0,
      deferred: 0,
      busy: 0,
      stuck: 0,
      errors: [],
      tickets: { opened: 0, existing: 0, failed: 0 },
      seconds: 0,
      byProvider: {},
    };
    const queues = new Map<string, DueKey[]>();
    const manualProviders = new Map<string, boolean>();
    for (const key of due) {
      const providerName = key.entry.scope?.provider ?? '(none)';
      if (!manualProviders.has(providerName)) manualProviders.set(providerName, this.#isManualProvider(providerName));
      if (manualProviders.get(providerName) || this.#isManualKind(providerName, key)) {
        await this.#ticket(key, report, options);
        continue;
      }
      // Appended in place: copying the list per key made grouping 10,000 keys quadratic.
      const queue = queues.get(providerName);
      if (queue) queue.push(key);
      else queues.set(providerName, [key]);
    }
    await Promise.all([...queues].map(([name, keys]) => this.#runProvider(name, keys, options, report)));
    report.seconds = (performance.now() - started) / 1000;
    return report;
  }

  #isManualProvider(name: string): boolean {
    if (this.#deps.isManual?.(name)) return true;
    try {
      const capabilities = this.#deps.providers(name).capabilities();
      return capabilities.manual || !capabilities.create;
    } catch {
      return false; // an unavailable provider fails in #runProvider, with its configuration error
    }
  }

  /** A key whose kind has no issuance API although its provider has one (a GitHub fine-grained PAT). */
  #isManualKind(name: string, key: DueKey): boolean {
    try {
      const capabilities = keyCapabilities(this.#deps.providers(name), {
        account: key.entry.scope?.account_id,
        kind: key.entry.scope?.kind,
      });
      return capabilities.manual || !capabilities.create;
    } catch {
      return false;
    }
  }

  async #ticket(key: DueKey, report: ScheduleReport, options: ScheduleOptions): Promise<void> {
    if (!this.#deps.tickets) {
      report.tickets.failed += 1;
      report.errors.push({
        keyId: key.keyId,
        error: `${key.entry.scope?.provider} has no issuance API and no ticket sink is configured (--tickets)`,
      });
      return;
    }
    try {
      const ticket = await this.#deps.tickets.ensureTicket(key);
      if (ticket.created) report.tickets.opened += 1;
      else report.tickets.existing += 1;
    } catch (error) {
      report.tickets.failed += 1;
      report.errors.push({ keyId: key.keyId, error: (error as Error).message });
      options.onOutcome?.(key.keyId, { status: 'error', error: (error as Error).message });
    }
  }

  async #runProvider(name: string, keys: DueKey[], options: ScheduleOptions, report: ScheduleReport): Promise<void> {
    let provider: Provider;
    try {
      provider = this.#deps.providers(name);
    } catch (error) {
      for (const key of keys) report.errors.push({ keyId: key.keyId, error: (error as Error).message });
      return;
    }
    const limit = provider.rateLimit();
    const perRotation = requestsPerRotation(provider);
    const rotationsPerSecond = limit.requests / limit.perSeconds / perRotation;
    // Starts paced at the budget's share per rotation, with no burst: a burst would only meet the adapter's own
    // limiter (or the provider's 429) a moment later.
    const pacer = new TokenBucket({ requests: rotationsPerSecond, perSeconds: 1 }, { burst: 1, sleep: this.#sleep });
    const concurrency = Math.max(1, limit.concurrency ?? options.concurrency ?? 16);
    const stats = { keys: keys.length, done: 0, requestsPerRotation: perRotation, rotationsPerSecond, workers: 0 };
    report.byProvider[name] = stats;
    const start = this.#deps.clock().getTime();
    const windowMs = options.windowMs ?? 0;
    const queue: QueueItem[] = keys.map((due, index) => ({
      due,
      ...(due.rotationId ? { rotationId: due.rotationId } : {}),
      notBefore: windowMs > 0 ? start + Math.floor((index * windowMs) / keys.length) : 0,
    }));
    let pausedUntil = 0;
    let inFlight = 0;
    // Workers running, and rotations among them past their last provider call (releaseSlot): those wait on steps
    // every provider shares (a registry batch commit), and their slots go to the next keys meanwhile.
    let alive = 0;
    let releasedInFlight = 0;
    // Sorted once; only a requeued item (a retry, a window slot not reached) unsorts it. Items are taken from
    // `head` on (shift() moves the whole rest of a 10,000-item array each time).
    queue.sort((a, b) => a.notBefore - b.notBefore);
    let head = 0;
    let unsorted = false;
    const requeue = (item: QueueItem) => {
      queue.push(item);
      unsorted = true;
    };

    const worker = async () => {
      for (;;) {
        if (options.signal?.aborted || alive > concurrency + releasedInFlight) {
          alive -= 1;
          return;
        }
        if (unsorted) {
          queue.splice(0, head);
          head = 0;
          queue.sort((a, b) => a.notBefore - b.notBefore);
          unsorted = false;
        }
        const item = head < queue.length ? queue[head++] : undefined;
        if (!item) {
          // Nothing left to start: one worker stays while rotations are in flight, for a deferred one that comes
          // back to the queue (the worker that defers it picks it up too, unless it is over capacity and leaves).
          if (inFlight === 0 || alive > 1) {
            alive -= 1;
            return;
          }
          await this.#sleep(20);
          continue;
        }
        const wait = Math.max(item.notBefore, pausedUntil) - this.#deps.clock().getTime();
        if (wait > 0) {
          requeue(item);
          await this.#sleep(Math.min(wait, 1_000));
          continue;
        }
        inFlight += 1;
        let released = false;
        this.#releasers.set(item.due.keyId, () => {
          if (released) return;
          released = true;
          releasedInFlight += 1;
          if (head < queue.length && alive < concurrency + releasedInFlight) spawn();
        });
        try {
          if (!item.rotationId) {
            await pacer.acquire();
            // The provider key due detection saw: an entry that moved on since (another worker rotated it) is not due.
            const seen = item.due.entry.provider_key_id;
            const planned = await this.#deps.rotator.plan(item.due.keyId, item.due.trigger, {
              ...(seen ? { expectedProviderKeyId: String(seen) } : {}),
            });
            report.planned += planned.created ? 1 : 0;
            item.rotationId = planned.row.rotation_id;
          }
          const outcome = await this.#deps.rotator.drive(
            item.rotationId,
            options.signal ? { signal: options.signal } : {},
          );
          options.onOutcome?.(item.due.keyId, outcome);
          if (outcome.status === 'deferred') {
            const notBefore = outcome.row.not_before
              ? Date.parse(outcome.row.not_before)
              : this.#deps.clock().getTime() + 1_000;
            // A 429 is about the provider, not the key: hold every start for this provider until it may be asked again.
            if (/rate|429|throttl/i.test(outcome.row.failure ?? '')) pausedUntil = Math.max(pausedUntil, notBefore);
            requeue({ ...item, notBefore });
          } else if (outcome.status === 'done') {
            report.done += 1;
            stats.done += 1;
          } else if (outcome.status === 'rolled-back') report.rolledBack += 1;
          else if (outcome.status === 'failed') report.failed += 1;
          else if (outcome.status === 'busy') report.busy += 1;
          else if (outcome.status === 'stuck') report.stuck += 1;
          else report.deferred += 1; // interrupted by shutdown: the next run resumes it
        } catch (error) {
          // Planning hit a 429 or an outage (the preflight reads the provider): nothing was recorded or changed, so
          // the key waits and is planned again, as a deferred rotation would.
          const failures = (item.planFailures ?? 0) + 1;
          if (!item.rotationId && isTransient(error) && failures <= MAX_PLAN_FAILURES) {
            const retryAfterMs =
              error instanceof ProviderError && error.retryAfterSeconds !== undefined
                ? error.retryAfterSeconds * 1000
                : 0;
            const notBefore = this.#deps.clock().getTime() + Math.max(retryAfterMs, 250 * 2 ** failures);
            if (error instanceof ProviderError && error.code === 'E_PROVIDER_RATE_LIMITED')
              pausedUntil = Math.max(pausedUntil, notBefore);
            requeue({ ...item, notBefore, planFailures: failures });
            continue;
          }
          report.errors.push({ keyId: item.due.keyId, error: (error as Error).message });
          options.onOutcome?.(item.due.keyId, { status: 'error', error: (error as Error).message });
        } finally {
          inFlight -= 1;
          this.#releasers.delete(item.due.keyId);
          if (released) releasedInFlight -= 1;
        }
      }
    };
    const workers: Array<Promise<void>> = [];
    const spawn = () => {
      alive += 1;
      stats.workers = Math.max(stats.workers, alive);
      workers.push(worker());
    };
    for (let index = 0; index < Math.min(concurrency, keys.length); index++) spawn();
    for (let index = 0; index < workers.length; index++) await workers[index];
    report.deferred += queue.length - head;
  }
}

function isTransient(error: unknown): boolean {
  return (error instanceof ProviderError || error instanceof SecretStoreError) && error.retryable;
}
