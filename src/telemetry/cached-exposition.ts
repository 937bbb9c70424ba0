// The `/metrics` body, built off the request path and kept until something changes. At 100,000 keys a build reads
// the whole registry (worker threads) and writes ~200,000 series; a scrape must never wait for that, or hold the
// event loop while it happens. So: a scrape gets the last build at once; a timer (and a scrape that finds the
// last check old) asks `changeToken` whether the registry HEAD, the event log, the journal or the anomalies moved,
// and rebuilds in the background only then, or when the build is older than `maxAgeMs` (ages and due-ness move
// with the clock). One rebuild at a time; a failed one keeps the previous body and is counted.
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from './logger.js';

// zlib's asynchronous gzip runs on libuv's thread pool, not on the event loop.
const gzip = promisify(gzipCallback);

export interface Exposition {
  text: string;
  /** The same body gzip-compressed, for scrapers that send `Accept-Encoding: gzip` (Prometheus does). */
  gzipped: Buffer;
  series: number;
  builtAt: Date;
  buildSeconds: number;
}

export interface BuildFacts {
  lastRebuild?: { seconds: number; at: Date };
  rebuildFailures: number;
}

export interface CachedExpositionOptions {
  build: (facts: BuildFacts) => Promise<{ text: string; series: number }>;
  changeToken: () => Promise<string>;
  clock: Clock;
  logger?: Logger;
  /** How often to ask whether anything changed (default 15 s). */
  checkEveryMs?: number;
  /** Rebuild at least this often even when nothing changed (default 5 min): ages grow with the clock. */
  maxAgeMs?: number;
}

export class CachedExposition {
  readonly #options: CachedExpositionOptions;
  #current: Exposition | undefined;
  #token: string | undefined;
  #checkedAt = 0;
  #refreshing: Promise<void> | undefined;
  #first: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #rebuilds = 0;

  constructor(options: CachedExpositionOptions) {
    this.#options = options;
  }

  /** Starts the first build and the change checks. */
  start(): void {
    this.#first ??= this.refresh();
    this.#timer ??= setInterval(() => void this.refresh(), this.#checkEvery());
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The body to serve now: the last build, or (before the first one finished) that first build. */
  async current(): Promise<Exposition> {
    if (!this.#current) {
      this.#first ??= this.refresh();
      await this.#first;
      // The first build failed: try once more for this scrape (the failure is logged and counted).
      if (!this.#current) await this.refresh();
      if (!this.#current) throw new Error('the metrics exposition could not be built; see the log');
      return this.#current;
    }
    if (this.#options.clock().getTime() - this.#checkedAt >= this.#checkEvery()) void this.refresh();
    return this.#current;
  }

  /** Rebuilds that ran to the end since start (for tests and the bench). */
  get rebuilds(): number {
    return this.#rebuilds;
  }

  /** Checks for change and rebuilds when needed; concurrent calls share one run. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    const startedAt = this.#options.clock();
    this.#checkedAt = startedAt.getTime();
    try {
      const token = await this.#options.changeToken();
      const age = this.#current ? startedAt.getTime() - this.#current.builtAt.getTime() : Number.POSITIVE_INFINITY;
      if (this.#current && token === this.#token && age < (this.#options.maxAgeMs ?? 300_000)) return;
      const began = performance.now();
      const built = await this.#options.build({
        ...(this.#current ? { lastRebuild: { seconds: this.#current.buildSeconds, at: this.#current.builtAt } } : {}),
        rebuildFailures: this.#failures,
      });
      const gzipped = await gzip(built.text);
      this.#current = {
        text: built.text,
        gzipped,
        series: built.series,
        builtAt: startedAt,
        buildSeconds: (performance.now() - began) / 1000,
      };
      this.#token = token;
      this.#rebuilds += 1;
    } catch (error) {
      this.#failures += 1;
      this.#options.logger?.error(
        { err: { message: (error as Error).message, code: (error as { code?: unknown }).code } },
        'metrics: rebuild failed; serving the previous exposition',
      );
    }
  }

  #checkEvery(): number {
    return this.#options.checkEveryMs ?? 15_000;
  }
}
