// The HR file kept fed into the directory store while the server runs (docs/offboarding.md, "The HR file in the
// server"): imported at start, then again whenever it changes — heard through fs.watch on its folder (editors and
// HR exports often replace the file rather than write into it) and, because watches miss events on network and
// container file systems, a periodic check of its mtime and size — after a quiet spell (debounced), so a file being
// written is read once it is whole. A content hash skips a touch that changed nothing. Each import applies only the
// rows that changed since the last one, as the CLI does (syncHrFile: signal ids repeat, so a re-run adds nothing); a
// `left` row is then a departure the offboarding module hears like a SCIM deprovision. A row that disappears is not
// a departure (a truncated export must not offboard everyone): it is logged. A file that does not parse is logged
// and the last good import stands until the next change.
import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { DirectoryPerson, DirectoryUpdates, IdentitySource } from '../../directory/identity-source.js';
import { parsePeopleDirectory } from '../../directory/people-directory.js';
import type { Clock } from '../../runtime/clock.js';
import type { Logger } from '../../telemetry/logger.js';
import { HR_FILE_SOURCE, hrPersonOf, syncHrFile } from './hr-file-source.js';

export interface HrFileImport {
  /** Rows in the file. */
  people: number;
  /** Rows applied to the directory (new or changed since the last import). */
  applied: number;
  /** Of those, departures (a person taken from active). */
  departed: number;
  /** People of the previous import no longer in the file (left alone). */
  missing: number;
}

export interface HrFileFeedOptions {
  /** The CSV or YAML people file (absolute). */
  file: string;
  directory: DirectoryUpdates;
  clock: Clock;
  logger: Logger;
  /** Quiet time after a change before the file is read (default 500 ms). */
  debounceMs?: number;
  /** How often mtime and size are checked, for changes the watch missed (default 30 s). */
  pollMs?: number;
  /** Whether to watch the folder too (default true); without it, the periodic check alone hears changes. */
  watch?: boolean;
  /** Hears each import of new content (tests, metrics). */
  onImport?: (result: HrFileImport) => void;
}

export class HrFileFeed {
  readonly #options: Required<Omit<HrFileFeedOptions, 'onImport'>> & Pick<HrFileFeedOptions, 'onImport'>;
  /** What each person's row said at the last import: only a changed row is applied again. */
  readonly #rows = new Map<string, string>();
  #hash: string | undefined;
  #stat: string | undefined;
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  /** The import in progress; imports never overlap. */
  #running: Promise<void> = Promise.resolve();
  #again = false;
  #busy = false;
  #stopped = false;

  constructor(options: HrFileFeedOptions) {
    this.#options = { debounceMs: 500, pollMs: 30_000, watch: true, ...options };
  }

  get file(): string {
    return this.#options.file;
  }

  /**
   * Imports the file (a missing or broken file is logged, not thrown) and watches it from then on. The import runs
   * in the background: the returned promise settles when it is done; `idle()` waits for it too.
   */
  start(): Promise<HrFileImport | undefined> {
    this.#busy = true;
    const first = this.#importLogged('start').finally(() => {
      this.#busy = false;
      // A change heard while the first import ran.
      if (this.#again) this.#run();
    });
    this.#running = first.then(() => undefined);
    if (this.#options.watch) this.#watch();
    this.#poll = setInterval(() => void this.#checkStat(), this.#options.pollMs);
    this.#poll.unref();
    return first;
  }

  #watch(): void {
    try {
      this.#watcher = watch(dirname(this.#options.file), { persistent: false }, (_event, name) => {
        if (name === null || name.toString() === basename(this.#options.file)) this.#schedule();
      });
      this.#watcher.on('error', (error) => {
        this.#options.logger.warn({ file: this.#options.file, err: error.message }, 'hr file watch failed; polling');
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch (error) {
      this.#options.logger.warn({ file: this.#options.file, err: (error as Error).message }, 'hr file not watched');
    }
  }

  /** Resolves once no import is running or waiting (tests; the server's close). */
  async idle(): Promise<void> {
    while (this.#busy || this.#debounce) {
      await this.#running;
      await new Promise((wake) => setTimeout(wake, 10));
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watcher?.close();
    if (this.#poll) clearInterval(this.#poll);
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = undefined;
    await this.#running;
  }

  /**
   * Reads the file and applies the rows that changed since the last import. Undefined when the content is the
   * same as last time. Throws when the file cannot be read or parsed.
   */
  async importNow(): Promise<HrFileImport | undefined> {
    const bytes = await readFile(this.#options.file);
    const hash = createHash('sha256').update(bytes).digest('hex');
    if (hash === this.#hash) return undefined;
    const people = parsePeopleDirectory(bytes.toString('utf8'), this.#options.file).people();
    const seen = new Map<string, string>();
    const changed: DirectoryPerson[] = [];
    for (const person of people) {
      const row = hrPersonOf(person);
      const signature = JSON.stringify(row);
      seen.set(row.email.toLowerCase(), signature);
      if (this.#rows.get(row.email.toLowerCase()) !== signature) changed.push(row);
    }
    const source: IdentitySource = {
      name: HR_FILE_SOURCE,
      async *listPeople() {
        yield* changed;
      },
    };
    const { departed } = await syncHrFile(source, this.#options.directory, this.#options.clock);
    let missing = 0;
    for (const email of this.#rows.keys()) if (!seen.has(email)) missing += 1;
    this.#rows.clear();
    for (const [email, signature] of seen) this.#rows.set(email, signature);
    this.#hash = hash;
    return { people: people.length, applied: changed.length, departed, missing };
  }

  #schedule(): void {
    if (this.#stopped) return;
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      this.#run();
    }, this.#options.debounceMs);
    this.#debounce.unref();
  }

  #run(): void {
    if (this.#busy) {
      // A change heard during an import: one more import after it.
      this.#again = true;
      return;
    }
    this.#busy = true;
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#importLogged('change');
      } while (this.#again && !this.#stopped);
      this.#busy = false;
    })();
  }

  async #checkStat(): Promise<void> {
    const current = await stat(this.#options.file).then(
      (s) => `${s.mtimeMs}:${s.size}`,
      () => 'missing',
    );
    if (this.#stat !== undefined && current !== this.#stat) this.#schedule();
    this.#stat = current;
  }

  async #importLogged(reason: 'start' | 'change'): Promise<HrFileImport | undefined> {
    const { file, logger } = this.#options;
    this.#stat = await stat(file).then(
      (s) => `${s.mtimeMs}:${s.size}`,
      () => 'missing',
    );
    try {
      const result = await this.importNow();
      if (!result) return undefined;
      logger.info({ file, reason, ...result }, 'hr file fed into the directory');
      if (result.missing > 0)
        logger.warn(
          { file, missing: result.missing },
          'people of the last hr file import are missing from it; not offboarded (mark them left)',
        );
      this.#options.onImport?.(result);
      return result;
    } catch (error) {
      logger.warn({ file, reason, err: (error as Error).message }, 'hr file not imported; the last import stands');
      return undefined;
    }
  }
}
