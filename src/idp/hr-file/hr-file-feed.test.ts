// The HR file feed on its own, over a real directory store (SQLite; the module's test runs both engines): the
// first import applies everyone, a change is heard through the watch and through the periodic check alone, bursts
// of writes are read once (debounced), a rewrite with the same content applies nothing, only changed rows are
// applied again, a row that disappears is not a departure, a broken file leaves the last import standing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTestBackend } from '../../db/test-support/test-databases.js';
import { DirectoryStore } from '../../directory/directory-store.js';
import type { DirectoryPerson } from '../../directory/identity-source.js';
import { fixedClock } from '../../runtime/clock.js';
import { createLogger } from '../../telemetry/logger.js';
import { HrFileFeed, type HrFileImport } from './hr-file-feed.js';

const backend = createTestBackend('sqlite');
afterAll(() => backend.cleanup());

const HEADER = 'email,name,team,status,left_at';
const csv = (...rows: string[]) => `${[HEADER, ...rows].join('\n')}\n`;
const ADA = 'ada@example.com,Ada L,payments,active,';
const BO = 'bo@example.com,Bo R,payments,active,';
const CY = 'cy@example.com,Cy T,data,active,';

let work: string;
let file: string;
let directory: DirectoryStore;
let departures: string[];
let imports: HrFileImport[];
let lines: string[];
let feed: HrFileFeed | undefined;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'keyledger-hr-feed-'));
  file = join(work, 'people.csv');
  await writeFile(file, csv(ADA, BO, CY));
  const store = await backend.open();
  directory = new DirectoryStore({ db: store.db, clock: fixedClock('2026-12-07T09:00:00.000Z') });
  departures = [];
  directory.onDeparture(async (person: DirectoryPerson) => {
    departures.push(person.email);
  });
  imports = [];
  lines = [];
});
afterEach(async () => {
  await feed?.stop();
  feed = undefined;
  await rm(work, { recursive: true, force: true });
});

function startFeed(options: { watch?: boolean; pollMs?: number; debounceMs?: number } = {}) {
  feed = new HrFileFeed({
    file,
    directory,
    clock: fixedClock('2026-12-07T09:00:00.000Z'),
    logger: createLogger({ level: 'info', write: (line) => lines.push(line) }),
    debounceMs: options.debounceMs ?? 50,
    pollMs: options.pollMs ?? 60_000,
    watch: options.watch ?? true,
    onImport: (result) => imports.push(result),
  });
  return feed.start();
}

describe('HrFileFeed', () => {
  it('imports everyone at start, then a row marked left as a departure, heard through the watch', async () => {
    expect(await startFeed()).toEqual({ people: 3, applied: 3, departed: 0, missing: 0 });
    expect((await directory.list()).map((person) => person.email).sort()).toEqual([
      'ada@example.com',
      'bo@example.com',
      'cy@example.com',
    ]);
    await writeFile(file, csv(ADA, 'bo@example.com,Bo R,payments,left,2026-12-06', CY));
    await vi.waitFor(async () => expect((await directory.find('bo@example.com'))?.status).toBe('deprovisioned'), {
      timeout: 5_000,
    });
    await feed!.idle();
    expect(departures).toEqual(['bo@example.com']);
    // Only Bo's row changed: one row applied.
    expect(imports.at(-1)).toEqual({ people: 3, applied: 1, departed: 1, missing: 0 });
    expect((await directory.find('bo@example.com'))?.statusChangedAt).toBe('2026-12-06T00:00:00.000Z');
  });

  it('hears a change through the periodic check alone when nothing watches', async () => {
    await startFeed({ watch: false, pollMs: 100 });
    await writeFile(file, csv(ADA, BO, 'cy@example.com,Cy T,data,suspended,'));
    await vi.waitFor(async () => expect((await directory.find('cy@example.com'))?.status).toBe('suspended'), {
      timeout: 5_000,
    });
    expect(departures).toEqual(['cy@example.com']);
  });

  it('reads a burst of writes once, and a rewrite of the same content not at all', async () => {
    await startFeed({ debounceMs: 300 });
    const before = imports.length;
    for (const status of ['active', 'suspended', 'active', 'left'])
      await writeFile(file, csv(ADA, `bo@example.com,Bo R,payments,${status},2026-12-06`, CY));
    await vi.waitFor(() => expect(imports.length).toBe(before + 1), { timeout: 5_000 });
    await feed!.idle();
    expect(departures).toEqual(['bo@example.com']);
    // The same bytes again: no import.
    await writeFile(file, csv(ADA, 'bo@example.com,Bo R,payments,left,2026-12-06', CY));
    await new Promise((wake) => setTimeout(wake, 600));
    await feed!.idle();
    expect(imports.length).toBe(before + 1);
  });

  it('leaves a person whose row disappeared alone, and logs it', async () => {
    await startFeed();
    await writeFile(file, csv(ADA, CY));
    await vi.waitFor(() => expect(imports.at(-1)).toMatchObject({ people: 2, missing: 1 }), { timeout: 5_000 });
    expect(imports.at(-1)).toMatchObject({ applied: 0, departed: 0 });
    expect((await directory.find('bo@example.com'))?.status).toBe('active');
    expect(lines.join('\n')).toContain('missing from it; not offboarded');
  });

  it('keeps the last import when the file does not parse, and takes the fixed file', async () => {
    await startFeed();
    await writeFile(file, `${HEADER}\nbo@example.com,Bo R,payments,retired-ish,\n`);
    await vi.waitFor(() => expect(lines.join('\n')).toContain('hr file not imported; the last import stands'), {
      timeout: 5_000,
    });
    expect((await directory.find('bo@example.com'))?.status).toBe('active');
    await writeFile(file, csv(ADA, 'bo@example.com,Bo R,payments,left,2026-12-06', CY));
    await vi.waitFor(async () => expect((await directory.find('bo@example.com'))?.status).toBe('deprovisioned'), {
      timeout: 5_000,
    });
  });

  it('starts without a file, logging it, and imports it once it appears', async () => {
    await rm(file);
    expect(await startFeed({ pollMs: 100 })).toBeUndefined();
    expect(lines.join('\n')).toContain('hr file not imported');
    await writeFile(file, csv(ADA));
    await vi.waitFor(async () => expect((await directory.find('ada@example.com'))?.status).toBe('active'), {
      timeout: 5_000,
    });
  });
});
